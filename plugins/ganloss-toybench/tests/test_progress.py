"""Progress with tqdm: a bar in a terminal, lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io

from ganloss_toybench.progress import Progress


def test_not_a_terminal_gets_a_line_every_interval_and_at_the_end():
    stream = io.StringIO()  # isatty() is False
    progress = Progress(10, stream=stream, interval=3600.0)
    for done in range(1, 11):
        progress.update(done, {"d": 1.23456, "g": 0.5})
    progress.close()
    # the interval has not passed before the last step: one line, for the end
    (line,) = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert line.startswith("100%|##########| 10/10 [")
    assert line.endswith("step/s, d=1.235, g=0.500]")


def test_lines_every_interval():
    stream = io.StringIO()
    progress = Progress(4, stream=stream, interval=0.0)
    for done in range(1, 5):
        progress.update(done)
    assert [line.split("|")[0] for line in stream.getvalue().splitlines()] == [
        " 25%",
        " 50%",
        " 75%",
        "100%",
    ]


def test_a_terminal_gets_a_bar_redrawn_in_place():
    stream = io.StringIO()
    progress = Progress(10, stream=stream, terminal=True)
    progress.update(5, {"d": 1.0})
    progress.update(10, {"d": 0.5})
    progress.close()
    out = stream.getvalue()
    assert out.startswith("\r") and out.endswith("\n")
    assert out.count("\n") == 1  # one line, redrawn with carriage returns
    assert "10/10" in out.rsplit("\r", 1)[-1] and "d=0.500" in out

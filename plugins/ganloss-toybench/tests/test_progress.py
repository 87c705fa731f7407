"""The progress bar."""

from __future__ import annotations

import io

from ganloss_toybench.progress import ProgressBar


def test_render_shows_steps_rate_time_left_and_losses():
    bar = ProgressBar(100, enabled=True, width=10, stream=io.StringIO())
    # 40 steps in 2 s: 20 it/s, 60 steps left = 3 s.
    text = bar.render(40, 2.0, {"d": 1.23456, "g": 0.5})
    assert text.startswith("[####......]   40/100")
    assert "20 it/s" in text and "0:03 left" in text
    assert text.endswith("d 1.235  g 0.500")


def test_not_a_terminal_draws_nothing():
    stream = io.StringIO()  # isatty() is False
    bar = ProgressBar(10, stream=stream)
    bar.update(5, {"d": 1.0})
    bar.close()
    assert stream.getvalue() == ""


def test_redraws_in_place_and_ends_the_line():
    stream = io.StringIO()
    bar = ProgressBar(10, stream=stream, enabled=True, interval=0.0)
    bar.update(5)
    bar.update(10)
    bar.close()
    out = stream.getvalue()
    assert out.count("\r") == 2 and out.endswith("\n")
    assert "10/10" in out.splitlines()[-1]

"""The PNG writer and the canvas, read back with an independent decoder."""

from __future__ import annotations

import pytest
from _toybench_png import read_png
from ganloss_toybench.figure import draw_figure, nice_ticks
from ganloss_toybench.png import Canvas, encode_png


def test_encoded_pixels_read_back():
    # 2 x 2: red, green / blue, white, row by row from the top.
    rgb = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    width, height, rows = read_png(encode_png(2, 2, rgb))
    assert (width, height) == (2, 2)
    assert rows == [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (255, 255, 255)]]


def test_wrong_buffer_size_is_refused():
    with pytest.raises(ValueError, match="expected 12 bytes"):
        encode_png(2, 2, bytes(11))


def test_canvas_primitives():
    c = Canvas(10, 8)
    c.line(0, 0, 9, 0, (1, 2, 3))  # the whole top row
    c.rect(2, 2, 3, 3, (9, 9, 9))  # a 2 x 2 block, corners included
    c.point(20, 20, (7, 7, 7))  # outside: ignored
    _, _, rows = read_png(c.to_png())
    assert rows[0] == [(1, 2, 3)] * 10
    assert [rows[y][x] for y in (2, 3) for x in (2, 3)] == [(9, 9, 9)] * 4
    assert rows[4][4] == (255, 255, 255)


def test_text_draws_the_glyph():
    # "1" is 00100 in its first row: one pixel, at column 2.
    c = Canvas(6, 7)
    assert c.text(0, 0, "1", (0, 0, 0)) == 6
    assert [c.pixel(x, 0) for x in range(5)] == [(255, 255, 255)] * 2 + [(0, 0, 0)] + [
        (255, 255, 255)
    ] * 2


def test_nice_ticks():
    # 12000 / 5 = 2400 per tick, rounded up to 5 x 10^3; 0.7 / 5 = 0.14, up to 2 x 10^-1.
    assert nice_ticks(0, 12000) == [0, 5000, 10000]
    assert nice_ticks(0.2, 0.9) == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert nice_ticks(1.0, 1.0) == []


def test_figure_marks_centres_and_samples(tmp_path):
    path = tmp_path / "fig.png"
    canvas = draw_figure(
        path,
        samples=[(0.0, 0.0), (1.0, 1.0)],
        high_quality=[True, False],
        centres=[(-1.0, -1.0), (1.0, -1.0)],
        std=0.05,
        curves={"disc total": [1.0, 0.5, 0.25], "gen total": [0.1, 0.2, 0.3]},
        steps=[0.5, 1.5, 2.5],
        title="test",
    )
    width, height, rows = read_png(path.read_bytes())
    assert (width, height) == (canvas.width, canvas.height)
    colours = {pixel for row in rows for pixel in row}
    assert (31, 119, 180) in colours  # a high-quality sample
    assert (255, 127, 14) in colours  # a low-quality one
    assert (214, 39, 40) in colours  # mode centres

"""The toybench figure: generated samples over the mode centres, and the loss curves."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from .png import Canvas, Color

__all__ = ["COLORS", "draw_figure", "nice_ticks"]

WIDTH, HEIGHT = 1120, 560
INK: Color = (40, 40, 40)
FRAME: Color = (150, 150, 150)
COLORS: dict[str, Color] = {
    "high_quality": (31, 119, 180),  # blue
    "low_quality": (255, 127, 14),  # orange
    "centre": (214, 39, 40),  # red
}
_SERIES: tuple[Color, ...] = (
    (214, 39, 40),
    (31, 119, 180),
    (44, 160, 44),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
)


def draw_figure(
    path: str | Path,
    *,
    samples: Sequence[tuple[float, float]],
    high_quality: Sequence[bool],
    centres: Sequence[tuple[float, float]],
    std: float,
    curves: Mapping[str, Sequence[float]],
    steps: Sequence[float],
    title: str,
) -> Canvas:
    """Draw and save the figure as a PNG; return the canvas.

    Left: ``samples`` (blue when within :math:`3\\sigma` of their nearest
    mode, orange otherwise), the mode centres (red crosses) with their
    :math:`3\\sigma` circles. Right: each series of ``curves`` (name -> values
    at ``steps``), in its own colour, with a legend.
    """
    canvas = Canvas(WIDTH, HEIGHT)
    canvas.text(20, 14, title, INK, scale=2)
    _draw_samples(canvas, (60, 60, 500, 500), samples, high_quality, centres, std)
    _draw_curves(canvas, (620, 60, 1100, 500), curves, steps)
    canvas.save(path)
    return canvas


def _draw_samples(
    canvas: Canvas,
    box: tuple[int, int, int, int],
    samples: Sequence[tuple[float, float]],
    high_quality: Sequence[bool],
    centres: Sequence[tuple[float, float]],
    std: float,
) -> None:
    x0, y0, x1, y1 = box
    xs = [c[0] for c in centres]
    ys = [c[1] for c in centres]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    half = span * 0.65
    mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    lo_x, lo_y = mx - half, my - half
    unit = (x1 - x0) / (2 * half)  # pixels per data unit, the same on both axes

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + (x - lo_x) * unit, y1 - (y - lo_y) * unit

    canvas.rect(x0, y0, x1, y1, FRAME, fill=False)
    for tick in range(math.ceil(lo_x), math.floor(lo_x + 2 * half) + 1):
        if tick % (1 if half < 3 else 2):
            continue
        tx, _ = px(tick, lo_y)
        canvas.line(tx, y1, tx, y1 + 4, FRAME)
        label = str(tick)
        canvas.text(int(tx) - Canvas.text_width(label) // 2, y1 + 8, label, INK)
        _, ty = px(lo_x, tick)
        canvas.line(x0 - 4, ty, x0, ty, FRAME)
        canvas.text(x0 - 8 - Canvas.text_width(label), int(ty) - 3, label, INK)
    for (x, y), good in zip(samples, high_quality):
        sx, sy = px(x, y)
        if x0 < sx < x1 and y0 < sy < y1:
            canvas.dot(sx, sy, COLORS["high_quality" if good else "low_quality"])
    radius = 3 * std * unit
    for cx, cy in centres:
        sx, sy = px(cx, cy)
        canvas.circle(sx, sy, max(radius, 2.0), COLORS["centre"])
        canvas.line(sx - 3, sy - 3, sx + 3, sy + 3, COLORS["centre"])
        canvas.line(sx - 3, sy + 3, sx + 3, sy - 3, COLORS["centre"])
    caption_y = y1 + 24
    x = canvas.text(x0, caption_y, "samples: ", INK)
    x = canvas.text(x, caption_y, "within 3 std", COLORS["high_quality"])
    x = canvas.text(x, caption_y, ", ", INK)
    x = canvas.text(x, caption_y, "outside", COLORS["low_quality"])
    x = canvas.text(x, caption_y, "; modes and 3 std circles ", INK)
    canvas.text(x, caption_y, "x", COLORS["centre"])


def _draw_curves(
    canvas: Canvas,
    box: tuple[int, int, int, int],
    curves: Mapping[str, Sequence[float]],
    steps: Sequence[float],
) -> None:
    x0, y0, x1, y1 = box
    canvas.rect(x0, y0, x1, y1, FRAME, fill=False)
    values = sorted(v for series in curves.values() for v in series if math.isfinite(v))
    if not values or not steps:
        canvas.text(x0 + 10, y0 + 10, "no losses recorded", INK)
        return
    # Robust limits: the 1st and 99th percentiles, padded, so a spike does not
    # flatten the rest; room at the top for the legend.
    lo = values[int(0.01 * (len(values) - 1))]
    hi = values[int(0.99 * (len(values) - 1))]
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    legend_height = 12 * len(curves) + 12
    span = hi - lo
    lo -= 0.05 * span
    hi += 0.05 * span + span * legend_height / max(y1 - y0 - legend_height, 1)
    last = max(steps[-1], 1.0)

    def px(step: float, value: float) -> tuple[float, float]:
        value = min(max(value, lo), hi)
        return x0 + step / last * (x1 - x0), y1 - (value - lo) / (hi - lo) * (y1 - y0)

    for tick in nice_ticks(lo, hi):
        _, ty = px(0, tick)
        canvas.line(x0 - 4, ty, x0, ty, FRAME)
        label = f"{tick:g}"
        canvas.text(x0 - 8 - Canvas.text_width(label), int(ty) - 3, label, INK)
    for tick in nice_ticks(0, last):
        tx, _ = px(tick, lo)
        canvas.line(tx, y1, tx, y1 + 4, FRAME)
        label = f"{tick:g}"
        canvas.text(int(tx) - Canvas.text_width(label) // 2, y1 + 8, label, INK)
    canvas.text(x1 - Canvas.text_width("step"), y1 + 24, "step", INK)
    legend_y = y0 + 8
    for index, (name, series) in enumerate(curves.items()):
        color = _SERIES[index % len(_SERIES)]
        points = [px(s, v) for s, v in zip(steps, series) if math.isfinite(v)]
        canvas.polyline(points, color)
        canvas.rect(x0 + 10, legend_y + 2, x0 + 16, legend_y + 6, color)
        canvas.text(x0 + 22, legend_y, name, color)
        legend_y += 12


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values in ``[lo, hi]`` (steps of 1, 2 or 5 times a power of 10).

    Example:
        >>> nice_ticks(0, 12000)
        [0, 5000, 10000]
        >>> nice_ticks(-0.1, 1.4)
        [0.0, 0.5, 1.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step)
    ticks: list[float] = []
    k = start
    while k * step <= hi + 1e-9 * step:
        ticks.append(round(k * step, 12))
        k += 1
    return ticks

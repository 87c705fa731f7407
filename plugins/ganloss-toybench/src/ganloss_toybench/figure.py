"""The toybench figure, drawn with matplotlib (Agg): PNG and PDF.

Four panels: the data and the generated samples side by side on the same
axes (points for the 2-D mixtures, a grid of images for the digits), the loss
curves (on a log scale when they are positive and span two decades or more)
and the histogram of the samples over the modes beside the uniform one.

Everything is drawn from the result file and the ``.npz`` written beside it,
so :func:`replot` redraws a result without training again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["draw_figure", "image_grid", "loss_series", "replot", "wants_log_scale"]

HIGH_QUALITY, LOW_QUALITY, CENTRE = "tab:blue", "tab:orange", "tab:red"


def draw_figure(
    stem: str | Path, record: Mapping[str, Any], arrays: Mapping[str, Any]
) -> list[Path]:
    """Draw ``<stem>.png`` and ``<stem>.pdf`` from a result ``record`` and its ``arrays``.

    ``arrays`` holds ``real`` and ``samples`` (``(N, 2)`` points, or
    ``(N, C, 8, 8)`` images in [-1, 1] or as ``uint8`` from 0 to 255), and for
    points ``centres``, ``std`` and ``high_quality`` (one bool per sample).
    Returns the paths written.
    """
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: no display, the same files everywhere
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 9.5), layout="constrained")
    real, samples = np.asarray(arrays["real"]), np.asarray(arrays["samples"])
    if samples.ndim == 2:
        _points(axes[0, 0], axes[0, 1], real, samples, arrays, record)
    else:
        axes[0, 0].imshow(image_grid(real), interpolation="nearest", cmap="gray")
        axes[0, 1].imshow(image_grid(samples), interpolation="nearest", cmap="gray")
        for ax, what in ((axes[0, 0], "data"), (axes[0, 1], "generated")):
            ax.set_title(f"{what}: {min(len(real if what == 'data' else samples), 100)} images")
            ax.set_axis_off()
    _curves(axes[1, 0], record)
    _histogram(axes[1, 1], record)
    figure.suptitle(_title(record))
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    for path in paths:
        figure.savefig(path, dpi=100)
    plt.close(figure)
    return paths


def replot(json_path: str | Path) -> list[Path]:
    """Redraw the figure of a result file from it and the ``.npz`` beside it."""
    path = Path(json_path)
    record = json.loads(path.read_text(encoding="utf-8"))
    with np.load(path.with_suffix(".npz")) as arrays:
        return draw_figure(path.with_suffix(""), record, dict(arrays))


def image_grid(images: Any, columns: int = 10) -> Any:
    """Up to ``columns ** 2`` images ``(N, C, H, W)`` in [-1, 1] tiled, one pixel apart, in
    [0, 1]: ``(rows * (H + 1) - 1, columns * (W + 1) - 1)``, with a last axis of 3 for RGB.

    Example:
        >>> image_grid(np.zeros((3, 1, 8, 8)), columns=2).shape
        (17, 17)
    """
    images = np.asarray(images)[: columns * columns]
    if images.dtype == np.uint8:
        images = images / 255.0
    else:
        images = np.clip((images.astype(np.float32) + 1) / 2, 0, 1)
    n, channels, height, width = images.shape
    rows = math.ceil(n / columns)
    grid = np.ones((rows * (height + 1) - 1, columns * (width + 1) - 1, channels), np.float32)
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        grid[top : top + height, left : left + width] = image.transpose(1, 2, 0)
    return grid[..., 0] if channels == 1 else grid


def wants_log_scale(series: Sequence[Sequence[float]]) -> bool:
    """Whether curves should be drawn on a log scale: all values positive, spanning >= 100x.

    Example:
        >>> wants_log_scale([[1.0, 0.5], [0.004]]), wants_log_scale([[1.0, -0.5, 100.0]])
        (True, False)
    """
    values = [v for s in series for v in s if v is not None and math.isfinite(v)]
    return bool(values) and min(values) > 0 and max(values) >= 100 * min(values)


def loss_series(record: Mapping[str, Any]) -> dict[str, list[float]]:
    """The curves to draw: each phase's total, and its terms when it has more than one."""
    series: dict[str, list[float]] = {}
    for phase in ("disc", "gen"):
        curves = dict(record["curves"].get(phase, {}))
        total = curves.pop("loss", None)
        if total is not None:
            series[f"{phase} total"] = total
        if len(curves) > 1 or total is None:
            series.update({f"{phase} {key}": values for key, values in curves.items()})
    return {name: [math.nan if v is None else v for v in values] for name, values in series.items()}


def _points(ax_real: Any, ax_fake: Any, real: Any, samples: Any, arrays: Any, record: Any) -> None:
    centres = np.asarray(arrays["centres"])
    high = np.asarray(arrays["high_quality"], dtype=bool)
    # the axes follow the data: the real samples' extent and a margin, the same for both panels
    low, high_corner = real.min(axis=0), real.max(axis=0)
    margin = 0.15 * float((high_corner - low).max())
    limits = list(zip(low - margin, high_corner + margin))
    std = float(arrays["std"]) if "std" in arrays else None
    for ax, title in ((ax_real, "data"), (ax_fake, "generated")):
        if title == "data":
            ax.scatter(*real.T, s=2, color="tab:gray", label=f"{len(real)} data samples")
        else:
            ax.scatter(*samples[high].T, s=2, color=HIGH_QUALITY, label="within 3σ of a mode")
            ax.scatter(*samples[~high].T, s=2, color=LOW_QUALITY, label="farther")
            outside = int((~_inside(samples, limits)).sum())
            title = f"generated ({outside} of {len(samples)} outside the frame)"
        ax.scatter(*centres.T, marker="x", color=CENTRE, s=30, label="modes")
        if std:
            for x, y in centres:
                ax.add_patch(_circle((x, y), 3 * std))
        ax.set(xlim=limits[0], ylim=limits[1], aspect="equal", title=title)
        ax.legend(loc="upper right", fontsize="small", markerscale=3)


def _inside(samples: Any, limits: Sequence[tuple[float, float]]) -> Any:
    (x0, x1), (y0, y1) = limits
    x, y = samples[:, 0], samples[:, 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _circle(centre: tuple[float, float], radius: float) -> Any:
    from matplotlib.patches import Circle

    return Circle(centre, radius, fill=False, color=CENTRE, linewidth=0.6)


def _curves(ax: Any, record: Mapping[str, Any]) -> None:
    series = loss_series(record)
    steps = record["curves"]["step"]
    for name, values in series.items():
        ax.plot(steps, values, label=name, linewidth=1)
    if wants_log_scale(list(series.values())):
        ax.set_yscale("log")
    ax.set(xlabel="generator step", ylabel="loss (mean over a window of steps)")
    ax.set_title("losses")
    if series:
        ax.legend(fontsize="small")


def _histogram(ax: Any, record: Mapping[str, Any]) -> None:
    metrics = record["metrics"]
    counts = np.asarray(metrics["counts"], dtype=np.float64)
    ax.stairs(counts, np.arange(len(counts) + 1) - 0.5, fill=True, color=HIGH_QUALITY)
    counted = counts.sum()
    if counted:
        ax.axhline(counted / len(counts), color=CENTRE, linewidth=1, label="uniform")
        ax.legend(fontsize="small")
    what = "samples" if "frechet_distance" in metrics else "high-quality samples"
    ax.set(xlabel="mode", ylabel=what, xlim=(-0.5, len(counts) - 0.5))
    ax.set_title(f"{what} per mode: {metrics['modes']} of {metrics['num_modes']} modes")


def _title(record: Mapping[str, Any]) -> str:
    m = record["metrics"]
    kl = "-" if m["reverse_kl"] is None else f"{m['reverse_kl']:.3f}"
    parts = [
        f"{record['dataset']} seed {record['seed']}, {record['steps']} steps:",
        f"{m['modes']}/{m['num_modes']} modes, {100 * m['high_quality']:.1f}% high quality,",
        f"reverse KL {kl}",
    ]
    if "frechet_distance" in m:
        parts.append(f", Fréchet distance {m['frechet_distance']:.2f}")
    return " ".join(parts).replace(" ,", ",")

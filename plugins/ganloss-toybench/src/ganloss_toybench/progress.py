"""A one-line progress bar on stderr: steps, steps/s, time left and live losses.

Redrawn in place with a carriage return at most ten times a second, so it
costs nothing next to a training step. Off when the stream is not a terminal
(a log file gets the summary only).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """``[#########.......]  4000/12000  3010 it/s  0:03 left  d 1.234  g 0.876``.

    Args:
        total: steps of the run.
        stream: where to draw (default ``sys.stderr``).
        enabled: ``None`` draws only when ``stream`` is a terminal.
        width: characters of the bar itself.
        interval: seconds between redraws.
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 24,
        interval: float = 0.1,
    ) -> None:
        self.total = max(total, 1)
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.width = width
        self.interval = interval
        self._start = time.perf_counter()
        self._last_draw = self._start  # the first draw after one interval, with a meaningful rate
        self._drawn = 0

    def update(self, step: int, losses: dict[str, float] | None = None) -> None:
        """Record that ``step`` steps are done; redraw if the interval has passed."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if step < self.total and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(step, now - self._start, losses or {})

    def close(self) -> None:
        """End the line the bar was drawn on."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()

    def render(self, step: int, elapsed: float, losses: dict[str, float]) -> str:
        """The bar's text for ``step`` steps done in ``elapsed`` seconds."""
        done = min(max(step, 0), self.total)
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else 0.0
        parts = [
            f"[{bar}]",
            f"{done:>{len(str(self.total))}}/{self.total}",
            f"{rate:6.0f} it/s",
            f"{_clock(left)} left",
        ]
        parts += [f"{name} {value:.3f}" for name, value in losses.items()]
        return "  ".join(parts)

    def _draw(self, step: int, elapsed: float, losses: dict[str, float]) -> None:
        text = self.render(step, elapsed, losses)
        pad = " " * max(self._drawn - len(text), 0)  # wipe a longer previous line
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._drawn = len(text)


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False

"""Progress on stderr with tqdm: a bar in a terminal, a line every few seconds otherwise.

A log file or a CI console gets a plain line (tqdm's own meter, no carriage
returns) at most every ``LINE_INTERVAL`` seconds and at the end, instead of a
bar redrawn in place.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TextIO

from tqdm import tqdm

__all__ = ["LINE_INTERVAL", "Progress"]

#: Seconds between two lines when the stream is not a terminal.
LINE_INTERVAL = 5.0


class Progress:
    """Steps done, rate, time left and live losses (``d``, ``g``) of a run of ``total`` steps.

    Args:
        total: steps of the run.
        stream: where to write (default ``sys.stderr``).
        terminal: draw a bar (``True``) or write lines (``False``); ``None``:
            a bar when ``stream`` is a terminal.
        interval: seconds between lines when not a terminal.
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        interval: float = LINE_INTERVAL,
    ) -> None:
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        if terminal is None:
            terminal = _is_terminal(self.stream)
        self.interval = interval
        self._bar = (
            tqdm(total=total, file=self.stream, unit="step", dynamic_ncols=True, leave=True)
            if terminal
            else None
        )
        self._start = self._last_line = time.perf_counter()
        self._done = 0

    def update(self, done: int, losses: Mapping[str, float] | None = None) -> None:
        """Record that ``done`` steps are finished; ``losses`` are shown beside."""
        postfix = {name: f"{value:.3f}" for name, value in (losses or {}).items()}
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix(postfix, refresh=False)
            self._bar.update(done - self._done)
            self._done = done
            return
        self._done = done
        now = time.perf_counter()
        if done >= self.total or now - self._last_line >= self.interval:
            self._last_line = now
            meter = tqdm.format_meter(
                done, self.total, now - self._start, unit="step", ascii=True, postfix=_text(postfix)
            )
            print(meter, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _text(postfix: Mapping[str, str]) -> str | None:
    return ", ".join(f"{k}={v}" for k, v in postfix.items()) or None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False

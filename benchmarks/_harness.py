"""What every benchmark shares: interleaved timing, ratios with their spread, tables.

The machine these run on is shared and noisy, so no absolute time is
trusted on its own. Every figure is a ratio against a baseline run in the
same process: each *round* times one short block of every variant, in a
freshly shuffled order, and the ratio is taken within the round, so a slow
patch of the machine slows both sides of it. The reported value is the
median over rounds, with the interquartile range of the per-round values as
its spread.

CPU-bound benchmarks run torch on one intra-op thread and read the
process's CPU time (:func:`time.process_time`): time the scheduler gives to
other processes on a shared machine is then not counted, while every
instruction of the step is (on one thread, the autograd engine runs CPU
backward passes on the calling thread). Benchmarks that wait (subprocesses,
collectives) read the wall clock (:func:`time.perf_counter`) instead.

Imported by the scripts beside it as ``_harness`` (their folder is
``sys.path[0]`` when run as ``python benchmarks/<name>.py``); it needs only
the standard library, so discovery benchmarks can use it without torch.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Step = Callable[[int], object]


@dataclass(frozen=True)
class Spread:
    """The median of per-round values and their interquartile range."""

    median: float
    low: float  # 25th percentile
    high: float  # 75th percentile
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        ordered = sorted(values)
        if len(ordered) == 1:
            return cls(ordered[0], ordered[0], ordered[0], 1)
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        return cls(statistics.median(ordered), q1, q3, len(ordered))

    def fmt(self, unit: Callable[[float], str] = lambda v: f"{v:.3f}") -> str:
        if self.rounds == 1:
            return unit(self.median)
        return f"{unit(self.median)} [{unit(self.low)}, {unit(self.high)}]"


def fmt_ratio(value: float) -> str:
    return f"{value:.3f}"


def fmt_seconds(value: float) -> str:
    """A duration in the unit that keeps three significant figures readable."""
    magnitude = abs(value)
    if magnitude >= 1.0:
        return f"{value:.2f} s"
    if magnitude >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def fmt_us(value: float) -> str:
    return f"{value * 1e6:.2f}"


def fmt_bytes(value: float) -> str:
    return f"{value / 2**20:.2f} MiB"


class Timings:
    """Seconds per step, per variant, per round."""

    def __init__(self, names: Sequence[str]) -> None:
        self.per_round: dict[str, list[float]] = {name: [] for name in names}

    def spread(self, name: str) -> Spread:
        return Spread.of(self.per_round[name])

    def ratio(self, name: str, baseline: str) -> Spread:
        """``name / baseline``, taken within each round, then summarised."""
        pairs = zip(self.per_round[name], self.per_round[baseline])
        return Spread.of([a / b for a, b in pairs])

    def difference(self, name: str, baseline: str, per: float = 1.0) -> Spread:
        """``(name - baseline) / per`` in seconds, taken within each round."""
        pairs = zip(self.per_round[name], self.per_round[baseline])
        return Spread.of([(a - b) / per for a, b in pairs])

    def as_json(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.per_round.items()}


def time_interleaved(
    variants: Mapping[str, Step],
    *,
    rounds: int,
    steps: int,
    warmup_rounds: int = 2,
    seed: int = 0,
    between_blocks: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.process_time,
) -> Timings:
    """Time ``steps`` calls ``step(i)`` (``i = 0 .. steps-1``) of every variant, per round.

    Each variant gets the same iteration indices, so a lazy regularizer
    (``interval``) runs equally often in all of them. The garbage collector
    is off inside a block (as in :mod:`timeit`); the youngest generation is
    collected between blocks. The order of each round is a shuffle seeded
    by ``seed``, so processes given the same seed agree on it (distributed
    ranks must). ``clock`` is CPU time unless the caller waits on something
    else (then :func:`time.perf_counter`).
    """
    names = list(variants)
    timings = Timings(names)
    shuffle = random.Random(seed).shuffle
    for round_index in range(warmup_rounds + rounds):
        sequence = list(names)
        shuffle(sequence)
        for name in sequence:
            step = variants[name]
            if between_blocks is not None:
                between_blocks()
            gc.collect(0)  # a full collection here would cost far more than a block
            gc.disable()
            try:
                start = clock()
                for i in range(steps):
                    step(i)
                elapsed = clock() - start
            finally:
                gc.enable()
            if round_index >= warmup_rounds:
                timings.per_round[name].append(elapsed / steps)
    return timings


# -- command line and report ------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes; a script adds its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a smoke run: tiny sizes, few rounds")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds (default per script)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: steadier on a shared machine)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write raw results here")
    return p


def set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)


def machine() -> str:
    """One line naming what produced the numbers."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [
        f"{platform.system()} {platform.machine()}",
        cpu,
        f"{os.cpu_count()} logical CPUs",
        f"Python {platform.python_version()}",
    ]
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        threads = torch.get_num_threads()
        parts.append(f"torch {torch.__version__} ({threads} thread{'s' * (threads != 1)})")
    else:  # a launcher that does not import torch itself
        from importlib.metadata import PackageNotFoundError, version

        try:
            parts.append(f"torch {version('torch')}")
        except PackageNotFoundError:
            pass
    try:
        load = os.getloadavg()[0]
        parts.append(f"load {load:.2f}")
    except OSError:
        pass
    return ", ".join(parts)


def header(title: str, command: str, notes: Sequence[str] = ()) -> str:
    lines = [
        f"## {title}",
        "",
        f"`{command}` — {datetime.date.today().isoformat()}; {machine()}.",
    ]
    lines += ["", *notes] if notes else []
    return "\n".join(lines)


def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def command_line(script: str) -> str:
    """The command that is running, as a reader would type it."""
    return shlex.join(["python", f"benchmarks/{script}", *sys.argv[1:]])


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(rows: Sequence[Sequence[Any]]) -> str:
    """A report's closing section: each figure, what it measured, its target, and whether met.

    A row is ``[figure, measured, target, met]``; ``met`` is a bool, or a
    string that stands as is (``"—"`` for a figure that is only reported).
    """
    verdicts = [[*row[:3], row[3] if isinstance(row[3], str) else verdict(row[3])] for row in rows]
    return "\n### Targets\n\n" + table(["figure", "measured", "target", "verdict"], verdicts)


def write_json(path: Path | None, data: Mapping[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

"""The bodies of the ranks in test_distributed.py (a module of its own, so spawn can import it).

:func:`every_scenario` runs each scenario in turn on one process group and
returns, per scenario, ``(status, payload, collectives)``: ``"ok"`` and the
log values, or the exception's type name and message; ``collectives`` counts
the ``all_reduce`` calls of that scenario. Every scenario that fails must fail
on every rank after the same collectives, so the next one starts paired.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any


def crc_colliding_names() -> tuple[str, str]:
    """Two extra loss names whose logged key sets (11 shared keys) have equal CRC-32s.

    A birthday search over random names (names that differ in a few trailing
    characters never collide: CRC-32 detects every burst of up to 32 bits).
    """
    import random

    base = ["loss", *(f"loss_term_{i}" for i in range(11))]  # the logged keys, total included
    draw = random.Random(0)
    seen: dict[int, str] = {}
    for _ in range(2_000_000):
        name = f"loss_extra_{draw.getrandbits(64):016x}"
        crc = zlib.crc32("\0".join(sorted([*base, name])).encode())
        if crc in seen and seen[crc] != name:
            return seen[crc], name
        seen[crc] = name
    raise AssertionError("no collision found")  # pragma: no cover


def _aggregator(names, *, interval=1, **kwargs):
    from _losses import ShiftLoss

    from ganlosscore import build_aggregator

    configs = [
        {"type": ShiftLoss, "loss_name": n, "data_info": {"pred": "p"}, "interval": interval}
        for n in names
    ]
    return build_aggregator(configs, **kwargs)


def _inputs(rank: int, **extra: Any) -> dict[str, Any]:
    import torch

    # rank r predicts r + 1: each term is (r + 1) ** 2, i.e. 1 and 4, mean 2.5
    return {"p": torch.tensor([float(rank + 1)]), **extra}


TERMS = [f"loss_term_{i}" for i in range(12)]


def same(rank: int) -> Any:
    return _aggregator(TERMS)(_inputs(rank, iteration=1)).log_vars


def keys(rank: int) -> Any:
    names = list(TERMS)
    if rank == 1:
        names[3] = "loss_only_on_rank_1"
    return _aggregator(names)(_inputs(rank, iteration=1)).log_vars


def collision(rank: int) -> Any:
    names = [*TERMS[:11], crc_colliding_names()[rank]]
    return _aggregator(names)(_inputs(rank, iteration=1)).log_vars


def count(rank: int) -> Any:
    names = [*TERMS, "loss_term_12"] if rank == 1 else TERMS
    return _aggregator(names)(_inputs(rank, iteration=1)).log_vars


def buffer_size(rank: int) -> Any:
    # before the header, gloo aborted the process: "Received data size doesn't match"
    return _aggregator(TERMS, max_log_vars=64 if rank == 0 else 32)(_inputs(rank)).log_vars


def overflow(rank: int) -> Any:
    return _aggregator(TERMS, max_log_vars=8)(_inputs(rank, iteration=1)).log_vars


def step(rank: int) -> Any:
    # rank 1 skipped iteration 1: rank 0 reads step 1, rank 1 step 2 (once averaged: 11.5)
    return _aggregator(TERMS)(_inputs(rank, iteration=1 + rank)).log_vars


def skipped_aggregation(rank: int) -> Any:
    # no iteration in the outputs: the aggregators' counts of aggregations tell them apart
    aggregator = _aggregator(TERMS, nonfinite="ignore")
    result = None
    for _ in range(1 + rank):
        result = aggregator(_inputs(rank))
    return result.log_vars


def every_loss_skipped(rank: int) -> Any:
    result = _aggregator(TERMS, interval=2)(_inputs(rank, iteration=1))
    result.total.backward()  # a zero that backward() accepts
    return result.log_vars


def lazy_reads(rank: int) -> Any:
    # under "defer" a step whose log values nobody reads makes no collective
    aggregator = _aggregator(TERMS, nonfinite="defer")
    results = [aggregator(_inputs(rank, iteration=i)) for i in range(3)]
    return results[-1].log_vars


def nan_on_one_rank(rank: int) -> Any:
    import torch

    aggregator = _aggregator(TERMS[:2], nonfinite="defer")
    aggregator({"p": torch.tensor([float("nan") if rank == 0 else 1.0]), "iteration": 0})
    return aggregator(_inputs(rank, iteration=1)).log_vars


def sum_sizes(rank: int) -> Any:
    import torch

    from ganlosscore import sum_over_ranks

    return sum_over_ranks(torch.ones(2 + rank), where="loss_test").tolist()


SCENARIOS: dict[str, Callable[[int], Any]] = {
    "same": same,
    "keys": keys,
    "collision": collision,
    "count": count,
    "buffer_size": buffer_size,
    "overflow": overflow,
    "step": step,
    "skipped_aggregation": skipped_aggregation,
    "every_loss_skipped": every_loss_skipped,
    "lazy_reads": lazy_reads,
    "nan_on_one_rank": nan_on_one_rank,
    "sum_sizes": sum_sizes,
}


def every_scenario(rank: int, world: int) -> dict[str, tuple[str, Any, int]]:
    from ganlosscore.testing import count_collectives

    outcomes = {}
    for name, scenario in SCENARIOS.items():
        with count_collectives() as calls:
            try:
                outcomes[name] = ("ok", scenario(rank), len(calls))
            except Exception as exc:
                outcomes[name] = (type(exc).__name__, str(exc), len(calls))
    return outcomes

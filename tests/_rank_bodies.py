"""Bodies run on each rank by tests/test_multiprocess.py (importable by spawned ranks)."""

import os

import torch

from ganlosscore import ConfigError, sum_over_ranks


def summed(rank: int, world: int, scale: float) -> float:
    # rank r sends r * scale: the sum over 2 ranks is scale
    return float(sum_over_ranks(torch.tensor([rank * scale], dtype=torch.float64)).item())


def raises_on_rank_1(rank: int, world: int) -> int:
    if rank == 1:
        raise ConfigError("bad value", where="disc[0].gamma")
    return rank


def exits_on_rank_1(rank: int, world: int) -> int:
    if rank == 1:
        os._exit(3)
    return rank


def waits_alone_on_rank_0(rank: int, world: int) -> int:
    if rank == 0:  # a collective rank 1 never joins
        sum_over_ranks(torch.zeros(1))
    return rank

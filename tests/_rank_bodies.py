"""Bodies run on each rank by tests/test_multiprocess.py (importable by spawned ranks)."""

import os
import time

import torch
import torch.distributed as dist

from ganlosscore import ConfigError, sum_over_ranks
from ganlosscore.testing import count_collectives


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


def counted(rank: int, world: int) -> tuple[list[int], bool]:
    original = dist.all_reduce
    with count_collectives() as sizes:
        dist.all_reduce(torch.ones(3))
        sum_over_ranks(torch.ones(4))  # gloo: a size header [n, -n] first, then the 4 values
    dist.all_reduce(torch.ones(5))  # after the block: not counted
    return sizes, dist.all_reduce is original


# -- FSDP2 (tests/test_fsdp.py) -------------------------------------------------

FSDP_BATCH = 8


def fsdp_disc() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.Softplus(),
        torch.nn.Linear(8, 8),
        torch.nn.Softplus(),
        torch.nn.Linear(8, 1),
    )


def fsdp_batches() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    return torch.randn(FSDP_BATCH, 4), torch.randn(FSDP_BATCH, 4) + 1.0


def fsdp_losses(with_r1: bool) -> list[dict]:
    configs: list[dict] = [
        {
            "type": "DiscAdversarialLoss",
            "gan_type": "ns",
            "data_info": {"pred_real": "pred_real", "pred_fake": "pred_fake"},
        },
        {"type": "DiscShiftLoss", "loss_weight": 0.1, "data_info": {"pred": "pred_real"}},
    ]
    if with_r1:
        configs.append(
            {
                "type": "R1GradientPenalty",
                "loss_weight": 5.0,
                "data_info": {"discriminator": "disc", "real_data": "real"},
            }
        )
    return configs


def disc_step(disc: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, with_r1: bool):
    """One discriminator step through an aggregator; the total and the log values."""
    from ganlosscore import build_aggregator

    aggregator = build_aggregator(fsdp_losses(with_r1))
    result = aggregator(
        {"disc": disc, "real": real, "pred_real": disc(real), "pred_fake": disc(fake)}
    )
    result.total.backward()
    return result


def fsdp_disc_step(rank: int, world: int, shard_layers: bool, with_r1: bool) -> dict:
    """The step on this rank's half of the batch with D under fully_shard; full gradients."""
    from torch.distributed.fsdp import fully_shard

    disc = fsdp_disc()
    if shard_layers:
        for layer in disc:
            if isinstance(layer, torch.nn.Linear):
                fully_shard(layer)
    fully_shard(disc)
    real, fake = fsdp_batches()
    result = disc_step(disc, real.chunk(world)[rank], fake.chunk(world)[rank], with_r1)
    grads = [p.grad.full_tensor() if p.grad is not None else None for p in disc.parameters()]
    return {"grads": grads, "log_vars": dict(result.log_vars)}


def single_process_disc_step(with_r1: bool) -> dict:
    """The same step in one process on the whole batch."""
    disc = fsdp_disc()
    real, fake = fsdp_batches()
    result = disc_step(disc, real, fake, with_r1)
    return {"grads": [p.grad for p in disc.parameters()], "log_vars": dict(result.log_vars)}


def returns_at(rank: int, world: int, wall_time: float) -> int:
    """Return the rank at ``wall_time`` (``time.time()``), whenever the rank started."""
    time.sleep(max(0.0, wall_time - time.time()))
    return rank

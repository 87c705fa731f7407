"""The per-rank half of the DDP tests: R1 on D and path length on G, one step each.

Run by ganlosscore.testing.run_ranks from test_distributed.py; each rank takes
its slice of the batch and returns its parameter gradients. ``reference`` runs
the same step in one process on the whole batch.
"""

from __future__ import annotations

import gc

import torch
import torch.distributed as dist
from _regularizer_nets import ConvDisc, DeterministicPathRegularizer, StyleGenerator
from ganloss_regularizers import R1GradientPenalty
from torch.nn.parallel import DistributedDataParallel

BATCH = 8
R1_INFO = {"discriminator": "disc", "real_data": "real_imgs"}
PATH_INFO = {"generator": "gen", "num_batches": "batch_size"}


def make_models() -> tuple[ConvDisc, torch.Tensor, torch.Tensor]:
    """D, the real batch and the generator's codes, identical in every process."""
    torch.manual_seed(0)
    disc = ConvDisc(head_bias=False)
    real = torch.randn(BATCH, 3, 8, 8)
    codes = torch.randn(BATCH, 4)
    return disc, real, codes


def step(disc, real, codes, wrap) -> dict[str, object]:
    """One R1 step on D and one path-length step on G; their gradients and the buffer."""
    torch.manual_seed(1)
    gen = StyleGenerator(codes)  # same initialisation everywhere (seeded)
    # The wrappers must outlive backward(): DDP's reducer, which averages the
    # gradients, goes away with its module.
    wrapped_disc, wrapped_gen = wrap(disc), wrap(gen)
    r1 = R1GradientPenalty(norm_mode="HWC", data_info=R1_INFO)
    r1({"disc": wrapped_disc, "real_imgs": real}).backward()
    reg = DeterministicPathRegularizer(sync_mean_buffer=True, data_info=PATH_INFO)
    reg({"gen": wrapped_gen, "batch_size": codes.shape[0]}).backward()
    return {
        "disc": [p.grad.clone() for p in disc.parameters()],
        "gen": [p.grad.clone() for p in gen.parameters()],
        "mean_path_length": reg.mean_path_length.clone(),
    }


def reference() -> dict[str, object]:
    disc, real, codes = make_models()
    return step(disc, real, codes, wrap=lambda module: module)


def ddp_step(rank: int, world_size: int) -> dict[str, object]:
    """One rank's step on its slice of the batch (run by ganlosscore.testing.run_ranks)."""
    torch.set_num_threads(1)
    disc, real, codes = make_models()
    result = step(
        disc,
        real.chunk(world_size)[rank],
        codes.chunk(world_size)[rank],
        wrap=DistributedDataParallel,
    )
    # Free the DDP wrappers (kept in reference cycles) while the process group
    # is alive, and let every rank finish, before it is torn down: gloo aborts
    # the process if its threads outlive the group.
    gc.collect()
    dist.barrier()
    return result


def path_penalty_at_iteration(rank: int, world_size: int, iterations: list[int]) -> float | None:
    """The path penalty with sync_mean_buffer and interval=2 at this rank's iteration."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    codes = torch.randn(4, 4)
    reg = DeterministicPathRegularizer(sync_mean_buffer=True, interval=2, data_info=PATH_INFO)
    value = reg({"gen": StyleGenerator(codes), "batch_size": 4, "iteration": iterations[rank]})
    return None if value is None else float(value)

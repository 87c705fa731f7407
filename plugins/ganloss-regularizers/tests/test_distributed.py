"""R1 and the path regularizer under DistributedDataParallel (2 CPU processes, gloo).

R1 (HWC) and the path penalty average over each rank's batch; DDP averages
the gradients over ranks, which for equal per-rank batches equals the
gradient of the mean over the concatenated batch. For the path penalty this
also needs sync_mean_buffer=True: the running mean, and its gradient, then
come from the whole batch through a differentiable all-reduce.
"""

from __future__ import annotations

import socket

import _regularizer_ddp
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytestmark = [
    pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable"),
    pytest.mark.slow,  # spawning two processes takes 3 to 7 s on 2 CPU cores
]

WORLD_SIZE = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def per_rank(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("ddp")
    mp.spawn(_regularizer_ddp.run, args=(WORLD_SIZE, free_port(), str(out_dir)), nprocs=WORLD_SIZE)
    return [torch.load(out_dir / f"rank{r}.pt") for r in range(WORLD_SIZE)]


@pytest.fixture(scope="module")
def single():
    return _regularizer_ddp.reference()


@pytest.mark.parametrize("model", ["disc", "gen"])
def test_ddp_gradients_equal_single_process_on_whole_batch(per_rank, single, model):
    for rank in per_rank:
        assert len(rank[model]) == len(single[model])
        for got, expected in zip(rank[model], single[model]):
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_ddp_ranks_share_the_running_mean(per_rank, single):
    for rank in per_rank:
        torch.testing.assert_close(rank["mean_path_length"], single["mean_path_length"])
    assert single["mean_path_length"].item() > 0

"""R1 and the path regularizer under DistributedDataParallel (2 CPU processes, gloo).

R1 (HWC) and the path penalty average over each rank's batch; DDP averages
the gradients over ranks, which for equal per-rank batches equals the
gradient of the mean over the concatenated batch. For the path penalty this
also needs sync_mean_buffer=True: the running mean, and its gradient, then
come from the whole batch through a differentiable all-reduce.
"""

from __future__ import annotations

import _regularizer_ddp
import pytest
import torch
import torch.distributed as dist

from ganlosscore import DistributedMismatchError
from ganlosscore.testing import run_ranks

pytestmark = [
    pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable"),
    pytest.mark.slow,  # spawning two processes takes 3 to 7 s on 2 CPU cores
]

WORLD_SIZE = 2


@pytest.fixture(scope="module")
def per_rank():
    results = run_ranks(_regularizer_ddp.ddp_step, WORLD_SIZE)
    assert all(r.ok for r in results), results
    return [r.value for r in results]


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


def test_path_penalty_on_ranks_at_different_iterations_is_a_typed_error_on_both():
    # interval=2: rank 0 at iteration 2 computes (a collective), rank 1 at 3 skips. Before,
    # rank 1 never joined, so rank 0 hung in the all-reduce or paired it with another one.
    results = run_ranks(_regularizer_ddp.path_penalty_at_iteration, 2, args=([2, 3],))
    for result in results:
        assert isinstance(result.error, DistributedMismatchError), result
        assert "1 of 2 ranks" in str(result.error)


def test_path_penalty_on_ranks_at_the_same_iteration_runs_or_skips_together():
    computed = run_ranks(_regularizer_ddp.path_penalty_at_iteration, 2, args=([4, 4],))
    assert all(r.ok and r.value is not None and r.value > 0 for r in computed), computed
    skipped = run_ranks(_regularizer_ddp.path_penalty_at_iteration, 2, args=([5, 5],))
    assert all(r.ok and r.value is None for r in skipped), skipped

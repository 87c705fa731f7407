"""DDPM quartile logs under torch.distributed: two gloo processes on the CPU.

Each rank holds a different timestep distribution. The logged values must be
those of one process on the concatenated batch, on every rank, from one
collective per call; the aggregator's average over ranks then leaves them as
they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from ganloss_diffusion import DDPMMSELoss

from ganlosscore.testing import outcomes_by_step, run_ranks

sys.path.insert(0, str(Path(__file__).parent / "helpers"))  # spawned ranks inherit sys.path

import _ddpm_dist_worker as worker

pytestmark = [
    pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable"),
    pytest.mark.slow,  # spawning two processes takes a few seconds
]

# By hand, from worker.BATCHES (per-sample MSE = error^2):
#   rank 0: t = 0, 1, 2, 3 with MSE 1, 4, 9, 16;  rank 1: t = 2, 5, 6, 7 with MSE 25, 36, 49, 64.
# "mse" (T = 8, quartile floor(t / 2)): rank 0 -> 0, 0, 1, 1; rank 1 -> 1, 2, 3, 3.
#   q0 {1, 4}: 5 / 2 = 2.5;  q1 {9, 16, 25}: 50 / 3;  q2 {36}: 36;  q3 {49, 64}: 113 / 2 = 56.5.
#   (The mean of per-rank means would be 1.25, 18.75, 18 and 28.25.)
# "halves" (T = 16, quartile floor(t / 4), sums): rank 0 -> all 0; rank 1 -> 0, 1, 1, 1.
#   q0 {1, 4, 9, 16, 25}: 55;  q1 {36, 49, 64}: 149;  q2, q3: none.
EXPECTED = {
    "mse_quartile_0": 2.5,
    "mse_quartile_0_count": 2.0,
    "mse_quartile_1": 50 / 3,
    "mse_quartile_1_count": 3.0,
    "mse_quartile_2": 36.0,
    "mse_quartile_2_count": 1.0,
    "mse_quartile_3": 56.5,
    "mse_quartile_3_count": 2.0,
    "halves_quartile_0": 55.0,
    "halves_quartile_0_count": 5.0,
    "halves_quartile_1": 149.0,
    "halves_quartile_1_count": 3.0,
    "halves_quartile_2": 0.0,
    "halves_quartile_2_count": 0.0,
    "halves_quartile_3": 0.0,
    "halves_quartile_3_count": 0.0,
}


@pytest.fixture(scope="module")
def per_rank():
    results = run_ranks(worker.run, 2)
    assert all(r.ok for r in results), results
    return [r.value for r in results]


def test_every_rank_logs_the_global_quartile_means_from_one_collective(per_rank):
    for rank, got in enumerate(per_rank):
        extra, log_vars, loss_calls = got["extra"], got["log_vars"], got["loss_calls"]
        collectives = got["collectives"]
        # one all_reduce of 2 specs x (4 sums + 4 counts), after sum_over_ranks' size
        # header (2 slots); then the aggregator's own (its header, then the values)
        assert loss_calls == [2, 16]
        assert collectives == 4
        assert extra.keys() == EXPECTED.keys()
        for key, value in EXPECTED.items():
            assert extra[key] == pytest.approx(value), (rank, key)
            # the aggregator's rank-average of identical values leaves them unchanged
            assert log_vars[key] == pytest.approx(value), (rank, key)


def test_the_logs_equal_one_process_on_the_concatenated_batch(per_rank):
    timesteps = worker.BATCHES[0][0] + worker.BATCHES[1][0]
    errors = worker.BATCHES[0][1] + worker.BATCHES[1][1]
    single = DDPMMSELoss(log_cfgs=worker.LOG_CFGS)
    single(worker.outputs_for(timesteps, errors))
    for got in per_rank:
        for key, value in single.extra_log_vars.items():
            assert got["extra"][key] == pytest.approx(value.item()), key


def test_the_total_and_loss_weight_are_untouched_by_the_log_sync(per_rank):
    # loss_weight 0.5: rank 0's batch mean 30 / 4 = 7.5 -> 3.75, rank 1's 174 / 4 = 43.5 -> 21.75;
    # averaged over ranks 12.75. The logs above are unweighted.
    for got in per_rank:
        log_vars = got["log_vars"]
        assert log_vars["loss_ddpm_mse"] == pytest.approx(12.75)
        assert log_vars["loss"] == pytest.approx(12.75)


def test_without_a_process_group_there_is_no_collective(monkeypatch):
    called = []
    monkeypatch.setattr(dist, "all_reduce", lambda *a, **k: called.append(a))
    loss = DDPMMSELoss(log_cfgs=worker.LOG_CFGS)
    loss(worker.outputs_for(*worker.BATCHES[0]))
    assert called == []
    # rank 0 alone: q0 {1, 4} = 2.5, q1 {9, 16} = 12.5
    assert loss.extra_log_vars["mse_quartile_1"].item() == 12.5
    assert torch.is_tensor(loss.extra_log_vars["mse_quartile_1"])


def test_a_rank_that_skips_the_lazy_loss_still_meets_the_others_collective():
    # A skipped call (interval) takes part in the log collective with nothing, so the ranks'
    # collectives stay paired: a per-rank iteration counter is the aggregator's clear
    # DistributedMismatchError on every rank, not a crash or a hang in mismatched collectives.
    by_step = outcomes_by_step(run_ranks(worker.run_lazy, 2))
    for rank in (0, 1):
        # step 0, iteration 1 on both: both skip it, only the every-step loss is logged
        status, log_vars = by_step[rank, 0]
        assert status == "ok", log_vars
        assert not any("quartile" in key for key in log_vars)
        # step 1, iteration 2 on both: both run it, the global logs of the eager test above
        status, log_vars = by_step[rank, 1]
        assert status == "ok", log_vars
        for key, value in EXPECTED.items():
            assert log_vars[key] == pytest.approx(value), (rank, key)
        # step 2, iteration 0 on rank 0 (runs it), 1 on rank 1 (skips it): the
        # aggregator's key-set check says what is wrong, on both ranks
        status, message = by_step[rank, 2]
        assert status == "DistributedMismatchError", message
        assert "logged different sets of values" in message


def test_every_call_sends_the_same_float64_buffer_whatever_its_precision(ganloss_fake_world):
    # Ranks must send the same dtype and size: a float16 rank, a float64 rank and a rank
    # that skipped the loss (interval) all send 2 specs x (4 sums + 4 counts) in float64.
    loss = DDPMMSELoss(interval=2, data_info={"pred": "p", "target": "t"}, log_cfgs=worker.LOG_CFGS)
    timesteps = torch.tensor([0, 1, 2, 3])
    for dtype, iteration in ((torch.float16, 0), (torch.float64, 2), (torch.float32, 1)):
        ones, zeros = torch.ones(4, 3, dtype=dtype), torch.zeros(4, 3, dtype=dtype)
        value = loss({"p": ones, "t": zeros, "timesteps": timesteps, "iteration": iteration})
        assert (value is None) == (iteration == 1)
    assert (
        ganloss_fake_world == [(torch.int64, "cpu", 2), (torch.float64, "cpu", 16)] * 3
    )  # size header
    # the logs keep the values' precision (at least float32): here the float64 call's
    assert loss.extra_log_vars["mse_quartile_0"].dtype == torch.float64


def test_without_log_cfgs_a_skipped_call_sends_nothing(ganloss_fake_world):
    loss = DDPMMSELoss(interval=2, data_info={"pred": "p", "target": "t"})
    outputs = {"p": torch.ones(4, 3), "t": torch.zeros(4, 3), "timesteps": torch.zeros(4)}
    assert loss({**outputs, "iteration": 1}) is None
    assert loss({**outputs, "iteration": 2}).item() == 1.0
    assert ganloss_fake_world == []

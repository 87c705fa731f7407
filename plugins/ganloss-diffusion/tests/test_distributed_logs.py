"""DDPM quartile logs under torch.distributed: two gloo processes on the CPU.

Each rank holds a different timestep distribution. The logged values must be
those of one process on the concatenated batch, on every rank, from one
collective per call; the aggregator's average over ranks then leaves them as
they are.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from ganloss_diffusion import DDPMMSELoss

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def per_rank():
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=worker.run, args=(r, 2, port, results)) for r in range(2)]
    for proc in procs:
        proc.start()
    out = sorted(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return out


def test_every_rank_logs_the_global_quartile_means_from_one_collective(per_rank):
    for rank, status, extra, log_vars, loss_calls, collectives in per_rank:
        assert status == "ok", extra
        # one all_reduce of 2 specs x (4 sums + 4 counts); then the aggregator's own
        assert loss_calls == [16]
        assert collectives == 2
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
    for _rank, _status, extra, _log_vars, _calls, _n in per_rank:
        for key, value in single.extra_log_vars.items():
            assert extra[key] == pytest.approx(value.item()), key


def test_the_total_and_loss_weight_are_untouched_by_the_log_sync(per_rank):
    # loss_weight 0.5: rank 0's batch mean 30 / 4 = 7.5 -> 3.75, rank 1's 174 / 4 = 43.5 -> 21.75;
    # averaged over ranks 12.75. The logs above are unweighted.
    for _rank, _status, _extra, log_vars, _calls, _n in per_rank:
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

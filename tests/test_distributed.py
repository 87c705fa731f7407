"""log_vars under torch.distributed: two gloo processes on the CPU."""

import multiprocessing as mp
import socket

import pytest
from _dist_worker import aggregate_on_two_ranks

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(scenario: str):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(target=aggregate_on_two_ranks, args=(r, 2, port, scenario, results))
        for r in range(2)
    ]
    for proc in procs:
        proc.start()
    out = sorted(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return out


def test_log_vars_are_averaged_over_ranks_with_one_collective():
    for _rank, status, log_vars, collectives in _run("same"):
        assert status == "ok", log_vars
        assert collectives == 1  # one all_reduce for 13 values (12 terms and the total)
        assert log_vars["loss_term_0"] == 2.5  # (1 + 4) / 2
        assert log_vars["loss"] == 30.0  # 12 terms of 2.5
        assert len(log_vars) == 13


def test_ranks_with_different_keys_get_a_clear_error_not_a_hang():
    for _rank, status, message, collectives in _run("mismatch"):
        assert status == "DistributedMismatchError", message
        assert "logged different sets of values" in message
        assert collectives == 1


def test_key_sets_whose_first_fingerprint_collides_are_still_told_apart():
    # the 20-bit CRC of the two key sets is equal; the second (Adler-32) hash differs
    for _rank, status, message, collectives in _run("collision"):
        assert status == "DistributedMismatchError", message
        assert collectives == 1


def test_a_step_where_every_loss_is_skipped_reduces_and_backpropagates():
    for _rank, status, log_vars, collectives in _run("skipped"):
        assert status == "ok", log_vars
        assert log_vars == {"loss": 0.0}
        assert collectives == 1

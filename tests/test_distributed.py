"""log_vars under torch.distributed: two gloo processes on the CPU."""

import datetime
import multiprocessing as mp
import os
import socket

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, scenario: str, results) -> None:
    import torch
    import torch.distributed as dist

    from ganlosscore import build_aggregator
    from tests._losses import ShiftLoss

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=30)
    )
    calls = []
    original = dist.all_reduce

    def counting_all_reduce(tensor, *args, **kwargs):
        calls.append(tensor.numel())
        return original(tensor, *args, **kwargs)

    dist.all_reduce = counting_all_reduce
    try:
        names = [f"loss_term_{i}" for i in range(12)]
        if scenario == "mismatch" and rank == 1:
            names[3] = "loss_only_on_rank_1"
        configs = [{"type": ShiftLoss, "loss_name": n, "data_info": {"pred": "p"}} for n in names]
        agg = build_aggregator(configs)
        # rank r predicts r + 1: each term is (r + 1) ** 2, i.e. 1 and 4, mean 2.5
        p = torch.tensor([float(rank + 1)])
        try:
            result = agg({"p": p})
            results.put((rank, "ok", result.log_vars, len(calls)))
        except Exception as exc:
            results.put((rank, type(exc).__name__, str(exc), len(calls)))
    finally:
        dist.all_reduce = original
        dist.destroy_process_group()


def _run(scenario: str):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(r, 2, port, scenario, results)) for r in range(2)]
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

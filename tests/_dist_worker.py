"""The body of each rank in test_distributed.py (a module of its own so spawn can import it)."""

import datetime
import os


def aggregate_on_two_ranks(rank: int, world: int, port: int, scenario: str, results) -> None:
    import torch
    import torch.distributed as dist
    from _losses import ShiftLoss

    from ganlosscore import build_aggregator

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

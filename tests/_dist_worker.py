"""The body of each rank in test_distributed.py (a module of its own so spawn can import it)."""

import datetime
import os
import zlib


def crc_colliding_names() -> tuple[str, str]:
    """Two extra loss names whose logged key sets (12 shared keys) have equal 20-bit CRCs."""
    base = ["loss", *(f"loss_term_{i}" for i in range(11))]  # the logged keys, total included
    seen: dict[int, str] = {}
    for i in range(1_000_000):
        name = f"loss_extra_{i}"
        key = "\0".join(sorted([*base, name])).encode()
        crc = zlib.crc32(key) & 0xFFFFF
        if crc in seen:
            return seen[crc], name
        seen[crc] = name
    raise AssertionError("no collision found")  # pragma: no cover


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
        if scenario == "collision":  # key sets whose CRC fingerprints are equal
            names[11] = crc_colliding_names()[rank]
        interval = 2 if scenario == "skipped" else 1
        configs = [
            {"type": ShiftLoss, "loss_name": n, "data_info": {"pred": "p"}, "interval": interval}
            for n in names
        ]
        agg = build_aggregator(configs)
        # rank r predicts r + 1: each term is (r + 1) ** 2, i.e. 1 and 4, mean 2.5
        p = torch.tensor([float(rank + 1)])
        try:
            result = agg({"p": p, "iteration": 1})
            if scenario == "skipped":  # every loss skipped: a zero that backward() accepts
                result.total.backward()
            results.put((rank, "ok", result.log_vars, len(calls)))
        except Exception as exc:
            results.put((rank, type(exc).__name__, str(exc), len(calls)))
    finally:
        dist.all_reduce = original
        dist.destroy_process_group()

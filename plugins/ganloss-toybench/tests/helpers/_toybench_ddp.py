"""The per-process half of the distributed tests: a short training run in each rank.

Run by torch.multiprocessing.spawn from test_distributed.py; each rank trains
with the default losses and saves its networks' parameters and its last
logged values.
"""

from __future__ import annotations

import gc
import os

import torch
import torch.distributed as dist
from ganloss_toybench import default_config, resolve_settings, train


def run(rank: int, world_size: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        config = default_config()
        settings = resolve_settings({"steps": 10, "batch_size": 16})
        result = train(settings, config["disc"], config["gen"], rank=rank, world_size=world_size)
        torch.save(
            {"gen": result.generator.state_dict(), "final": result.final},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
        del result
        gc.collect()  # free the DDP wrappers while the group lives
        dist.barrier()
    finally:
        dist.destroy_process_group()

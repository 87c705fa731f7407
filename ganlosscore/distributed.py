"""Collectives for losses that reduce values over ranks themselves.

The aggregator averages ``log_vars`` over ranks with one collective per step;
a loss that needs more (global means of its logs, synchronised statistics)
reduces a buffer of its own with :func:`sum_over_ranks`. Every rank must then
call it together, the same number of times, with buffers of one size: a loss
skipped by ``interval`` joins with zeros (see
:meth:`~ganlosscore.LossModule.on_interval_skip`).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

__all__ = ["collective_device", "is_distributed", "sum_over_ranks"]


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group of more than one rank is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def collective_device(device: torch.device) -> torch.device:
    """Where a buffer of values on ``device`` is reduced: the same kind on every rank.

    Where NCCL is the backend, or serves CUDA beside gloo (``"cpu:gloo,cuda:nccl"``),
    this rank's current CUDA device: NCCL reduces CUDA tensors only, and a
    rank whose values happen to be on the CPU must not pick gloo while the
    others pick NCCL. Under gloo, the CPU, so that a rank with values on a
    GPU and one without values agree. Any other backend: ``device`` (the CPU
    for ``meta``).
    """
    backend = str(dist.get_backend())
    if "nccl" in backend:
        return torch.device("cuda", torch.cuda.current_device())
    if backend == "gloo" or device.type == "meta":
        return torch.device("cpu")
    return device


def sum_over_ranks(buffer: torch.Tensor) -> torch.Tensor:
    """``buffer`` summed over ranks in one ``all_reduce``, in its own dtype and device.

    Reduced in float64 on :func:`collective_device`, so every rank sends the
    same dtype whatever its values' precision (a rank without values sends
    zeros of the same size). Without a process group, ``buffer`` itself.
    """
    if not is_distributed():
        return buffer
    wire = buffer.to(collective_device(buffer.device), torch.float64)
    dist.all_reduce(wire, op=dist.ReduceOp.SUM)
    return wire.to(buffer.device, buffer.dtype)

"""Collectives for losses that reduce values over ranks themselves.

The aggregator averages ``log_vars`` over ranks with one collective per step;
a loss that needs more (global means of its logs, synchronised statistics)
reduces a buffer of its own with :func:`sum_over_ranks`. Every rank must then
call it together, the same number of times, with buffers of one size: a loss
skipped by ``interval`` joins with zeros (see
:meth:`~ganlosscore.LossModule.on_interval_skip`).

A collective whose buffers differ in size between ranks does not fail
cleanly: gloo aborts the process ("Received data size doesn't match") and
NCCL hangs or reduces garbage. So every collective of the core agrees on
sizes first, in a header of fixed size: the aggregator's reduction of log
values always, :func:`sum_over_ranks` under gloo (where the values cross to
the host anyway, so reading the header costs no device synchronisation).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from .errors import DistributedMismatchError

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


def sum_over_ranks(buffer: torch.Tensor, *, where: str = "sum_over_ranks") -> torch.Tensor:
    """``buffer`` summed over ranks in one ``all_reduce``, in its own dtype and device.

    Reduced in float64 on :func:`collective_device`, so every rank sends the
    same dtype whatever its values' precision (a rank without values sends
    zeros of the same size). Without a process group, ``buffer`` itself.

    Under gloo the ranks first compare the buffer's size in a fixed-size
    header collective: ranks whose sizes differ raise
    :class:`~ganlosscore.DistributedMismatchError` together (``where`` names
    the caller in it) instead of aborting in gloo. Under NCCL that check would
    cost a host synchronisation per call, so it is not made: keep the size
    independent of the data.
    """
    if not is_distributed():
        return buffer
    device = collective_device(buffer.device)
    if device.type == "cpu":
        agree_on_sizes({"values": buffer.numel()}, device, where=where)
    wire = buffer.to(device, torch.float64)
    dist.all_reduce(wire, op=dist.ReduceOp.SUM)
    return wire.to(buffer.device, buffer.dtype)


def extremes_over_ranks(facts: dict[str, int], device: torch.device) -> dict[str, tuple[int, int]]:
    """``name -> (smallest, largest)`` of each integer over the ranks, in one collective.

    The header ``[facts..., -facts...]`` is reduced with MAX, exactly (int64),
    and has the same size on every rank whatever the facts' values, so the
    collective always matches and every rank gets the same answer.
    """
    mine = list(facts.values())
    header = torch.tensor([*mine, *(-v for v in mine)], dtype=torch.int64, device=device)
    dist.all_reduce(header, op=dist.ReduceOp.MAX)
    reduced = header.tolist()
    return {name: (-reduced[len(mine) + i], reduced[i]) for i, name in enumerate(facts)}


def agree_on_sizes(sizes: dict[str, int], device: torch.device, *, where: str) -> None:
    """Raise :class:`~ganlosscore.DistributedMismatchError` on every rank if a size differs."""
    spans = extremes_over_ranks(sizes, device)
    differ = [name for name, (low, high) in spans.items() if low != high]
    if differ:
        shown = ", ".join(
            f"{name} from {spans[name][0]} to {spans[name][1]} (this rank: {sizes[name]})"
            for name in differ
        )
        raise DistributedMismatchError(
            f"the {dist.get_world_size()} ranks called one collective with different sizes: "
            f"{shown}; every rank must reduce buffers of one size, the same number of times "
            "(a loss skipped by interval joins with zeros, see LossModule.on_interval_skip)",
            where=where,
        )

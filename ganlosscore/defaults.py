"""The core's own aggregation behaviour, as a plugin on the public hooks.

Registered first and marked ``trylast``, so a third-party implementation of
any ``firstresult`` hook runs before these and replaces them by returning a
value. The aggregator may call these functions directly when nothing else
implements a hook (see :mod:`ganlosscore.aggregation`); they must therefore
have no side effects beyond what their docstrings say.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from .distributed import collective_device, extremes_over_ranks, is_distributed
from .errors import DistributedMismatchError, GanLossError
from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .aggregation import LossAggregator
    from .protocol import LossModule


@hookimpl(trylast=True)
def ganloss_compute_loss(loss: LossModule, outputs: Mapping[str, Any]) -> torch.Tensor | None:
    return loss(outputs)  # type: ignore[no-any-return]


@hookimpl(trylast=True)
def ganloss_merge_loss(current: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    return current + new


@hookimpl(trylast=True)
def ganloss_parse_losses(
    losses: dict[str, Any],
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    total, log_vars = parse_losses(losses)
    return total, {name: value.detach() for name, value in log_vars.items()}


def parse_losses(losses: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``ganloss_parse_losses`` without detaching the values to log.

    The aggregator calls this when the default is the only implementation and
    detaches the values only if someone asks for the tensors
    (``LossResult.log_tensors``); reading them as floats needs no detaching.
    """
    terms, total = _terms_and_total(losses)
    log_vars = dict(zip(losses, terms))
    log_vars["loss"] = total
    return total, log_vars


def _terms_and_total(losses: dict[str, Any]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each value as a scalar, in order, and the sum of those whose name contains ``loss``."""
    terms: list[torch.Tensor] = []
    total: torch.Tensor | None = None
    for name, value in losses.items():
        term = (
            value
            if isinstance(value, torch.Tensor) and value.ndim == 0
            else _as_scalar(name, value)
        )
        terms.append(term)
        if "loss" in name:
            total = term if total is None else total + term
    if total is None:  # every loss skipped this step: nothing to backpropagate
        total = torch.zeros(())
    return terms, total


def _as_scalar(name: str, value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value if value.ndim == 0 else value.mean()
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, torch.Tensor) for v in value)
    ):  # MMGeneration accepts a list of tensors: the sum of their means
        first, *rest = [v.mean() for v in value]
        total: torch.Tensor = sum(rest, first)
        return total
    raise GanLossError(
        f"a loss value must be a tensor (or a list of tensors), got {type(value).__name__}",
        where=name,
    )


@hookimpl(trylast=True)
def ganloss_reduce_log_vars(
    log_vars: dict[str, torch.Tensor], aggregator: LossAggregator, step: int | None
) -> dict[str, float]:
    if not log_vars:
        return {}
    if is_distributed():
        return _reduce_across_ranks(log_vars, aggregator, step)
    return local_floats(log_vars)


def local_floats(log_vars: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """``log_vars`` as Python floats, in order, with one host transfer (no collective)."""
    return dict(zip(log_vars, floats_of(list(log_vars.values())))) if log_vars else {}


def floats_of(tensors: list[torch.Tensor]) -> list[float]:
    """The values of one-element tensors as Python floats, with one host transfer.

    Tensors on an accelerator are stacked and read with one ``.tolist()``:
    one host synchronisation whatever their number. Tensors that are all on
    the CPU are read one ``.item()`` each, which costs less there (there is
    no device to wait for).
    """
    if all(t.is_cpu for t in tensors):
        return [float(t.item()) for t in tensors]
    stacked = stack_values(tensors)
    values: list[float] = stacked.tolist()
    return values if stacked.is_floating_point() else [float(v) for v in values]


def stack_values(values: Any) -> torch.Tensor:
    """One-element tensors as one 1-D tensor (dtypes promoted; on the CPU if devices differ)."""
    tensors = list(values)
    try:
        return torch.stack(tensors)  # dtypes are promoted
    except RuntimeError:  # shapes (1,) beside ()
        tensors = [t.reshape(()) for t in tensors]
    try:
        return torch.stack(tensors)
    except RuntimeError:  # mixed devices: gather them on the CPU
        return torch.stack([t.to("cpu", torch.float64) for t in tensors])


# The facts all ranks compare first, in a header of fixed size (see
# extremes_over_ranks); only when every fact agrees is the buffer of values
# (whose size is one of the facts) reduced.
_FACTS = ("count", "max_log_vars", "crc32", "adler32", "step_kind", "step")


def _fingerprints(names: list[str]) -> tuple[int, int]:
    key = "\0".join(names).encode()
    return zlib.crc32(key), zlib.adler32(key)


def _reduce_across_ranks(
    log_vars: dict[str, torch.Tensor], aggregator: LossAggregator, step: int | None
) -> dict[str, float]:
    """Average every value over ranks: a fixed-size header collective, then the values.

    The header carries, for this rank, the number of values, the aggregator's
    ``max_log_vars``, two fingerprints (CRC-32 and Adler-32) of the sorted key
    set and the step (``outputs['iteration']``, or the aggregator's count of
    aggregations). It has the same size on every rank, so that collective
    always matches; ranks that disagree on any fact raise
    :class:`DistributedMismatchError` together, before a buffer whose size
    could differ is sent, so a mismatch is never a hang, a signal, or an
    average of different steps. Two different key sets pass only if both
    hashes collide.
    """
    names = sorted(log_vars)
    capacity = aggregator.max_log_vars
    device = collective_device(next(iter(log_vars.values())).device)
    step_facts = (0, 0) if step is None else (1, int(step))
    mine = dict(zip(_FACTS, (len(names), capacity, *_fingerprints(names), *step_facts)))
    spans = extremes_over_ranks(mine, device)
    differ = [fact for fact, (low, high) in spans.items() if low != high]
    if differ:
        raise DistributedMismatchError(
            _mismatch_message(differ, mine, spans, names), where=aggregator.name
        )
    if len(names) > capacity:
        raise DistributedMismatchError(
            f"the ranks logged {len(names)} values in one step, more than "
            f"max_log_vars={capacity}; raise max_log_vars on every rank's aggregator",
            where=aggregator.name,
        )
    buffer = stack_values(log_vars[n] for n in names).to(device, torch.float64)
    dist.all_reduce(buffer)
    world = dist.get_world_size()
    values = dict(zip(names, buffer.tolist()))
    return {n: values[n] / world for n in log_vars}  # the caller's order


def _mismatch_message(
    differ: list[str], mine: dict[str, int], spans: dict[str, tuple[int, int]], names: list[str]
) -> str:
    world = dist.get_world_size()
    low = {fact: span[0] for fact, span in spans.items()}
    high = {fact: span[1] for fact, span in spans.items()}
    if "max_log_vars" in differ:
        return (
            f"the {world} ranks' aggregators have different max_log_vars (from "
            f"{low['max_log_vars']} to {high['max_log_vars']}; this rank: "
            f"{mine['max_log_vars']}); build every rank's aggregator with the same settings"
        )
    if {"count", "crc32", "adler32"} & set(differ):
        counts = f" ({low['count']} to {high['count']} values)" if "count" in differ else ""
        return (
            f"the {world} ranks logged different sets of values in this step{counts}, so "
            "they cannot be averaged (this rank logged "
            f"{names}). Every rank must compute the same losses: look for a loss that is "
            "skipped on some ranks only, such as an interval driven by a per-rank counter "
            "instead of outputs['iteration']"
        )
    if "step_kind" in differ:
        return (
            "some ranks gave the step of their log values and others did not (this rank: "
            f"{'did' if mine['step_kind'] else 'did not'}); every rank must reduce log values "
            "the same way"
        )
    return (
        f"the {world} ranks read the log values of different steps (from {low['step']} to "
        f"{high['step']}; this rank: {mine['step']}), so they cannot be averaged: a rank "
        "skipped or repeated an aggregation, or read log_vars at another step. Every rank "
        "must run the aggregator, and read its log_vars, at the same steps"
    )

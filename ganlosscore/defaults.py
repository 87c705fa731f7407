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

from .distributed import collective_device, is_distributed
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
    terms, total = _terms_and_total(losses)
    log_vars = {name: term.detach() for name, term in zip(losses, terms)}
    log_vars["loss"] = total.detach()
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
        terms: list[torch.Tensor] = [v.mean() for v in value]
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out
    raise GanLossError(
        f"a loss value must be a tensor (or a list of tensors), got {type(value).__name__}",
        where=name,
    )


@hookimpl(trylast=True)
def ganloss_reduce_log_vars(
    log_vars: dict[str, torch.Tensor], aggregator: LossAggregator
) -> dict[str, float]:
    if not log_vars:
        return {}
    if is_distributed():
        return _reduce_across_ranks(log_vars, aggregator)
    return dict(zip(log_vars, _floats(list(log_vars.values()))))


def parse_and_reduce(
    losses: dict[str, Any], extra: Mapping[str, torch.Tensor], aggregator: LossAggregator
) -> tuple[torch.Tensor, dict[str, float]]:
    """``ganloss_parse_losses`` then ``ganloss_reduce_log_vars``, in one pass.

    The aggregator calls this when both hooks are bypassable. Same results as
    the two defaults one after the other (``extra`` holds the losses' extra
    log values, logged after ``loss``), without building the intermediate
    dict of detached tensors.
    """
    if is_distributed():
        parsed, log_vars = ganloss_parse_losses(losses)
        log_vars.update({k: v.detach() for k, v in extra.items()})
        return parsed, _reduce_across_ranks(log_vars, aggregator)
    terms, total = _terms_and_total(losses)
    terms.append(total)
    if extra:
        terms.extend(extra.values())
    return total, dict(zip([*losses, "loss", *extra], _floats(terms)))


def _floats(tensors: list[torch.Tensor]) -> list[float]:
    """The values of one-element tensors as Python floats, with at most one device sync."""
    if all(t.is_cpu for t in tensors):  # no synchronisation to save: .item() is cheapest
        return [float(t.item()) for t in tensors]
    return _stack(tensors).tolist()  # type: ignore[no-any-return]


def _stack(values: Any) -> torch.Tensor:
    tensors = [v if v.ndim == 0 else v.reshape(()) for v in values]
    try:
        return torch.stack(tensors)  # dtypes are promoted; floats come out of tolist()
    except RuntimeError:  # mixed devices: gather them on the CPU
        return torch.stack([t.to("cpu", torch.float64) for t in tensors])


# Layout of the single all_reduce buffer: a header, then the values. The
# header holds an overflow flag and two independent fingerprints of the key
# set, each with its square.
_OVERFLOW, _HEADER = 0, 5
_FINGERPRINTS = ((1, 2), (3, 4))  # (slot of f, slot of f**2) per hash
_MASK = 0xFFFFF  # 20 bits: f**2 summed over up to 8192 ranks stays exact in float64


def _fingerprints(names: list[str]) -> tuple[float, float]:
    key = "\0".join(names).encode()
    return float(zlib.crc32(key) & _MASK), float(zlib.adler32(key) & _MASK)


def _reduce_across_ranks(
    log_vars: dict[str, torch.Tensor], aggregator: LossAggregator
) -> dict[str, float]:
    """Average every value over ranks with ONE all_reduce, detecting key mismatches.

    The buffer has a fixed size on every rank (``aggregator.max_log_vars``
    slots), so the collective always matches and no rank can hang on it. Its
    header carries two independent fingerprints ``f`` (CRC-32 and Adler-32,
    20 bits each) of the sorted key set, each with ``f ** 2``: after summing
    over ``W`` ranks, ``W * sum(f**2) == sum(f) ** 2`` holds exactly when every
    rank has the same ``f`` (Cauchy-Schwarz), and every rank reaches the same
    verdict because every rank sees the same sums. Two different key sets pass
    only if both hashes collide.
    """
    names = sorted(log_vars)
    capacity = aggregator.max_log_vars
    device = collective_device(next(iter(log_vars.values())).device)
    header = [0.0] * _HEADER
    overflow = len(names) > capacity
    header[_OVERFLOW] = 1.0 if overflow else 0.0
    for (slot, slot_sq), f in zip(_FINGERPRINTS, _fingerprints(names)):
        header[slot], header[slot_sq] = f, f * f
    buffer = torch.zeros(_HEADER + capacity, dtype=torch.float64, device=device)
    buffer[:_HEADER] = torch.tensor(header, dtype=torch.float64)
    if not overflow:
        buffer[_HEADER : _HEADER + len(names)] = _stack(log_vars[n] for n in names).to(
            device, torch.float64
        )
    dist.all_reduce(buffer)
    world = dist.get_world_size()
    reduced = buffer.tolist()
    if reduced[_OVERFLOW]:
        raise DistributedMismatchError(
            f"a rank logged more than max_log_vars={capacity} values in one step "
            f"(this rank: {len(names)}); raise max_log_vars on the aggregator",
            where=aggregator.name,
        )
    if any(
        world * int(reduced[slot_sq]) != int(reduced[slot]) ** 2 for slot, slot_sq in _FINGERPRINTS
    ):
        raise DistributedMismatchError(
            f"the {world} ranks logged different sets of values in this step, so they "
            f"cannot be averaged (this rank logged {names}). Every rank must compute the "
            "same losses: look for a loss that is skipped on some ranks only, such as an "
            "interval driven by a per-rank counter instead of outputs['iteration']",
            where=aggregator.name,
        )
    position = {n: _HEADER + i for i, n in enumerate(names)}
    return {n: reduced[position[n]] / world for n in log_vars}  # the caller's order

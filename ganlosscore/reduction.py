"""Reduction helpers with MMGeneration's semantics (``mmgen/models/losses/utils.py``).

Differences from MMGeneration, all deliberate:

* ``weight``, ``reduction`` and ``avg_factor`` are keyword-only, so a stray
  positional argument can never be taken for a weight;
* an unknown mode, or ``avg_factor`` with a mode that cannot use it, raises
  :class:`~ganlosscore.errors.LossInputError` naming the actual mode and the
  valid ones (MMGeneration always says ``reduction="sum"``);
* a ``weight`` that does not broadcast against the loss names both shapes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import torch
from torch import Tensor

from .errors import LossInputError

__all__ = ["REDUCTIONS", "Reduction", "reduce_loss", "weight_reduce_loss", "weighted_loss"]

Reduction = Literal["none", "mean", "sum", "batchmean", "flatmean"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum", "batchmean", "flatmean")

F = TypeVar("F", bound=Callable[..., Tensor])


def check_reduction(reduction: str, *, where: str | None = None) -> str:
    """Return ``reduction`` if it is a known mode, else raise a clear error.

    Losses call this in their constructor so a typo fails at build time.
    """
    if reduction not in REDUCTIONS:
        raise LossInputError(
            f"unknown reduction {reduction!r}; valid modes are {', '.join(REDUCTIONS)}",
            where=where,
        )
    return reduction


def reduce_loss(loss: Tensor, reduction: str = "mean") -> Tensor:
    """Reduce an element-wise loss.

    ``none`` returns it unchanged; ``mean`` and ``sum`` reduce every element;
    ``batchmean`` is ``sum / N`` with ``N = loss.shape[0]``; ``flatmean`` is the
    mean over all but the first dimension, giving shape ``(N,)``.

    Example:
        >>> reduce_loss(torch.tensor([[1.0, 3.0], [5.0, 7.0]]), "flatmean")
        tensor([2., 6.])
    """
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    if reduction == "batchmean":
        return loss.sum() / loss.shape[0]
    if reduction == "flatmean":
        return loss.mean(dim=list(range(1, loss.ndim))) if loss.ndim > 1 else loss
    check_reduction(reduction)
    raise AssertionError("unreachable")  # pragma: no cover


def weight_reduce_loss(
    loss: Tensor,
    *,
    weight: Tensor | float | None = None,
    reduction: str = "mean",
    avg_factor: float | Tensor | None = None,
) -> Tensor:
    """Multiply by an element-wise ``weight``, then reduce.

    With ``avg_factor`` the ``mean`` mode becomes ``sum / avg_factor`` (the
    number of valid elements, for instance) and ``none`` ignores it; every
    other mode refuses it, as averaging and summing cannot both apply.
    """
    if weight is not None:
        if isinstance(weight, Tensor) and weight.shape != loss.shape:
            try:
                grown = torch.broadcast_shapes(weight.shape, loss.shape) != loss.shape  # type: ignore[no-untyped-call]
            except RuntimeError:
                grown = True
            if grown:  # a weight must not enlarge the loss: the mean would change silently
                raise LossInputError(
                    f"weight of shape {tuple(weight.shape)} does not broadcast to the loss of "
                    f"shape {tuple(loss.shape)}; give a weight of the loss's shape or one that "
                    "broadcasts to it without enlarging it"
                )
        loss = loss * weight
    if avg_factor is None:
        return reduce_loss(loss, reduction)
    if reduction == "mean":
        return loss.sum() / avg_factor
    if reduction == "none":
        return loss
    check_reduction(reduction)
    raise LossInputError(
        f"avg_factor cannot be used with reduction={reduction!r}; it applies only to "
        "'mean' (sum / avg_factor) and is ignored by 'none'"
    )


def weighted_loss(loss_func: F) -> F:
    """Turn an element-wise loss function into one that weights and reduces.

    The wrapped function gains keyword-only ``weight``, ``reduction`` (default
    ``mean``) and ``avg_factor`` arguments, handled by :func:`weight_reduce_loss`.

    Example:
        >>> @weighted_loss
        ... def l1(pred, target):
        ...     return (pred - target).abs()
        >>> l1(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]), reduction="sum")
        tensor(3.)
    """

    @functools.wraps(loss_func)
    def wrapper(
        *args: Any,
        weight: Tensor | float | None = None,
        reduction: str = "mean",
        avg_factor: float | Tensor | None = None,
        **kwargs: Any,
    ) -> Tensor:
        loss = loss_func(*args, **kwargs)
        return weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)

    return wrapper  # type: ignore[return-value]

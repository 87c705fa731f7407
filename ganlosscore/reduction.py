"""Reduction helpers with MMGeneration's semantics (``mmgen/models/losses/utils.py``).

Differences from MMGeneration, all deliberate:

* ``weight``, ``reduction`` and ``avg_factor`` are keyword-only, so a stray
  positional argument can never be taken for a weight;
* an unknown mode is a :class:`~ganlosscore.errors.ConfigError` listing the
  valid ones with the closest, and ``avg_factor`` with a mode that cannot use
  it a :class:`~ganlosscore.errors.LossInputError` naming the actual mode
  (MMGeneration always says ``reduction="sum"``);
* a ``weight`` that does not broadcast against the loss names both shapes;
* ``flatmean`` of a 1-D loss ``(N,)`` is that loss, one value per sample, as
  MMGeneration's docstring promises ("output will shape as [bz, ]"); its code,
  ``loss.mean(dim=list(range(1, loss.ndim)))``, passes ``dim=[]`` there, which
  torch reads as *every* dimension, and returns the scalar mean instead;
* :class:`~ganlosscore.errors.LossInputError` also refuses ``batchmean`` and
  ``flatmean`` of a 0-d loss (MMGeneration: an ``IndexError``, or the scalar
  back), a loss that is not a Tensor, a ``weight`` that is neither a Tensor
  nor a number, and an ``avg_factor``
  that is not a positive finite number or a one-element Tensor (MMGeneration
  divides by 0 into ``inf``/``NaN``);
* ``batchmean`` and ``mean`` with ``avg_factor`` sum a float16/bfloat16 loss
  in float32 and cast the quotient back (as ``torch.mean`` accumulates), so
  a sum above 65504 does not turn a representable mean into ``inf``;
* :func:`weighted_loss` refuses a function that has its own ``weight``,
  ``reduction`` or ``avg_factor`` parameter (``torch.nn.functional.mse_loss``,
  say), which the decorated function would take over and never pass on.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from numbers import Real
from typing import Any, Literal, ParamSpec, Protocol, cast, overload

import torch
from torch import Tensor

from .checks import REDUCTIONS, check_choice
from .errors import LossInputError, brief

__all__ = [
    "REDUCTIONS",
    "Reduction",
    "WeightedLoss",
    "check_reduction",
    "reduce_loss",
    "weight_reduce_loss",
    "weighted_loss",
]

Reduction = Literal["none", "mean", "sum", "batchmean", "flatmean"]

P = ParamSpec("P")


def check_reduction(reduction: object, *, where: str = "reduction") -> str:
    """``reduction`` if it is one of :data:`REDUCTIONS`, else a :class:`ConfigError`.

    Losses call this in their constructor, so that a typo fails at build time.
    """
    return check_choice(reduction, REDUCTIONS, where=where)


def _not_a_tensor(loss: object, what: str) -> LossInputError:
    return LossInputError(
        f"{what} needs the element-wise loss as a torch.Tensor, got "
        f"{type(loss).__name__}; compute the loss with torch operations "
        "(a plain number can be wrapped as torch.tensor(value))"
    )


_tensor_mean = Tensor.mean
_tensor_sum = Tensor.sum


def reduce_loss(loss: Tensor, reduction: str = "mean") -> Tensor:
    """Reduce an element-wise loss (MMGeneration's ``reduce_loss``).

    ``none`` returns it unchanged; ``mean`` and ``sum`` reduce every element;
    ``batchmean`` is ``sum / N`` with ``N = loss.shape[0]``; ``flatmean`` is the
    mean over all but the first dimension, giving shape ``(N,)``, so a 1-D loss
    ``(N,)`` (one value per sample already) comes back unchanged where
    MMGeneration would return its mean. ``batchmean`` and ``flatmean`` need a
    batch dimension: a 0-d loss is refused. An empty loss gives NaN for
    ``mean`` and ``batchmean``, as ``torch.mean`` does.

    Raises:
        ConfigError: ``reduction`` is not one of :data:`REDUCTIONS`.
        LossInputError: ``loss`` is not a Tensor, or a 0-d loss is given to
            ``batchmean`` or ``flatmean``.

    Example:
        >>> reduce_loss(torch.tensor([[1.0, 3.0], [5.0, 7.0]]), "flatmean")
        tensor([2., 6.])
    """
    # Tensor's own methods, unbound, raise TypeError for anything but a Tensor,
    # so the common modes pay for no isinstance check.
    try:
        if reduction == "mean":
            return _tensor_mean(loss)
        if reduction == "sum":
            return _tensor_sum(loss)
    except TypeError:
        if not isinstance(loss, Tensor):
            raise _not_a_tensor(loss, "reduce_loss") from None
        raise
    if not isinstance(loss, Tensor):
        raise _not_a_tensor(loss, "reduce_loss")
    if reduction == "none":
        return loss
    if reduction == "batchmean" or reduction == "flatmean":
        if loss.ndim == 0:
            raise LossInputError(
                f"reduction={reduction!r} needs a batch dimension (a loss of shape (N, ...)), "
                "got a 0-d loss of shape (); use reduction='mean' (or 'none') for a "
                "loss that is already a single value"
            )
        if reduction == "batchmean":
            return _divided_sum(loss, loss.shape[0])
        return loss.mean(dim=list(range(1, loss.ndim))) if loss.ndim > 1 else loss
    check_reduction(reduction)
    raise AssertionError("unreachable")  # pragma: no cover


_HALF = (torch.float16, torch.bfloat16)


def _divided_sum(loss: Tensor, divisor: float | Tensor) -> Tensor:
    """``loss.sum() / divisor`` (``batchmean``, ``mean`` with ``avg_factor``).

    A half-precision loss is summed in float32 and the quotient cast back, as
    ``torch.mean`` accumulates: its sum may overflow float16 (65504) where the
    quotient fits. A plain ``sum`` keeps the loss's dtype: there an overflow
    is the true value.
    """
    if loss.dtype in _HALF:
        return (loss.sum(dtype=torch.float32) / divisor).to(loss.dtype)
    return loss.sum() / divisor


def _as_number(value: object) -> float | None:
    """``value`` as a float if it is a real number (not a bool), including 0-d arrays."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # a 0-d numpy array
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def _check_avg_factor(avg_factor: object) -> float | Tensor:
    """``avg_factor`` if it can divide a sum, else a clear error.

    A number must be positive and finite. A Tensor must hold one value; its
    value is not checked, as reading it would wait for the device.
    """
    if type(avg_factor) in (int, float):  # the common case first, as cheaply as it goes
        value = float(avg_factor)  # type: ignore[arg-type]
    elif isinstance(avg_factor, Tensor):
        if avg_factor.numel() != 1:
            raise LossInputError(
                f"avg_factor must be a single value, got a tensor of shape "
                f"{tuple(avg_factor.shape)}; pass a number or a one-element tensor "
                "(the count of elements to average over)"
            )
        return avg_factor.reshape(())
    elif (number := _as_number(avg_factor)) is not None:  # numpy's numbers, fractions
        value = number
    else:
        raise LossInputError(
            f"avg_factor must be a positive number or a one-element tensor, got "
            f"{type(avg_factor).__name__} {brief(avg_factor)}"
        )
    if not (value > 0 and math.isfinite(value)):
        raise LossInputError(
            f"avg_factor must be a positive, finite number (the count of elements to "
            f"average over), got {brief(avg_factor)}; when nothing in a batch counts, skip "
            "the loss (return None from compute) or divide by max(count, 1)"
        )
    return value


def weight_reduce_loss(
    loss: Tensor,
    *,
    weight: Tensor | float | None = None,
    reduction: str = "mean",
    avg_factor: float | Tensor | None = None,
) -> Tensor:
    """Multiply by an element-wise ``weight``, then reduce (MMGeneration's ``weight_reduce_loss``).

    ``weight`` is a number or a Tensor that broadcasts to the loss's shape
    without enlarging it. With ``avg_factor`` the ``mean`` mode becomes
    ``sum / avg_factor`` (the number of valid elements, for instance) and
    ``none`` ignores it; every other mode refuses it, as averaging and summing
    cannot both apply. ``avg_factor`` is a positive number or a one-element
    Tensor (whose value is not checked: reading it would wait for the device);
    the ``mean`` is then a 0-d Tensor.

    A weight on another device than the loss fails with torch's own error.

    Raises:
        LossInputError: ``loss`` is not a Tensor; ``weight`` is neither a Tensor
            nor a number, or would enlarge the loss; ``avg_factor`` is not a
            positive number or one-element Tensor, or comes with a mode that
            cannot use it; and every error of :func:`reduce_loss`.
    """
    if weight is not None:
        if not isinstance(loss, Tensor):
            raise _not_a_tensor(loss, "weight_reduce_loss")
        if isinstance(weight, Tensor):
            if weight.shape != loss.shape:
                _check_weight_shape(weight, loss)
        elif type(weight) is not float and type(weight) is not int:
            number = _as_number(weight)
            if number is None:
                raise LossInputError(
                    f"weight must be a Tensor that broadcasts to the loss of shape "
                    f"{tuple(loss.shape)}, or a number; got {type(weight).__name__}"
                )
            weight = number  # a Fraction or numpy scalar, as torch takes it
        loss = loss * weight
    if avg_factor is None:
        return reduce_loss(loss, reduction)
    if reduction == "mean":
        if not isinstance(loss, Tensor):
            raise _not_a_tensor(loss, "weight_reduce_loss")
        return _divided_sum(loss, _check_avg_factor(avg_factor))
    if reduction == "none":
        return reduce_loss(loss, "none")
    check_reduction(reduction)
    raise LossInputError(
        f"avg_factor cannot be used with reduction={reduction!r}; it applies only to "
        "'mean' (sum / avg_factor) and is ignored by 'none'"
    )


def _check_weight_shape(weight: Tensor, loss: Tensor) -> None:
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


class WeightedLoss(Protocol[P]):
    """The type of a function decorated with :func:`weighted_loss`.

    A call without ``weight``, ``reduction`` and ``avg_factor`` is checked
    against the original function's parameters exactly. A call that passes any
    of them has the types of those three checked, while the original
    function's own arguments, and any other keyword, go unchecked: Python's
    typing cannot add keyword parameters to a ``ParamSpec`` (PEP 612 forbids
    keyword-only parameters between ``*args: P.args`` and ``**kwargs:
    P.kwargs``; python/typing#1009), and checking them against a fixed list
    would reject a function's own keywords. So ``l1(p, t, reductio="sum")`` is
    reported, ``l1(p, t, weight=w, reductio="sum")`` only fails when called.

    A decorated *method* is accessed through ``__get__``, typed as a callable
    of any arguments returning a Tensor: its calls are accepted, not checked
    (binding ``self`` would need a second ParamSpec, which typing cannot split
    off ``P``).
    """

    __name__: str
    __qualname__: str
    __wrapped__: Callable[P, Tensor]

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., Tensor]: ...

    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Tensor: ...
    @overload
    def __call__(
        self,
        *args: Any,
        weight: Tensor | float,
        reduction: str = ...,
        avg_factor: float | Tensor | None = ...,
        **kwargs: Any,
    ) -> Tensor: ...
    @overload
    def __call__(
        self,
        *args: Any,
        weight: Tensor | float | None = ...,
        reduction: str,
        avg_factor: float | Tensor | None = ...,
        **kwargs: Any,
    ) -> Tensor: ...
    @overload
    def __call__(
        self,
        *args: Any,
        weight: Tensor | float | None = ...,
        reduction: str = ...,
        avg_factor: float | Tensor,
        **kwargs: Any,
    ) -> Tensor: ...


# The keyword-only parameters weighted_loss adds, as they appear in the signature.
_ADDED = (
    inspect.Parameter(
        "weight", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Tensor | float | None
    ),
    inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="mean", annotation=str),
    inspect.Parameter(
        "avg_factor", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=float | Tensor | None
    ),
)


def _extended_signature(loss_func: Callable[..., Any], name: str) -> inspect.Signature:
    """``loss_func``'s signature with the keyword-only parameters in :data:`_ADDED`."""
    try:
        signature = inspect.signature(loss_func)
    except (TypeError, ValueError):  # a builtin without a signature: what the wrapper takes
        signature = inspect.Signature(
            [
                inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
            ]
        )
    taken = [p.name for p in _ADDED if p.name in signature.parameters]
    if taken:
        raise LossInputError(
            f"weighted_loss cannot wrap {name}: it has its own "
            f"{' and '.join(repr(t) for t in taken)} parameter{'s' if len(taken) > 1 else ''}, "
            "which the decorated function would keep for itself and never pass on "
            "(weighted_loss adds weight, reduction and avg_factor); decorate a function "
            "that "
            "returns the element-wise loss, e.g. one calling "
            "F.mse_loss(pred, target, reduction='none')"
        )
    parameters = list(signature.parameters.values())
    at = next(
        (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
        len(parameters),
    )
    parameters[at:at] = _ADDED
    return signature.replace(parameters=parameters, return_annotation=Tensor)


def weighted_loss(loss_func: Callable[P, Tensor]) -> WeightedLoss[P]:
    """Turn an element-wise loss function into one that weights and reduces.

    MMGeneration's ``weighted_loss``: the wrapped function gains keyword-only
    ``weight``, ``reduction`` (default ``mean``) and ``avg_factor`` arguments,
    handled by :func:`weight_reduce_loss`. Its signature
    (``inspect.signature``) is the original one with those three added; its
    static type is :class:`WeightedLoss`.

    Raises:
        LossInputError: ``loss_func`` is not callable or has a parameter of one
            of those three names; at call time, it returns something other than
            a Tensor, and every error of :func:`weight_reduce_loss`.

    Example:
        >>> @weighted_loss
        ... def l1(pred, target):
        ...     return (pred - target).abs()
        >>> l1(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]), reduction="sum")
        tensor(3.)
    """
    if not callable(loss_func):
        raise LossInputError(
            f"weighted_loss needs a function that returns the element-wise loss, got "
            f"{type(loss_func).__name__} {brief(loss_func)}"
        )
    name = getattr(loss_func, "__qualname__", None) or repr(loss_func)
    signature = _extended_signature(loss_func, name)

    @functools.wraps(loss_func)
    def wrapper(
        *args: Any,
        weight: Tensor | float | None = None,
        reduction: str = "mean",
        avg_factor: float | Tensor | None = None,
        **kwargs: Any,
    ) -> Tensor:
        loss = loss_func(*args, **kwargs)
        if not isinstance(loss, Tensor):
            raise _not_a_tensor(loss, f"weighted_loss (the value {name} returned)")
        return weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)

    wrapper.__signature__ = signature  # type: ignore[attr-defined]
    # A fresh dict: functools.wraps shares loss_func's own.
    wrapper.__annotations__ = {
        **getattr(loss_func, "__annotations__", {}),
        **{p.name: p.annotation for p in _ADDED},
        "return": Tensor,
    }
    return cast("WeightedLoss[P]", wrapper)

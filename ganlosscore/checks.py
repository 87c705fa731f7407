"""Checks of values where they enter, one line at each call site.

A loss checks its hyperparameters once, in ``__init__``, with these helpers,
and stores the result; ``compute`` then trusts them. Each helper returns the
value in its normal form (a ``float``, an ``int``, the chosen string) or raises
:class:`~ganlosscore.ConfigError` (hyperparameters) or
:class:`~ganlosscore.LossInputError` (tensors a loss is called with) saying
what was given, where, and what would be right::

    class HingeLoss(LossModule):
        def __init__(self, margin=1.0, mode="mean", **kwargs):
            super().__init__(**kwargs)
            self.margin = check_number(margin, where="margin", low=0)
            self.mode = check_choice(mode, ("mean", "sum"), where="mode")

This module imports nothing heavy (not torch), so the registry and the CLI
may use it too. It also re-exports the message helpers plugins need to word
their own errors as the core does: :func:`brief` (a bounded ``repr``),
:func:`did_you_mean` and :func:`several`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ConfigError, LossInputError, brief, did_you_mean, several

if TYPE_CHECKING:
    import torch

__all__ = [
    "REDUCTIONS",
    "brief",
    "check_bool",
    "check_choice",
    "check_floating_tensor",
    "check_int",
    "check_number",
    "check_probability",
    "did_you_mean",
    "several",
]

#: The reductions of :func:`ganlosscore.reduce_loss` (MMGeneration's), for
#: ``check_choice(reduction, REDUCTIONS, where=...)`` in a loss's constructor.
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum", "batchmean", "flatmean")

_S = TypeVar("_S", bound=str)


def check_number(
    value: Any,
    *,
    where: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within ``[low, high]`` (either end may be open).

    Any real number is accepted (``int``, ``float``, ``Fraction``, numpy's
    scalars), but not a ``bool``, and not an integer too large for a float
    (``10**400``).

    >>> check_number(2, where="gamma", low=0, low_open=True)
    2.0
    """
    number: float | None = None
    if not isinstance(value, bool) and isinstance(value, Real):
        try:
            number = float(value)
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number):
        raise ConfigError(f"must be a finite number, got {brief(value)}", where=where)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        raise ConfigError(f"must lie in {left}{lo}, {hi}{right}, got {brief(value)}", where=where)
    return number


def check_probability(value: Any, *, where: str) -> float:
    """``value`` as a ``float`` in ``[0, 1]``."""
    return check_number(value, where=where, low=0.0, high=1.0)


def check_int(value: Any, *, where: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (by default a positive integer).

    Accepts ``int`` and anything with ``__index__`` (numpy's integers), not a
    ``bool`` and not a float, even ``4.0``.
    """
    if not isinstance(value, bool):
        try:
            number = value.__index__()
        except (AttributeError, TypeError):
            number = None
        if number is not None and number >= low and (high is None or number <= high):
            return int(number)
    bound = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
    raise ConfigError(f"must be {bound}, got {brief(value)}", where=where)


def check_bool(value: Any, *, where: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (a string ``"false"`` is refused)."""
    if isinstance(value, bool):
        return value
    raise ConfigError(f"must be true or false, got {brief(value)}", where=where)


def check_choice(value: Any, choices: Iterable[_S], *, where: str) -> _S:
    """``value`` if it is one of ``choices``, else an error listing them with the closest.

    >>> check_choice("mean", ("mean", "sum"), where="reduction")
    'mean'
    """
    options = tuple(choices)
    if isinstance(value, str):
        for option in options:
            if value == option:
                return option
    hint = did_you_mean(value, options) if isinstance(value, str) else ""
    raise ConfigError(
        f"must be one of {', '.join(map(repr, options))}; got {brief(value)}.{hint}", where=where
    )


def check_floating_tensor(value: Any, *, where: str, key: str | None = None) -> torch.Tensor:
    """``value`` if it is a floating-point tensor, else a :class:`LossInputError`.

    For inputs a loss is called with (``where`` names the loss and argument,
    ``key`` the outputs key it was read from, if any). Costs an ``isinstance``
    and a dtype flag: nothing waits for the device. The protocol calls it for
    a loss's :attr:`~ganlosscore.LossModule.floating_inputs`.
    """
    import torch

    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value
    if isinstance(value, torch.Tensor):
        given = f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    else:
        given = f"{type(value).__name__} {brief(value)}"
    source = "" if key is None else f" in outputs[{key!r}]"
    fix = "map this input to another key" if key is not None else "pass another value"
    raise LossInputError(
        f"expected a floating-point torch.Tensor{source}, got {given}; convert it with "
        f"torch.as_tensor(value, dtype=torch.float32) or {fix}",
        where=where,
    )

"""Checks of hyperparameters (at construction) and of inputs (at call time).

A bad hyperparameter is a :class:`ganlosscore.ConfigError` raised by the
constructor, naming the class and the keyword; a bad input at call time is a
:class:`RegularizerInputError` naming the loss and what would be right.
"""

from __future__ import annotations

import math
from typing import Any

from ganlosscore import ConfigError, GanLossError

__all__ = [
    "NORM_MODES",
    "RegularizerInputError",
    "check_bool",
    "check_int",
    "check_no_apex",
    "check_norm_mode",
    "check_real",
]

#: The two gradient-norm conventions MMGeneration offers.
NORM_MODES: tuple[str, ...] = ("pixel", "HWC")


class RegularizerInputError(GanLossError, ValueError):
    """A regularizer received inputs it cannot use (a generator output, a missing term)."""


def check_norm_mode(value: Any, where: str) -> str:
    if value not in NORM_MODES:
        raise ConfigError(
            "norm_mode must be 'pixel' (norm over channels at each pixel) or 'HWC' "
            f"(norm over all of C, H, W per sample), got {value!r}",
            where=where,
        )
    return str(value)


def check_real(
    value: Any,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within ``[low, high]`` (either end optionally open)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"expected a finite number, got {value!r}", where=where)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        raise ConfigError(f"must lie in {left}{lo}, {hi}{right}, got {value!r}", where=where)
    return float(value)


def check_int(value: Any, where: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"must be an integer >= {low}, got {value!r}", where=where)
    return value


def check_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}", where=where)
    return value


def check_no_apex(value: Any, where: str) -> bool:
    """MMGeneration's ``use_apex_amp``: ``False`` builds, ``True`` says what replaces apex."""
    if check_bool(value, where):
        raise ConfigError(
            "NVIDIA apex is not supported, so use_apex_amp must be False (it is accepted "
            "only so MMGeneration configs work unchanged). For mixed precision, put a "
            "torch.amp.GradScaler in the outputs dict and map it to this loss's "
            "'loss_scaler' input, e.g. data_info={..., 'loss_scaler': 'loss_scaler'} "
            "(or pass loss_scaler=scaler when calling the loss directly)",
            where=where,
        )
    return False

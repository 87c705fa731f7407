"""Construction-time checks and the one error type this package raises at run time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from ganlosscore import ConfigError, GanLossError

REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum", "batchmean", "flatmean")

LogBase = Literal["e", "2"]


class PixelwiseInputError(GanLossError, ValueError):
    """A loss of this package received inputs it cannot use (mismatched shapes, a
    missing feature extractor, an unknown feature layer)."""


def check_reduction(reduction: Any, owner: str) -> str:
    if reduction not in REDUCTIONS:
        raise ConfigError(
            f"{owner} has no reduction {reduction!r}; valid modes are {', '.join(REDUCTIONS)}",
            where="reduction",
        )
    return str(reduction)


def check_avg_factor(avg_factor: Any, reduction: str, owner: str) -> float | None:
    if avg_factor is None:
        return None
    if (
        isinstance(avg_factor, bool)
        or not isinstance(avg_factor, (int, float))
        or not math.isfinite(avg_factor)
        or avg_factor <= 0
    ):
        raise ConfigError(
            f"{owner}: avg_factor must be a positive finite number (or None), got {avg_factor!r}",
            where="avg_factor",
        )
    if reduction not in ("mean", "none"):
        raise ConfigError(
            f"{owner}: avg_factor applies only to reduction='mean' (sum / avg_factor) and is "
            f"ignored by 'none'; it cannot be combined with reduction={reduction!r}",
            where="avg_factor",
        )
    return float(avg_factor)


def check_base(base: Any, owner: str) -> LogBase:
    """Normalise a log base: MMGeneration writes ``'e'`` or ``'2'``; ``2`` is accepted too."""
    if base == "e" or (isinstance(base, float) and base == math.e):
        return "e"
    if base in ("2", 2) and not isinstance(base, bool):
        return "2"
    raise ConfigError(f"{owner}: base must be 'e' (nats) or '2' (bits), got {base!r}", where="base")


def check_number(value: Any, where: str, owner: str, *, minimum: float | None = None) -> float:
    """A finite number (``where`` is the config key, e.g. ``'eps'``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{owner}: {where} must be a finite number, got {value!r}", where=where)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{owner}: {where} must be >= {minimum}, got {value!r}", where=where)
    return float(value)


def resolve_default_data_info(
    data_info: Mapping[str, str] | bool | None,
    default: Mapping[str, str],
    owner: str,
) -> Mapping[str, str] | Literal[False]:
    """MMGeneration's "``None`` means the class default" rule, within the core's protocol.

    ``None`` gives a copy of ``default`` (so MMGeneration configs that omit
    ``data_info`` keep working); ``False`` is passed on: the core's opt-out of
    a class default (the loss is then called with its inputs directly). A
    mapping is passed on unchanged (the core checks it against ``compute``).
    """
    if data_info is None:
        return dict(default)
    if data_info is False:
        return False
    if data_info is True:
        raise ConfigError(
            f"{owner}: data_info=True is not a mapping; leave it out for the default "
            f"{dict(default)}, give a mapping, or pass data_info=False to call the "
            "loss with its inputs directly",
            where="data_info",
        )
    return data_info

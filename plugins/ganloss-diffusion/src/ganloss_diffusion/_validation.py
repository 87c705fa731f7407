"""Construction-time checks and the one error type this package raises at run time."""

from __future__ import annotations

import math
from typing import Any

from ganlosscore import ConfigError, GanLossError

REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum", "batchmean", "flatmean")


class DiffusionInputError(GanLossError, ValueError):
    """A diffusion loss received inputs it cannot use (shapes, a denoiser's output)."""


def check_reduction(reduction: Any, owner: str, where: str = "reduction") -> str:
    if reduction not in REDUCTIONS:
        raise ConfigError(
            f"{owner} has no reduction {reduction!r}; valid modes are {', '.join(REDUCTIONS)}",
            where=where,
        )
    return str(reduction)


def check_number(
    value: Any,
    where: str,
    owner: str,
    *,
    positive: bool = False,
    minimum: float | None = None,
) -> float:
    """A finite number (``where`` is the config key, e.g. ``'sigma_data'``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{owner}: {where} must be a finite number, got {value!r}", where=where)
    if positive and value <= 0:
        raise ConfigError(f"{owner}: {where} must be > 0, got {value!r}", where=where)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{owner}: {where} must be >= {minimum}, got {value!r}", where=where)
    return float(value)


def log_prefix(prefix_name: str | None, loss_name: str, owner: str, where: str) -> str:
    """The prefix of extra logged values, free of ``loss`` so they never join the total.

    MMGeneration's ``prefix_name`` must start with ``loss`` (``'loss_mse'``);
    we drop that start (``'mse'``). Without a prefix, or with MMGeneration's
    default ``'loss'``, the loss name without ``loss_`` is used
    (``'loss_ddpm_mse'`` gives ``'ddpm_mse'``).
    """
    if prefix_name is not None and not isinstance(prefix_name, str):
        raise ConfigError(
            f"{owner}: prefix_name must be a string, got {prefix_name!r}", where=where
        )
    prefix = (prefix_name or "").removeprefix("loss").lstrip("_")
    if not prefix:
        prefix = loss_name.removeprefix("loss_").replace("loss", "").strip("_") or "diffusion"
    if "loss" in prefix:
        raise ConfigError(
            f"{owner}: the logged values would be named {prefix!r}_..., which contains 'loss'; "
            "names containing 'loss' are summed into the total by the default aggregation, "
            "and these values are for logging only. Choose a prefix_name without 'loss' "
            "after its start (e.g. 'loss_mse' or 'mse')",
            where=where,
        )
    return prefix

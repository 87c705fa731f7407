"""Checks of hyperparameters and flags, with the error messages in one place."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

import torch

from ganlosscore import ConfigError

__all__ = ["check_choice", "check_finite_number", "check_flag"]


def check_choice(value: Any, choices: Sequence[str], *, where: str) -> str:
    """Return ``value`` if it is one of ``choices``, else a ConfigError listing them."""
    if isinstance(value, str) and value in choices:
        return value
    hint = ""
    if isinstance(value, str):
        match = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
        hint = f" Did you mean {match[0]!r}?" if match else ""
    raise ConfigError(
        f"unknown gan_type {value!r}; valid types are {', '.join(map(repr, choices))}.{hint}",
        where=where,
    )


def check_finite_number(value: Any, *, where: str) -> float:
    """Return ``value`` as a float if it is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"must be a finite number, got {value!r}", where=where)
    return float(value)


def check_flag(value: Any, *, where: str) -> bool:
    """A boolean call argument such as ``target_is_real`` or ``is_disc``.

    Accepts ``bool``, the integers 0 and 1, and one-element tensors holding
    either, since models sometimes store flags as tensors. Anything else (a
    string ``"False"`` would be truthy) is refused rather than read as true.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        item = value.item()
        if item in (0, 1):
            return bool(item)
    raise ConfigError(
        f"must be a bool (True or False), got {type(value).__name__} {value!r}", where=where
    )

"""The toybench configuration: the loss lists and the ``[toybench]`` run settings.

A toybench config file has three top-level keys: ``disc`` and ``gen``, the
loss lists built by ganlosscore's aggregator, and ``toybench``, the settings
of the run (dataset, steps, models, optimizer). Every setting the file leaves
out takes its value from the embedded default (``default.toml`` in this
package, printed by ``ganloss toybench --print-config``). This module imports
no torch.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from ganlosscore import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DATASET_NAMES",
    "TOP_LEVEL_KEYS",
    "Settings",
    "default_config",
    "default_config_text",
    "resolve_settings",
    "split_config",
]

#: The datasets of :mod:`ganloss_toybench.data`, by name.
DATASET_NAMES = ("ring", "grid")
#: What a toybench config file may hold.
TOP_LEVEL_KEYS = ("disc", "gen", "toybench")


@dataclass(frozen=True)
class Settings:
    """The settings of one toybench run (the ``[toybench]`` table)."""

    dataset: str
    steps: int
    batch_size: int
    disc_steps: int
    latent_dim: int
    gen_hidden: tuple[int, ...]
    disc_hidden: tuple[int, ...]
    lr_gen: float
    lr_disc: float
    betas: tuple[float, float]
    decay_start: float
    num_samples: int
    seed: int
    threads: int

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON/TOML values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def default_config_text() -> str:
    """The text of the embedded default config (``default.toml``)."""
    return resources.files(__package__).joinpath("default.toml").read_text(encoding="utf-8")


def default_config() -> dict[str, Any]:
    """The embedded default config: ``{"disc": [...], "gen": [...], "toybench": {...}}``."""
    config: dict[str, Any] = tomllib.loads(default_config_text())
    return config


def split_config(config: Mapping[str, Any], where: str) -> tuple[Any, Any, Mapping[str, Any]]:
    """The ``disc`` and ``gen`` loss lists and the ``toybench`` table of a config."""
    for key in config:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                f"a toybench config holds only {', '.join(TOP_LEVEL_KEYS)}; "
                f"unknown top-level key {key!r}.{_did_you_mean(str(key), TOP_LEVEL_KEYS)}",
                where=f"{where}: {key}",
            )
    missing = [k for k in ("disc", "gen") if k not in config]
    if missing:
        raise ConfigError(
            f"the config has no {' and no '.join(repr(k) for k in missing)} loss list; a toybench "
            "config needs both, e.g. disc = [{type = 'DiscAdversarialLoss', gan_type = 'ns', "
            "data_info = {...}}] (see `ganloss toybench --print-config`)",
            where=where,
        )
    section = config.get("toybench", {})
    if not isinstance(section, Mapping):
        raise ConfigError(
            f"'toybench' must be a table of settings, got {type(section).__name__}",
            where=f"{where}: toybench",
        )
    return config["disc"], config["gen"], section


def resolve_settings(
    section: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *, where: str = ""
) -> Settings:
    """Check a ``[toybench]`` table and fill it in from the embedded default.

    ``overrides`` (command-line options; ``None`` values are ignored) win over
    ``section``, which wins over the default. Every problem is a
    :class:`~ganlosscore.ConfigError` naming the key.
    """
    merged: dict[str, Any] = dict(default_config()["toybench"])
    for key, value in section.items():
        if key not in _CHECKS:
            raise ConfigError(
                f"unknown setting {key!r}.{_did_you_mean(str(key), _CHECKS)} "
                f"The settings are: {', '.join(_CHECKS)}",
                where=f"{where}toybench.{key}",
            )
        merged[key] = value
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    values = {key: check(merged[key], f"{where}toybench.{key}") for key, check in _CHECKS.items()}
    return Settings(**values)


# -- checks, one per setting -------------------------------------------------------


def _did_you_mean(key: str, options: Any) -> str:
    match = difflib.get_close_matches(key, list(options), n=1)
    return f" Did you mean {match[0]!r}?" if match else ""


def _int(minimum: int) -> Callable[[Any, str], int]:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"must be an integer >= {minimum}, got {value!r}", where=where)
        return value

    return check


def _float(low: float, high: float, *, open_low: bool = False) -> Callable[[Any, str], float]:
    def check(value: Any, where: str) -> float:
        ok = (
            not isinstance(value, bool)
            and isinstance(value, (int, float))
            and (low < value if open_low else low <= value)
            and value <= high
        )
        if not ok:
            interval = f"{'(' if open_low else '['}{low}, {high}]"
            raise ConfigError(f"must be a number in {interval}, got {value!r}", where=where)
        return float(value)

    return check


def _widths(value: Any, where: str) -> tuple[int, ...]:
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise ConfigError(
            f"must be a non-empty list of layer widths (positive integers), got {value!r}",
            where=where,
        )
    return tuple(value)


def _betas(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1 for v in value
        )
    ):
        raise ConfigError(
            f"must be Adam's two betas, each in [0, 1), e.g. [0.0, 0.99]; got {value!r}",
            where=where,
        )
    return (float(value[0]), float(value[1]))


def _dataset(value: Any, where: str) -> str:
    if value not in DATASET_NAMES:
        raise ConfigError(f"must be one of {', '.join(DATASET_NAMES)}, got {value!r}", where=where)
    return str(value)


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "dataset": _dataset,
    "steps": _int(1),
    "batch_size": _int(1),
    "disc_steps": _int(1),
    "latent_dim": _int(1),
    "gen_hidden": _widths,
    "disc_hidden": _widths,
    "lr_gen": _float(0.0, 1.0, open_low=True),
    "lr_disc": _float(0.0, 1.0, open_low=True),
    "betas": _betas,
    "decay_start": _float(0.0, 1.0),
    "num_samples": _int(1),
    "seed": _int(0),
    "threads": _int(1),
}

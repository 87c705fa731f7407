"""The toybench configuration: the loss lists and the ``[toybench]`` run settings.

A toybench config file has three top-level keys: ``disc`` and ``gen``, the
loss lists built by ganlosscore's aggregator, and ``toybench``, the settings
of the run (dataset, steps, models, optimizer). Every setting the file leaves
out takes its value from the embedded default (``default.toml`` in this
package, printed by ``ganloss toybench --print-config``). Sizes are capped
(``MAX_STEPS``, ``MAX_WIDTH``, ``MAX_THREADS``, ...), so that a
stray digit is a message rather than a run out of memory. :func:`check_config`
reports every problem of a file at once. Importing this module imports no
torch (calling :func:`check_config` does: it builds the losses).
"""

from __future__ import annotations

import difflib
import os
import reprlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from ganlosscore import ConfigError, GanLossError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "DATASET_NAMES",
    "TOP_LEVEL_KEYS",
    "Settings",
    "check_config",
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
    """The ``disc`` and ``gen`` loss lists and the ``toybench`` table of a config.

    Every problem of the top level (each unknown key, the missing lists, a
    ``toybench`` that is not a table) is reported in one
    :class:`~ganlosscore.ConfigError` naming the file ``where``.
    """
    section, problems = _split(config)
    if problems:
        raise _one_error(problems, "the toybench config", file=where)
    return config["disc"], config["gen"], section if section is not None else {}


def resolve_settings(
    section: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *, where: str = ""
) -> Settings:
    """Check a ``[toybench]`` table and fill it in from the embedded default.

    ``overrides`` (command-line options; ``None`` values are ignored) win over
    ``section``, which wins over the default. Every problem (each unknown
    setting, each bad value) is reported in one
    :class:`~ganlosscore.ConfigError`, each naming its key after the prefix
    ``where`` (``"gan.toml: "`` gives ``gan.toml: toybench.steps``); a bad
    override is named as its option, ``--steps``.
    """
    values, problems = _settings(section, overrides, where)
    if problems:
        raise _one_error(problems, "the [toybench] settings")
    return Settings(**values)


def check_config(
    config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *, where: str
) -> tuple[Settings, Any, Any]:
    """Check a whole toybench config and report every problem of it at once.

    Returns ``(settings, disc_config, gen_config)``. Checked together, so that
    one run of ``ganloss toybench --config`` lists everything to fix: the top
    level, every setting (``overrides`` as in :func:`resolve_settings`) and
    both loss lists, each loss built by ganlosscore and each ``data_info`` key
    checked against the outputs dict of its step. All problems are raised as
    one :class:`~ganlosscore.ConfigError` naming the file ``where`` (a single
    problem is raised as itself); its ``problems`` hold them one by one. Builds
    the losses, so it imports torch.
    """
    section, problems = _split(config)
    values, found = _settings(section if section is not None else {}, overrides, "")
    problems += found
    for name in ("disc", "gen"):
        if name in config:
            problems += _loss_list_problems(name, config[name])
    if problems:
        raise _one_error(problems, "the toybench config", file=where)
    return Settings(**values), config["disc"], config["gen"]


# -- collecting problems ------------------------------------------------------------


def _split(config: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[GanLossError]]:
    """The ``toybench`` table (None if it is not a table) and every problem of the top level."""
    problems: list[GanLossError] = []
    for key in config:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                ConfigError(
                    f"a toybench config holds only {', '.join(TOP_LEVEL_KEYS)}; "
                    f"unknown top-level key {key!r}.{_did_you_mean(str(key), TOP_LEVEL_KEYS)}",
                    where=str(key),
                )
            )
    missing = [k for k in ("disc", "gen") if k not in config]
    if missing:
        problems.append(
            ConfigError(
                f"the config has no {' and no '.join(repr(k) for k in missing)} loss list; a "
                "toybench config needs both, e.g. disc = [{type = 'DiscAdversarialLoss', "
                "gan_type = 'ns', data_info = {...}}] (see `ganloss toybench --print-config`)"
            )
        )
    section: Mapping[str, Any] | None = config.get("toybench", {})
    if not isinstance(section, Mapping):
        problems.append(
            ConfigError(
                f"'toybench' must be a table of settings, got {type(section).__name__}",
                where="toybench",
            )
        )
        section = None
    return section, problems


def _settings(
    section: Mapping[str, Any], overrides: Mapping[str, Any] | None, prefix: str
) -> tuple[dict[str, Any], list[GanLossError]]:
    """The checked values of every setting, and every problem (each at ``{prefix}toybench.key``)."""
    problems: list[GanLossError] = []
    merged: dict[str, Any] = dict(default_config()["toybench"])
    for key, value in section.items():
        if key not in _CHECKS:
            problems.append(
                ConfigError(
                    f"unknown setting {key!r}.{_did_you_mean(str(key), _CHECKS)} "
                    f"The settings are: {', '.join(_CHECKS)}",
                    where=f"{prefix}toybench.{key}",
                )
            )
        else:
            merged[key] = value
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    merged.update(given)
    values: dict[str, Any] = {}
    for key, check in _CHECKS.items():
        where = f"--{key}" if key in given else f"{prefix}toybench.{key}"
        try:
            values[key] = check(merged[key], where)
        except ConfigError as exc:
            problems.append(exc)
    return values, problems


def _loss_list_problems(name: str, losses: Any) -> list[GanLossError]:
    """Every problem of one loss list: each loss's own, each ``data_info`` key its step lacks.

    The losses are built one by one, as ganlosscore's aggregator builds them,
    so that a loss that builds is checked against the step's outputs even when
    another loss of the list does not build.
    """
    from ganlosscore import LossAggregator, build_aggregator, build_loss

    from .training import DISC_OUTPUT_KEYS, GEN_OUTPUT_KEYS

    items = [losses] if isinstance(losses, Mapping) else losses  # MMGeneration's single dict
    if not isinstance(items, (list, tuple)):
        try:  # not a list of losses: the aggregator says what one is
            build_aggregator(losses, name=name)
        except GanLossError as exc:
            return list(exc.problems or (exc,))
    if not items:
        return [
            ConfigError(
                f"the {name} loss list is empty; a toybench step needs at least one loss "
                f"computed at every step, such as {name.capitalize()}AdversarialLoss",
                where=name,
            )
        ]
    keys = DISC_OUTPUT_KEYS if name == "disc" else GEN_OUTPUT_KEYS
    built: list[Any] = []
    problems: list[GanLossError] = []
    for index, item in enumerate(items):
        try:
            loss: Any = build_loss(item, where=f"{name}[{index}]")
        except GanLossError as exc:
            problems += exc.problems or (exc,)
            continue
        built.append(loss)
        problems += [
            ConfigError(
                f"{type(loss).__name__} reads {arg!r} from outputs key {key!r}, which the "
                f"toybench's {name} step does not provide; its keys are {', '.join(keys)}",
                where=f"{name}[{index}].data_info.{arg}",
            )
            for arg, key in (loss.data_info or {}).items()
            if key not in keys
        ]
    if not problems:
        try:  # what the losses of a list must agree on (their logged names)
            LossAggregator(built, name=name)
        except GanLossError as exc:
            problems += exc.problems or (exc,)
    return problems


def _one_error(problems: list[GanLossError], what: str, *, file: str | None = None) -> GanLossError:
    """One error for ``problems``: the problem itself if there is one, else a
    :class:`~ganlosscore.ConfigError` listing them (``N problems in {what}:``),
    each kept in its ``problems``; ``file`` leads the message.
    """
    flat = [p for problem in problems for p in (problem.problems or (problem,))]
    if len(flat) == 1:
        error = flat[0]
    else:
        error = ConfigError(f"{len(flat)} problems in {what}:", problems=flat)
    return error.in_file(file) if file else error


# -- checks, one per setting -------------------------------------------------------

#: The largest value of each size: far above what a 2-D toy GAN needs (the
#: default is in parentheses), low enough that a stray digit fails here with a
#: message rather than running the machine out of memory or time.
MAX_STEPS = 1_000_000  # (12000) the run keeps every step's logged values
MAX_BATCH_SIZE = 16_384  # (128)
MAX_DISC_STEPS = 100  # (1)
MAX_LATENT_DIM = 1_024  # (2)
MAX_WIDTH = 2_048  # (128) a hidden layer of width w holds w * w weights, and Adam two more
MAX_LAYERS = 8  # (3)
MAX_NUM_SAMPLES = 100_000  # (2500) generated, and measured, in one batch
MAX_SEED = 2**63 - 1  # torch.manual_seed takes a 64-bit integer
#: (1) Not the machine's CPU count: a result is reproducible bit for bit for a
#: given thread count, so a config from a larger machine must run on a smaller
#: one (slower). A machine with more CPUs than this may use them all.
MAX_THREADS = 256


def _did_you_mean(key: str, options: Any) -> str:
    match = difflib.get_close_matches(key, list(options), n=1)
    return f" Did you mean {match[0]!r}?" if match else ""


_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = 10
_SHORT.maxstring = 60
_SHORT.maxlong = 40


def _show(value: Any) -> str:
    """``repr(value)``, shortened: a config value may be a list of a million widths."""
    return _SHORT.repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(minimum: int, maximum: int, why: str = "") -> Callable[[Any, str], int]:
    def check(value: Any, where: str) -> int:
        if not _is_int(value) or not minimum <= value <= maximum:
            raise ConfigError(
                f"must be an integer in [{minimum}, {maximum}]{why}, got {_show(value)}",
                where=where,
            )
        return int(value)

    return check


def _threads(value: Any, where: str) -> int:
    return _int(1, max(MAX_THREADS, os.cpu_count() or 1))(value, where)


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
            raise ConfigError(f"must be a number in {interval}, got {_show(value)}", where=where)
        return float(value)

    return check


def _widths(value: Any, where: str) -> tuple[int, ...]:
    if (
        not isinstance(value, (list, tuple))
        or not 1 <= len(value) <= MAX_LAYERS
        or not all(_is_int(v) and 1 <= v <= MAX_WIDTH for v in value)
    ):
        raise ConfigError(
            f"must be a list of 1 to {MAX_LAYERS} layer widths, each an integer in "
            f"[1, {MAX_WIDTH}] (e.g. [128, 128, 128]), got {_show(value)}",
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
            f"must be Adam's two betas, each in [0, 1), e.g. [0.0, 0.99]; got {_show(value)}",
            where=where,
        )
    return (float(value[0]), float(value[1]))


def _dataset(value: Any, where: str) -> str:
    if value not in DATASET_NAMES:
        raise ConfigError(
            f"must be one of {', '.join(DATASET_NAMES)}, got {_show(value)}", where=where
        )
    return str(value)


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "dataset": _dataset,
    "steps": _int(1, MAX_STEPS),
    "batch_size": _int(1, MAX_BATCH_SIZE),
    "disc_steps": _int(1, MAX_DISC_STEPS),
    "latent_dim": _int(1, MAX_LATENT_DIM),
    "gen_hidden": _widths,
    "disc_hidden": _widths,
    "lr_gen": _float(0.0, 1.0, open_low=True),
    "lr_disc": _float(0.0, 1.0, open_low=True),
    "betas": _betas,
    "decay_start": _float(0.0, 1.0),
    "num_samples": _int(1, MAX_NUM_SAMPLES),
    "seed": _int(0, MAX_SEED),
    "threads": _threads,
}

"""The toybench configuration: the loss lists and the ``[toybench]`` run settings.

A toybench config file has three top-level keys: ``disc`` and ``gen``, the
loss lists built by ganlosscore's aggregator, and ``toybench``, the settings
of the run (dataset, steps, models, optimizer). Every setting the file leaves
out takes its value from the embedded default (``default.toml`` in this
package, printed by ``ganloss toybench --print-config``). The sub-table
``[toybench.images]`` holds the settings that differ for the image datasets
(``digits``, ``stacked-digits``); on those, its values win over the table's,
the default's layers first, then the file's: default ``[toybench]``, default
``[toybench.images]``, the file's ``[toybench]``, the file's
``[toybench.images]``, the command line. Sizes are capped
(``MAX_STEPS``, ``MAX_WIDTH``, ``MAX_THREADS``, ...), so that a
stray digit is a message rather than a run out of memory. :func:`check_config`
reports every problem of a file at once. Importing this module imports no
torch (calling :func:`check_config` does: it builds the losses).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from ganlosscore import ConfigError, GanLossError
from ganlosscore.checks import (
    brief,
    check_bool,
    check_choice,
    check_int,
    check_number,
    did_you_mean,
    several,
)

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
DATASET_NAMES = ("ring", "grid", "digits", "stacked-digits")
#: The image datasets: the ``[toybench.images]`` table applies to them.
IMAGE_DATASET_NAMES = ("digits", "stacked-digits")
#: ``networks``: MLPs (every dataset) or small CNNs (the image datasets)
NETWORKS = ("mlp", "conv")
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
    ema: float
    #: labels are the mode indices; a conditional generator and a projection discriminator
    conditional: bool = False
    #: ``mlp`` (MLPs; on the digits LeakyReLU ones on the flat image) or ``conv`` (digits: CNNs)
    networks: str = "mlp"
    #: sizes of the categorical codes the generator reads off its noise (``LatentCodes``)
    latent_codes: tuple[int, ...] = ()

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
        raise several(problems, "the toybench config").in_file(where)
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
        raise several(problems, "the [toybench] settings")
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
    conditional = bool(values.get("conditional", False))
    for name in ("disc", "gen"):
        if name in config:
            problems += _loss_list_problems(name, config[name], conditional)
    if problems:
        raise several(problems, "the toybench config").in_file(where)
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
                    f"unknown top-level key {key!r}.{did_you_mean(str(key), TOP_LEVEL_KEYS)}",
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
    """The checked values of every setting, and every problem (each at ``{prefix}toybench.key``).

    The layers, later ones winning: the default's ``[toybench]``, its
    ``[toybench.images]`` (image datasets only), ``section``, the section's
    ``images`` table (image datasets only), ``overrides``.
    """
    problems: list[GanLossError] = []
    default = dict(default_config()["toybench"])
    default_images = default.pop("images")
    own: dict[str, Any] = {}
    own_images: dict[str, Any] = {}
    for key, value in section.items():
        if key == "images":
            own_images = _images_table(value, f"{prefix}toybench.images", problems)
        elif _known(key, f"{prefix}toybench.{key}", problems):
            own[key] = value
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    dataset = given.get("dataset", own.get("dataset", default["dataset"]))
    images = dataset in IMAGE_DATASET_NAMES
    layers = [(default, "toybench"), (default_images if images else {}, "toybench.images")]
    layers += [(own, "toybench"), (own_images if images else {}, "toybench.images")]
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for layer, table in layers:
        for key, value in layer.items():
            merged[key], origin[key] = value, f"{prefix}{table}.{key}"
    for key, value in given.items():
        merged[key], origin[key] = value, f"--{key}"
    values: dict[str, Any] = {}
    for key, check in _CHECKS.items():
        try:
            values[key] = check(merged[key], origin[key])
        except ConfigError as exc:
            problems.append(exc)
    if values.get("networks") == "conv" and values.get("dataset") not in IMAGE_DATASET_NAMES:
        problems.append(
            ConfigError(
                f"convolutional networks are for the image datasets (digits, stacked-digits); "
                f'got dataset {brief(values.get("dataset"))} (set networks = "conv" in '
                "[toybench.images], or leave it out)",
                where=origin["networks"],
            )
        )
    codes = values.get("latent_codes") or ()
    if codes and len(codes) > values.get("latent_dim", MAX_LATENT_DIM):
        problems.append(
            ConfigError(
                f"each code is read off one noise coordinate: {len(codes)} codes need "
                f"latent_dim >= {len(codes)}, got {values['latent_dim']}",
                where=origin["latent_codes"],
            )
        )
    if codes and values.get("conditional"):
        problems.append(
            ConfigError(
                "a conditional run's generator reads its labels, not latent codes (leave "
                "latent_codes out, or [] in [toybench], for a conditional run)",
                where=origin["latent_codes"],
            )
        )
    if values.get("conditional") and values.get("dataset") in IMAGE_DATASET_NAMES:
        problems.append(
            ConfigError(
                f"a conditional run trains on the 2-D mixtures (ring, grid), whose labels are "
                f"the mode indices; got dataset {brief(values['dataset'])} (choose ring or "
                "grid, or leave conditional off)",
                where=origin["conditional"],
            )
        )
    return values, problems


def _known(key: Any, where: str, problems: list[GanLossError]) -> bool:
    """Whether ``key`` is a setting; if not, a problem saying which are."""
    if key in _CHECKS:
        return True
    problems.append(
        ConfigError(
            f"unknown setting {key!r}.{did_you_mean(str(key), _CHECKS)} "
            f"The settings are: {', '.join(_CHECKS)}",
            where=where,
        )
    )
    return False


def _images_table(value: Any, where: str, problems: list[GanLossError]) -> dict[str, Any]:
    """The settings of a ``[toybench.images]`` table (every setting but ``dataset``)."""
    if not isinstance(value, Mapping):
        problems.append(
            ConfigError(
                "must be a table of the settings that differ on the image datasets "
                f"(digits, stacked-digits), e.g. {{steps = 3000}}; got {type(value).__name__}",
                where=where,
            )
        )
        return {}
    table: dict[str, Any] = {}
    for key, item in value.items():
        if key == "dataset":
            problems.append(
                ConfigError(
                    "the images table applies once the dataset is chosen; set dataset in "
                    "[toybench] or with --dataset",
                    where=f"{where}.dataset",
                )
            )
        elif _known(key, f"{where}.{key}", problems):
            table[key] = item
    return table


def _loss_list_problems(name: str, losses: Any, conditional: bool = False) -> list[GanLossError]:
    """Every problem of one loss list: each loss's own, each ``data_info`` key its step lacks.

    The losses are built one by one, as ganlosscore's aggregator builds them,
    so that a loss that builds is checked against the step's outputs even when
    another loss of the list does not build.
    """
    from ganlosscore import LossAggregator, build_aggregator, build_loss

    from .training import output_keys, unknown_key_message

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
    keys = output_keys(name, conditional)
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
                unknown_key_message(loss, arg, key, name, conditional),
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


# -- checks, one per setting -------------------------------------------------------

#: The largest value of each size: far above what a toy GAN needs (the 2-D
#: default is in parentheses), low enough that a stray digit fails here with a
#: message rather than running the machine out of memory or time.
MAX_STEPS = 1_000_000  # (12000) the run keeps every step's logged values
MAX_BATCH_SIZE = 16_384  # (128)
MAX_DISC_STEPS = 100  # (1)
MAX_LATENT_DIM = 1_024  # (2)
MAX_WIDTH = 2_048  # (128) a hidden layer of width w holds w * w weights, and Adam two more
MAX_LAYERS = 8  # (3)
MAX_CODES = 64  # (0; 6 on the digits) categorical codes the generator reads off its noise
MAX_CODE_SIZE = 1_024  # (10) categories of one code: that many one-hot inputs
MAX_NUM_SAMPLES = 100_000  # (2500) generated, and measured, in one batch
MAX_SEED = 2**63 - 1  # torch.manual_seed takes a 64-bit integer
#: (1) Not the machine's CPU count: a result is reproducible bit for bit for a
#: given thread count, so a config from a larger machine must run on a smaller
#: one (slower). A machine with more CPUs than this may use them all.
MAX_THREADS = 256


def _int(low: int, high: int) -> Callable[[Any, str], int]:
    return lambda value, where: check_int(value, where=where, low=low, high=high)


def _threads(value: Any, where: str) -> int:
    return check_int(value, where=where, high=max(MAX_THREADS, os.cpu_count() or 1))


def _rate(value: Any, where: str) -> float:
    return check_number(value, where=where, low=0.0, high=1.0, low_open=True)


def _fraction(value: Any, where: str) -> float:
    return check_number(value, where=where, low=0.0, high=1.0)


def _below_one(value: Any, where: str) -> float:
    return check_number(value, where=where, low=0.0, high=1.0, high_open=True)


def _int_list(
    lengths: tuple[int, int], what: str, low: int, high: int, example: str
) -> Callable[[Any, str], tuple[int, ...]]:
    """A check of a list of ``lengths[0]..lengths[1]`` integers, each in ``[low, high]``."""
    count = f"at most {lengths[1]}" if lengths[0] == 0 else f"{lengths[0]} to {lengths[1]}"

    def check(value: Any, where: str) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)) or not lengths[0] <= len(value) <= lengths[1]:
            raise ConfigError(
                f"must be a list of {count} {what}, each an integer in [{low}, {high}] "
                f"({example}), got {brief(value)}",
                where=where,
            )
        return tuple(
            check_int(v, where=f"{where}[{i}]", low=low, high=high) for i, v in enumerate(value)
        )

    return check


_widths = _int_list((1, MAX_LAYERS), "layer widths", 1, MAX_WIDTH, "e.g. [128, 128, 128]")
_codes = _int_list(
    (0, MAX_CODES), "code sizes", 2, MAX_CODE_SIZE, "e.g. [10, 10, 10], or [] for none"
)


def _betas(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(
            f"must be Adam's two betas, each in [0, 1), e.g. [0.0, 0.99]; got {brief(value)}",
            where=where,
        )
    first, second = (_below_one(v, f"{where}[{i}]") for i, v in enumerate(value))
    return (first, second)


def _dataset(value: Any, where: str) -> str:
    return check_choice(value, DATASET_NAMES, where=where)


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "dataset": _dataset,
    "steps": _int(1, MAX_STEPS),
    "batch_size": _int(1, MAX_BATCH_SIZE),
    "disc_steps": _int(1, MAX_DISC_STEPS),
    "latent_dim": _int(1, MAX_LATENT_DIM),
    "gen_hidden": _widths,
    "disc_hidden": _widths,
    "lr_gen": _rate,
    "lr_disc": _rate,
    "betas": _betas,
    "decay_start": _fraction,
    "num_samples": _int(1, MAX_NUM_SAMPLES),
    "seed": _int(0, MAX_SEED),
    "threads": _threads,
    "ema": _below_one,
    "conditional": lambda value, where: check_bool(value, where=where),
    "networks": lambda value, where: check_choice(value, NETWORKS, where=where),
    "latent_codes": _codes,
}

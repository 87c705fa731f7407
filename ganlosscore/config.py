"""Configuration: loss config dicts, aggregator lists, and config files.

A loss config is a dict: ``type`` (a registered name, ``"dist-name:Name"``,
or a class object passed in code), the common keywords (``loss_weight``,
``data_info``, ``loss_name``, ``interval``) and the class's own
hyperparameters. ``type`` only ever resolves through the registry, so a config
file cannot import a module or run code. Every problem is reported with its
place in the config, e.g. ``disc[2].data_info.pred``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, GanLossError, did_you_mean
from .registry import get_loss_class

if TYPE_CHECKING:
    from .aggregation import LossAggregator, NonFinitePolicy
    from .protocol import LossModule

__all__ = ["build_aggregator", "build_loss", "collect_problems", "load_config"]

LossConfig = Mapping[str, Any]

#: The config file formats :func:`load_config` reads.
SUFFIXES = (".json", ".toml", ".yaml", ".yml")


def build_loss(config: LossConfig | LossModule, *, where: str | None = None) -> LossModule:
    """Build one loss from its config dict (a built loss is returned as is).

    Example:
        >>> loss = build_loss({"type": MyLoss, "loss_weight": 0.5,
        ...                    "data_info": {"pred": "disc_pred_real"}})  # doctest: +SKIP
    """
    from .protocol import LossModule, constructor_parameters

    if isinstance(config, LossModule):
        return config
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"a loss config is a dict with a 'type' key, got {type(config).__name__}",
            where=where,
        )
    kwargs = dict(config)
    type_ = kwargs.pop("type", None)
    try:
        cls = _resolve_type(type_, where)
        label = cls.__name__
        params = constructor_parameters(cls)
        for key in kwargs:
            if key not in params:
                raise ConfigError(
                    f"{label} has no option {key!r}.{did_you_mean(key, params)} "
                    f"Its options are: {', '.join(params)}",
                    where=str(key),
                )
        missing = [n for n, p in params.items() if p.default is p.empty and n not in kwargs]
        if missing:
            raise ConfigError(
                f"{label} needs the option(s) {missing}, which the config does not set",
                where=missing[0],
            )
        try:
            return cls(**kwargs)
        except GanLossError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"building {label} failed: {exc}") from exc
    except GanLossError as exc:
        raise exc.at(where or "") from exc.__cause__


def _resolve_type(type_: Any, where: str | None) -> type[LossModule]:
    from .protocol import LossModule

    if type_ is None:
        raise ConfigError(
            "a loss config needs a 'type': the name of an installed or registered loss "
            "(see `ganloss list`), e.g. {'type': 'DiscShiftLoss', ...}"
        )
    if isinstance(type_, type):
        if issubclass(type_, LossModule):
            return type_
        raise ConfigError(f"type {type_!r} is not a subclass of LossModule", where="type")
    if not isinstance(type_, str):
        raise ConfigError(
            f"type must be a loss name (a string) or a loss class, got {type(type_).__name__}",
            where="type",
        )
    try:
        return get_loss_class(type_)
    except GanLossError as exc:
        raise exc.at("type") from exc.__cause__


def _as_list(configs: Any, where: str) -> list[Any]:
    if isinstance(configs, Mapping):  # MMGeneration allows a single dict
        return [configs]
    if isinstance(configs, Sequence) and not isinstance(configs, (str, bytes)):
        return list(configs)
    raise ConfigError(
        f"an aggregator config is a list of loss configs, got {type(configs).__name__}",
        where=where,
    )


def _build_each(configs: Any, where: str) -> tuple[list[LossModule], list[GanLossError]]:
    losses: list[LossModule] = []
    problems: list[GanLossError] = []
    try:
        items = _as_list(configs, where)
    except GanLossError as exc:
        return [], [exc]
    for index, item in enumerate(items):
        try:
            losses.append(build_loss(item, where=f"{where}[{index}]"))
        except GanLossError as exc:
            problems.append(exc)
    return losses, problems


def build_aggregator(
    configs: Sequence[LossConfig | LossModule] | LossConfig,
    name: str = "disc",
    *,
    nonfinite: NonFinitePolicy = "raise",
    max_log_vars: int = 64,
) -> LossAggregator:
    """Build a :class:`LossAggregator` from a list of loss configs.

    Every entry is built before anything is returned; if any fails, a single
    :class:`ConfigError` lists every problem (or the one problem is raised as
    is), and no aggregator exists.
    """
    from .aggregation import LossAggregator

    losses, problems = _build_each(configs, name)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ConfigError(
            f"{len(problems)} problems in the '{name}' losses:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return LossAggregator(losses, name=name, nonfinite=nonfinite, max_log_vars=max_log_vars)


def collect_problems(config: Mapping[str, Any]) -> list[GanLossError]:
    """Build every list of losses in a config file's mapping; return every problem.

    Each top-level key whose value is a list (or a dict with ``type``) is taken
    as an aggregator of that name (``disc``, ``gen``, ...). Nothing is run.
    """
    from .aggregation import LossAggregator

    problems: list[GanLossError] = []
    phases = {
        k: v
        for k, v in config.items()
        if isinstance(v, list) or (isinstance(v, Mapping) and "type" in v)
    }
    if not phases:
        problems.append(
            ConfigError(
                "the config holds no list of losses; expected top-level lists such as "
                "disc = [...] and gen = [...]"
            )
        )
    for name, items in phases.items():
        losses, found = _build_each(items, str(name))
        problems.extend(found)
        if not found:
            try:
                LossAggregator(losses, name=str(name))
            except GanLossError as exc:
                problems.append(exc)
    return problems


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a config file: ``.json``, ``.toml`` or ``.yaml``/``.yml`` (safe loading only).

    Returns its top-level mapping, e.g. ``{"disc": [...], "gen": [...]}``.
    """
    path = Path(path)
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"unsupported config format {suffix or '(no suffix)'!r}; use one of "
            f"{', '.join(SUFFIXES)} (Python config files are not executed, by design)",
            where=where,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file: {exc.strerror or exc}", where=where
        ) from exc
    data = _parse(text, suffix, where)
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"the top level of a config file must be a mapping (disc = [...], gen = [...]), "
            f"got {type(data).__name__}",
            where=where,
        )
    return dict(data)


def _parse(text: str, suffix: str, where: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", where=where
            ) from exc
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", where=where) from exc
    try:
        import yaml
    except ImportError as exc:
        raise ConfigError(
            "reading YAML needs PyYAML: pip install 'ganlosscore[yaml]'", where=where
        ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=where) from exc

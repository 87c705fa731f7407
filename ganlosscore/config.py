"""Configuration: loss config dicts, aggregator lists, and config files.

A loss config is a dict: ``type`` (a registered name, ``"dist-name:Name"``,
or a class object passed in code), the common keywords (``loss_weight``,
``data_info``, ``loss_name``, ``interval``) and the class's own
hyperparameters. ``type`` only ever resolves through the registry, so a config
file cannot import a module or run code. Every problem is reported with its
place in the config, e.g. ``disc[2].PairLoss.data_info.pred``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    ConfigError,
    GanLossError,
    brief,
    describe_exception,
    did_you_mean,
    several,
)
from .registry import distribution_of, get_loss_class

if TYPE_CHECKING:
    import pluggy

    from .aggregation import LossAggregator, NonFinitePolicy
    from .protocol import LossModule

__all__ = [
    "PLUGINS_KEY",
    "build_aggregator",
    "build_loss",
    "collect_problems",
    "configure_plugins",
    "keys_text",
    "load_config",
    "loss_lists",
    "plugin_settings_problems",
]

#: The top-level key of a config file that holds the settings of hook plugins.
PLUGINS_KEY = "plugins"

LossConfig = Mapping[str, Any]

#: The config file formats :func:`load_config` reads.
SUFFIXES = (".json", ".toml", ".yaml", ".yml")

#: The largest config file :func:`load_config` reads, in bytes (a config of
#: losses is a few kilobytes; a bigger one is not meant to be a config).
MAX_CONFIG_BYTES = 1 << 20

#: The most values a YAML document may hold once its aliases are expanded
#: (each scalar, list and mapping counts one). Aliases cost nothing to load,
#: but everything that walks the result walks every expansion: nine levels of
#: nine aliases (a "billion laughs", 1 KB of text) are 387 million values.
MAX_YAML_VALUES = 100_000


def build_loss(config: LossConfig | LossModule, *, where: str | None = None) -> LossModule:
    """Build one loss from its config dict (a built loss is returned as is).

    Every key is checked before the class is built, and every problem found is
    reported in one :class:`ConfigError` (its ``problems`` hold them one by
    one): each unknown key, each missing required hyperparameter, and the
    first complaint of the class's own constructor about the values it was
    given. Each names its place, ``{where}.{Type}.{key}``. An exception the
    constructor raises that is not a :class:`GanLossError` (a plugin's
    ``ValueError``, say) becomes a :class:`ConfigError` chained to it.

    Example:
        >>> loss = build_loss({"type": MyLoss, "loss_weight": 0.5,
        ...                    "data_info": {"pred": "disc_pred_real"}})  # doctest: +SKIP
    """
    from .protocol import LossModule

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
        return _construct(cls, kwargs)
    except GanLossError as exc:
        raise exc.at(where or "") from exc.__cause__


def _construct(cls: type[LossModule], kwargs: dict[Any, Any]) -> LossModule:
    from .protocol import common_option_problems, constructor_parameters

    label = cls.__name__
    params = constructor_parameters(cls)
    problems: list[GanLossError] = []
    for key in kwargs:
        if key not in params:
            problems.append(
                ConfigError(
                    f"{label} has no option {brief(key)}."
                    f"{did_you_mean(key, params) if isinstance(key, str) else ''} "
                    f"Its options are: {', '.join(params)}",
                    where=f"{label}.{_key_text(key)}",
                )
            )
    missing = [n for n, p in params.items() if p.default is p.empty and n not in kwargs]
    for name in missing:
        problems.append(
            ConfigError(
                f"{label} needs the option {name!r}, which the config does not set "
                f"(`ganloss info {label}` describes it)",
                where=f"{label}.{name}",
            )
        )
    if not missing:  # the values of the known keys may be wrong too: let the class say
        try:
            loss = cls(**{k: v for k, v in kwargs.items() if k in params})
        except GanLossError as exc:
            problems.extend(_located(p, cls) for p in exc.problems or (exc,))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a plugin's ValueError, or its sys.exit(): our error
            wrapped = ConfigError(
                f"building {label}{_origin(cls)} failed with {describe_exception(exc)}", where=label
            )
            wrapped.__cause__ = exc
            problems.append(wrapped)
        else:
            if not problems:
                return loss
    if missing or problems:
        # The class's own checks may have stopped before the common keywords
        # were looked at (or never ran): check those too, so that one pass
        # over the config finds everything.
        seen = {p.where for p in problems}
        try:
            common = common_option_problems(cls, kwargs)
        except Exception:  # a value the checks could not judge: the class's complaint stands
            common = []
        for problem in common:
            located = _located(problem, cls)
            if located.where not in seen:  # the class said it already, maybe in other words
                problems.append(located)
    error = several(problems, f"the {label} config")
    raise error from error.__cause__


def keys_text(keys: Sequence[Any], separator: str = ", ", limit: int = 20) -> str:
    """Config keys for a message, each and their number bounded: ``a, b, ... and 5 more``."""
    shown = [_key_text(k) for k in list(keys)[:limit]]
    more = f"{separator}and {len(keys) - limit} more" if len(keys) > limit else ""
    return separator.join(shown) + more


def _key_text(key: Any) -> str:
    """A config key as it reads in a place (``disc[0].PairLoss.scale``), bounded in size."""
    return key if isinstance(key, str) and len(key) <= 80 else brief(key)


def _origin(cls: type) -> str:
    """`` (from ganloss-foo)`` for an installed plugin's class, else ``""``."""
    dist = distribution_of(cls)
    return f" (from {dist})" if dist else ""


def _located(error: GanLossError, cls: type) -> GanLossError:
    """``error``, raised by ``cls(...)``, placed under the class's name.

    A plugin usually says where itself (``DiscAdversarialLoss.gan_type``);
    a place that starts with a class of the loss's MRO is kept as it is,
    any other (``reduction``, or none) is put under ``cls.__name__``.
    """
    head = re.split(r"[.\[]", error.where or "", maxsplit=1)[0]
    if head and head in {klass.__name__ for klass in cls.__mro__}:
        return error
    return error.at(cls.__name__)


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
        raise ConfigError(f"type {brief(type_)} is not a subclass of LossModule", where="type")
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
    """Build every entry of a loss list; return the losses and every problem, one by one."""
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
            problems.extend(exc.problems or (exc,))
    return losses, problems


def build_aggregator(
    configs: Sequence[LossConfig | LossModule] | LossConfig,
    name: str = "disc",
    *,
    nonfinite: NonFinitePolicy = "raise",
    max_log_vars: int = 64,
    plugin_manager: pluggy.PluginManager | None = None,
) -> LossAggregator:
    """Build a :class:`LossAggregator` from a list of loss configs.

    Every entry is built before anything is returned; if any fails, a single
    :class:`ConfigError` lists every problem (or the one problem is raised as
    is), and no aggregator exists. ``plugin_manager`` is handed to the
    aggregator: its hooks, rather than the process-wide manager's, run the
    aggregation (see :func:`ganlosscore.hooks.new_plugin_manager`).
    """
    from .aggregation import LossAggregator

    losses, problems = _build_each(configs, name)
    if problems:
        error = several(problems, f"the '{name}' losses")
        raise error from error.__cause__
    return LossAggregator(
        losses,
        name=name,
        nonfinite=nonfinite,
        max_log_vars=max_log_vars,
        plugin_manager=plugin_manager,
    )


def loss_lists(
    config: Mapping[Any, Any], names: Sequence[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Which top-level entries of a config file's mapping are lists of losses.

    Returns ``(lists, ignored)``: the entries to build, by name, and the other
    top-level keys with the reason each was left out. With ``names``, exactly
    those keys are lists of losses (each must exist; whatever it holds is
    checked as one). Without, a list of losses is recognised by its ``type``
    keys: a top-level list holding at least one table with ``type`` (``disc =
    [...]``), or a table with ``type`` (MMGeneration's single-loss form).
    Anything else (``lr = 0.1``, a ``[train]`` table, ``[[datasets]]`` tables
    without ``type``, an empty list) is not a loss list and is left out.
    """
    if names is not None:
        found = {name: _lookup(config, name) for name in names}
        tops = {name.split(".")[0] if name not in config else name for name in names}
        return found, {str(k): "not named" for k in config if k not in tops}
    lists: dict[str, Any] = {}
    ignored: dict[str, str] = {}
    for key, value in config.items():
        if key == PLUGINS_KEY:
            ignored[key] = "settings of hook plugins"
        elif isinstance(value, Mapping):
            if "type" in value:
                lists[str(key)] = value
            else:
                ignored[str(key)] = "a table without 'type'"
        elif isinstance(value, list):
            if any(isinstance(item, Mapping) and "type" in item for item in value):
                lists[str(key)] = value
            else:
                ignored[str(key)] = (
                    "an empty list" if not value else "a list without a table with 'type'"
                )
        else:
            ignored[str(key)] = f"a {type(value).__name__}, not a list of losses"
    return lists, ignored


def _lookup(config: Mapping[Any, Any], name: str) -> Any:
    """``config[name]``, or for a dotted name (``model.disc_auxiliary_loss``) the nested entry."""
    if name in config:
        return config[name]
    node: Any = config
    walked: list[str] = []
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            level = ".".join(walked)
            keys = list(map(str, node)) if isinstance(node, Mapping) else []
            what = (
                f"no top-level key {brief(part)}."
                if not walked
                else f"no key {brief(name)}: no {brief(part)} under {brief(level)}."
            )
            holds = (
                f"Its keys are: {keys_text(keys) or 'none'}"
                if isinstance(node, Mapping)
                else f"{brief(level)} is not a table"
            )
            raise ConfigError(f"the config has {what}{did_you_mean(part, keys)} {holds}")
        node = node[part]
        walked.append(part)
    return node


def collect_problems(
    config: Mapping[Any, Any], names: Sequence[str] | None = None
) -> list[GanLossError]:
    """Build every list of losses in a config file's mapping; return every problem.

    The lists are those :func:`loss_lists` finds (or the keys in ``names``),
    each taken as an aggregator of that name (``disc``, ``gen``, ...). Nothing
    is run, and nothing but a :class:`GanLossError` is raised.
    """
    from .aggregation import LossAggregator

    try:
        lists, ignored = loss_lists(config, names)
    except GanLossError as exc:
        return [exc]
    if not lists:
        left_out = keys_text([f"{_key_text(k)} ({why})" for k, why in ignored.items()], "; ")
        return [
            ConfigError(
                "the config holds no list of losses: expected top-level lists of tables with "
                "a 'type', such as disc = [{type = 'DiscShiftLoss', ...}] (TOML [[disc]]). "
                f"Top-level keys: {left_out or 'none'}"
            )
        ]
    problems: list[GanLossError] = []
    for name, items in lists.items():
        if isinstance(items, Mapping):
            # MMGeneration's single-loss form (gan_loss = dict(type='GANLoss', ...)):
            # model code calls it directly, so it needs no data_info.
            try:
                build_loss(items, where=name)
            except GanLossError as exc:
                problems.extend(exc.problems or (exc,))
            continue
        losses, found = _build_each(items, name)
        problems.extend(found)
        if not found:
            try:
                LossAggregator(losses, name=name)
            except GanLossError as exc:
                problems.append(exc)
    return problems


def configure_plugins(
    config: Mapping[Any, Any],
    *,
    plugin_manager: pluggy.PluginManager | None = None,
) -> None:
    """Hand each hook plugin its settings from ``config["plugins"]`` (see the hookspec).

    ``config`` is what :func:`load_config` returned (or any mapping); its
    ``plugins`` table maps a hook plugin's distribution name (or, for a
    plugin registered in code, its registered name) to that plugin's
    settings. Every implementation of ``ganloss_configure`` on the manager
    (the process-wide one by default) is called with its own table, an empty
    one when the config has none for it. Call it once per config file a
    program reads; calling it again replaces the settings.

    Nothing changes unless everything is right: the names are checked and
    every plugin checks its table (``check_only=True``) first, and only then
    is each plugin configured. Otherwise one :class:`ConfigError` lists every
    problem, each at ``plugins.<name>.<key>``: a name that is not an
    installed hook plugin (with the closest one), a hook plugin that takes no
    settings or failed to load, a table that is not a mapping, a key or value
    a plugin refuses.
    """
    from .hooks import get_plugin_manager

    pm = get_plugin_manager() if plugin_manager is None else plugin_manager
    problems = plugin_settings_problems(config, pm)
    if not problems:
        problems = _call_configure(_tables(config, pm)[0], pm, check_only=False)
    if problems:
        error = several(problems, "the settings of the hook plugins")
        raise error from error.__cause__


def plugin_settings_problems(
    config: Mapping[Any, Any], plugin_manager: pluggy.PluginManager
) -> list[GanLossError]:
    """Every problem of ``config["plugins"]``, each plugin checking its own table; changes nothing.

    What ``ganloss check`` reports, and what :func:`configure_plugins` checks
    before it configures anything.
    """
    tables, problems = _tables(config, plugin_manager)
    return problems + _call_configure(tables, plugin_manager, check_only=True)


_PLUGINS_EXAMPLE = "[plugins.ganloss-tensorboard] log_dir = 'runs' (TOML)"


def _tables(
    config: Mapping[Any, Any], pm: pluggy.PluginManager
) -> tuple[dict[str, tuple[Mapping[str, Any], list[Any]]], list[GanLossError]]:
    """Each plugin key -> (its table, its ``ganloss_configure`` implementations); and problems."""
    from .hooks import load_failures
    from .registry import HOOK_GROUP, LOSS_GROUP, normalize_dist_name, plugin_entries

    raw = config.get(PLUGINS_KEY, {})
    if not isinstance(raw, Mapping):
        return {}, [
            ConfigError(
                "holds the settings of hook plugins: a table keyed by distribution name, "
                f"e.g. {_PLUGINS_EXAMPLE}; this config holds {brief(raw)}",
                where=PLUGINS_KEY,
            )
        ]
    hook_entries = plugin_entries(HOOK_GROUP)
    by_name = {f"{e.distribution}:{e.name}": e.distribution for e in hook_entries}
    impls: dict[str, list[Any]] = {}
    for impl in pm.hook.ganloss_configure.get_hookimpls():
        if not (impl.wrapper or impl.hookwrapper):
            impls.setdefault(by_name.get(impl.plugin_name, impl.plugin_name), []).append(impl)
    tables: dict[str, tuple[Mapping[str, Any], list[Any]]] = {
        key: ({}, found) for key, found in impls.items()
    }
    failed = {name.partition(":")[0]: why for name, why in load_failures(pm).items()}
    hook_dists = {e.distribution: e for e in hook_entries}
    loss_dists = {e.distribution for e in plugin_entries(LOSS_GROUP)}
    problems: list[GanLossError] = []
    for key, table in raw.items():
        where = f"{PLUGINS_KEY}.{_key_text(key)}"
        name = key if key in impls or not isinstance(key, str) else normalize_dist_name(key)
        problem = None
        if name in impls:
            if isinstance(table, Mapping):
                tables[name] = (table, impls[name])
                continue
            problem = f"the settings of {name} are a table of key = value, got {brief(table)}"
        elif name in hook_dists and hook_dists[name].disabled_reason:
            continue  # deselected (GANLOSS_PLUGINS...): a shared config may name it
        elif name in failed:
            problem = (
                f"the hook plugin of {name} failed to load ({failed[name]}), so its settings "
                "cannot be applied; fix or reinstall it (`ganloss plugins` shows why)"
            )
        elif name in hook_dists:
            problem = (
                f"the hook plugin of {name} takes no settings (it does not implement "
                "ganloss_configure); remove this table"
            )
        elif name in loss_dists:
            problem = (
                f"{name} offers losses, not a hook plugin; a loss takes its settings in its "
                "own loss config (type = ..., with its hyperparameters)"
            )
        else:
            known = sorted(impls)
            problem = (
                f"no hook plugin named {brief(key)} takes settings here."
                f"{did_you_mean(key, known) if isinstance(key, str) else ''} Hook plugins that "
                f"take settings: {keys_text(known) or 'none'} (keyed by distribution name; "
                "`ganloss plugins` lists the installed ones)"
            )
        problems.append(ConfigError(problem, where=where))
    return tables, problems


def _call_configure(
    tables: Mapping[str, tuple[Mapping[str, Any], list[Any]]],
    pm: pluggy.PluginManager,
    *,
    check_only: bool,
) -> list[GanLossError]:
    """Call each ``ganloss_configure`` implementation on its own, with its own table."""
    problems: list[GanLossError] = []
    for key, (table, found) in tables.items():
        where = f"{PLUGINS_KEY}.{_key_text(key)}"
        arguments = {"settings": dict(table), "check_only": check_only, "plugin_manager": pm}
        for impl in found:
            try:
                impl.function(*(arguments.get(name) for name in impl.argnames))
            except GanLossError as exc:
                problems.extend(p.at(where) for p in exc.problems or (exc,))
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a plugin's ValueError, or its sys.exit(): ours
                wrapped = ConfigError(
                    f"configuring {impl.plugin_name} failed with {describe_exception(exc)}",
                    where=where,
                )
                wrapped.__cause__ = exc
                problems.append(wrapped)
    return problems


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a config file: ``.json``, ``.toml`` or ``.yaml``/``.yml`` (safe loading only).

    Returns its top-level mapping, e.g. ``{"disc": [...], "gen": [...]}``.
    Anything that keeps the file from giving one is a :class:`ConfigError`
    naming the file (``error.file``) and saying what would be right: a path
    that is a directory or does not exist, an unreadable file, a format not
    listed above, text that is not UTF-8 (a UTF-8 byte-order mark is allowed),
    invalid syntax, an empty file, a top level that is not a mapping.

    Limits, so that no file can exhaust the machine: only a regular file (or
    a link to one) is read, never a FIFO or a device such as ``/dev/zero``;
    it holds at most :data:`MAX_CONFIG_BYTES` bytes; a YAML document holds at
    most :data:`MAX_YAML_VALUES` values with its aliases expanded; an integer
    has at most as many digits as Python converts (4,300 by default).
    """
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if os.path.isdir(path):  # never raises: an unreadable path is the read's error
        raise ConfigError(
            f"is a directory, not a config file; give a {_FORMATS} file{_config_files_in(path)}",
            file=file,
        )
    if suffix == ".py":  # MMCV's style, evaluated by ganlosscore.pyconfig, never run
        from .pyconfig import load_py_config

        return load_py_config(path, read_text=_read_text)
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"unsupported config format {brief(suffix or '(no suffix)')}; use one of "
            f"{', '.join(SUFFIXES)} or .py (Python configs are read, never run)",
            file=file,
        )
    text = _decode(_read_regular_file(path, file), file)
    example = _EXAMPLES[suffix]
    if not text.strip():
        raise ConfigError(f"is empty: {_NEEDED}, e.g. {example}", file=file)
    try:
        data = _parse(text, suffix, file)
    except RecursionError:
        raise ConfigError(
            "nests lists or tables too deeply to be read (more than about "
            f"{sys.getrecursionlimit()} levels); a config file of losses needs a few levels",
            file=file,
        ) from None
    except ConfigError:
        raise
    except ValueError as exc:  # a value the parser itself refuses: int("1" * 5000)
        raise ConfigError(_unreadable_value(text, exc), file=file) from exc
    if data is None or (isinstance(data, Mapping) and not data):
        # only comments, a YAML null, an empty TOML document or JSON {}: as empty as no text
        raise ConfigError(
            f"is empty (it sets nothing, only comments or an empty mapping): {_NEEDED}, "
            f"e.g. {example}",
            file=file,
        )
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"the top level of a config file must be a mapping of loss lists, e.g. {example}; "
            f"this file holds {_kind(data)}",
            file=file,
        )
    return dict(data)


_FORMATS = ".json, .toml or .yaml"
_NEEDED = "a config file holds a mapping of loss lists"
#: What a config file holds, one line in each format (each parses to ``{"disc": [...]}``).
_EXAMPLES = {
    ".json": '{"disc": [{"type": "DiscShiftLoss", "data_info": {"pred": "disc_pred_real"}}]}',
    ".toml": 'disc = [{type = "DiscShiftLoss", data_info = {pred = "disc_pred_real"}}]',
    ".yaml": "disc: [{type: DiscShiftLoss, data_info: {pred: disc_pred_real}}]",
    ".yml": "disc: [{type: DiscShiftLoss, data_info: {pred: disc_pred_real}}]",
}


def _config_files_in(directory: Path) -> str:
    """`` such as a.toml, b.yaml in it`` (up to three), or ``""``."""
    names = _config_names(directory)
    return f", such as {', '.join(names[:3])} in it" if names else ""


def _config_names(directory: Path) -> list[str]:
    """The names of the config files in ``directory``, sorted (none if it cannot be listed)."""
    try:
        files = [p for p in directory.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()]
        return sorted(p.name for p in files)
    except OSError:
        return []


def _read_regular_file(path: Path, file: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most :data:`MAX_CONFIG_BYTES`.

    The file is opened without blocking (a FIFO would wait for a writer
    forever) and checked on the open descriptor, so nothing can swap it
    between the check and the read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ConfigError(_unreadable(path, exc), file=file) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError(
                f"is {_file_kind(path, mode)}, not a regular file; a config file is a "
                f"{_FORMATS} file on disk (only regular files are read, so that nothing "
                "can make the read wait or run forever)",
                file=file,
            )
        try:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(_unreadable(path, exc), file=file) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"is larger than {MAX_CONFIG_BYTES:,} bytes, the most a config file may hold "
            "(a config of losses is a few kilobytes); is it the right file?",
            file=file,
        )
    return raw


def _read_text(path: Path) -> str:
    """The text of a config file (for the ``.py`` reader and its ``_base_`` files)."""
    return _decode(_read_regular_file(path, str(path)), str(path))


def _file_kind(path: Path, mode: int) -> str:
    """What a path that is not a regular file is, in words: ``a link to /dev/zero, a device``."""
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "not a file")
    if os.path.islink(path):
        return f"a link to {brief(os.path.realpath(path), 200)}, {kind}"
    return kind


def _unreadable_value(text: str, exc: ValueError) -> str:
    """What a parser's ``ValueError`` means, with its line: most often an integer too long."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    found = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
    if found is None:
        return f"holds a value that cannot be read: {brief(str(exc), 300)}"
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return (
        f"line {line}, column {column}: an integer of {len(found.group()):,} digits; Python "
        f"reads integers of at most {limit:,} digits, and no loss setting needs more "
        "(write a large or small number as a float, e.g. 1e-3)"
    )


def _unreadable(path: Path, exc: OSError) -> str:
    message = f"cannot read the config file: {exc.strerror or exc}"
    if isinstance(exc, FileNotFoundError):
        if not os.path.isdir(path.parent):
            return f"{message}; the folder {path.parent} does not exist either, check the path"
        return f"{message}; check the path.{did_you_mean(path.name, _config_names(path.parent))}"
    if isinstance(exc, PermissionError):
        return f"{message}; make it readable to you (e.g. chmod a+r {path}) or copy it"
    return message


def _decode(raw: bytes, file: str) -> str:
    """The text of a config file: UTF-8 (a leading byte-order mark is dropped)."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        hint = "; it looks like UTF-16 (it starts with a UTF-16 byte-order mark)" if utf16 else ""
        raise ConfigError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}, "
            f"line {line}){hint}; a config file is JSON, TOML or YAML text: save it as UTF-8",
            file=file,
        ) from exc


def _kind(data: Any) -> str:
    """What a config file's top level holds, in words: ``a list (2 items)``."""
    if isinstance(data, list):
        return f"a list ({len(data)} item{'' if len(data) == 1 else 's'})"
    kinds = ((str, "a string"), (bool, "a boolean"), ((int, float), "a number"))
    return next((kind for t, kind in kinds if isinstance(data, t)), f"a {type(data).__name__}")


def _parse(text: str, suffix: str, file: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=file
            ) from exc
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", file=file) from exc
    try:
        import yaml
    except ImportError as exc:
        raise ConfigError(
            "reading YAML needs PyYAML: pip install 'ganlosscore[yaml]'", file=file
        ) from exc
    try:
        return yaml.load(text, Loader=_bounded_yaml_loader())  # a SafeLoader: no tags that run code
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from exc
    except _TooManyValues as exc:
        raise ConfigError(str(exc), file=file) from None


class _TooManyValues(Exception):
    """A YAML document whose aliases expand past :data:`MAX_YAML_VALUES` (or into themselves)."""


@functools.cache
def _bounded_yaml_loader() -> type:
    """PyYAML's ``SafeLoader``, refusing documents that expand past :data:`MAX_YAML_VALUES`.

    The document's node graph is measured before anything is built: the
    expanded size of each node is counted once (aliases share nodes), so the
    check costs as much as the text is long, whatever it expands to.
    """
    import yaml

    def expanded_size(root: yaml.Node) -> int:
        sizes: dict[int, int] = {}
        open_nodes: set[int] = set()

        def size(node: yaml.Node) -> int:
            key = id(node)
            if key in sizes:
                return sizes[key]
            if key in open_nodes:
                mark = node.start_mark
                raise _TooManyValues(
                    f"line {mark.line + 1}, column {mark.column + 1}: a YAML alias refers to "
                    "a value that contains it, which would never end; write the value out"
                )
            open_nodes.add(key)
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(size(item) for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(size(k) + size(v) for k, v in node.value)
            open_nodes.discard(key)
            sizes[key] = total
            return total

        return size(root)

    class BoundedSafeLoader(yaml.SafeLoader):  # type: ignore[misc]
        def construct_document(self, node: yaml.Node) -> Any:
            values = expanded_size(node)
            if values > MAX_YAML_VALUES:
                raise _TooManyValues(
                    f"holds {values:,} values once its YAML aliases (*name) are expanded, more "
                    f"than the {MAX_YAML_VALUES:,} a config file may hold; repeat fewer "
                    "values through aliases, or write them out"
                )
            return super().construct_document(node)

    return BoundedSafeLoader

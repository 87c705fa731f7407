"""The ``ganloss`` command: see what is installed, check configs, start a plugin.

The core's commands are a built-in plugin on ``ganloss_register_commands``,
which the command registers on the plugin manager it uses, like any third
party's. When the command asked for is a core one, the plugin manager is not
loaded at all; ``ganloss list`` therefore reads metadata only and imports
neither torch nor any plugin module. Otherwise (``ganloss --help``, a
plugin's command) and for ``ganloss plugins``, the manager is built without
the aggregation defaults, so torch is imported only by a plugin that needs it.

Every mistake a user can make ends in a one-paragraph ``ganloss: error: ...``
on stderr and a non-zero exit status, never a traceback. Whatever it prints
is escaped where the terminal's encoding cannot show it (a lone surrogate from
a config key becomes ``\ud800``), and while it writes JSON, whatever plugin
code prints goes to stderr, so the JSON on stdout stays valid.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import os
import shlex
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

import attrs
import pluggy

from ._version import PROTOCOL_VERSION, SUPPORTED_PROTOCOLS, __version__
from .config import (
    PLUGINS_KEY,
    collect_problems,
    keys_text,
    load_config,
    loss_lists,
    plugin_settings_problems,
)
from .errors import (
    BrokenDistributionWarning,
    ConfigError,
    GanLossError,
    PluginSelectionWarning,
    UnknownLossError,
    describe_exception,
)
from .hooks import get_plugin_manager, hook_plugin_failures, new_plugin_manager
from .hookspecs import hookimpl
from .registry import (
    HOOK_GROUP,
    LOCAL,
    LOSS_GROUP,
    EntryRecord,
    LossRecord,
    available_losses,
    describe_failure,
    entry_status,
    get_loss_class,
    normalize_dist_name,
    plugin_entries,
    unreadable_distributions,
)
from .scaffold import LICENSES, PluginNameWarning, write_plugin

__all__ = ["CoreCommands", "describe_loss", "main"]

CORE_COMMANDS = ("list", "info", "plugins", "check", "new-plugin")
CORE_PLUGIN_NAME = "ganlosscore.commands"

Handler = Callable[[argparse.Namespace], int]


#: Where ``--json`` output goes: the real stdout, while ``sys.stdout`` is redirected
#: to stderr so that nothing a plugin prints can corrupt it.
_JSON_OUT: ContextVar[TextIO | None] = ContextVar("_JSON_OUT", default=None)


def _emit_json(data: Any) -> None:
    out = _JSON_OUT.get() or sys.stdout
    json.dump(data, out, indent=2, sort_keys=False)  # ASCII: any terminal shows it
    out.write("\n")
    out.flush()


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 'es' if word.endswith('s') else 's'}"


# -- list ---------------------------------------------------------------------------

#: Statuses ``ganloss list --check`` fails on: the loss cannot be built.
UNUSABLE = ("broken", "incompatible")


def cmd_list(args: argparse.Namespace) -> int:
    if args.check:  # import every selected plugin, so that broken ones show their reason
        for record in available_losses():
            if record.status in ("ok", "conflict"):
                try:
                    get_loss_class(record.qualified_name)
                except GanLossError:
                    pass  # recorded as broken; the listing below shows the reason
    records = available_losses(include_disabled=args.all)
    failed = args.check and any(r.status in UNUSABLE for r in records)
    if args.json:
        _emit_json([_record_json(r) for r in records])
        return 1 if failed else 0
    if not records:
        hidden = len(available_losses(include_disabled=True))
        if hidden:
            print(
                f"No losses selected: {_plural(hidden, 'loss')} installed but deselected by "
                "GANLOSS_PLUGINS / GANLOSS_DISABLE_PLUGINS; `ganloss list --all` shows them."
            )
        else:
            print(
                "No losses installed. Install a loss package, e.g. pip install ganloss-adversarial"
            )
        return 0
    rows = [[r.name, r.distribution, r.version or "-", r.status, r.reason or ""] for r in records]
    print(_table(rows, ["NAME", "DISTRIBUTION", "VERSION", "STATUS", "NOTE"]))
    counts: Counter[str] = Counter(r.status for r in records)
    notes = [f"{counts[s]} {s}" for s in ("conflict", *UNUSABLE, "disabled") if counts[s]]
    print(f"\n{_plural(len(records), 'loss')}" + (f" ({', '.join(notes)})" if notes else ""))
    if counts["conflict"]:
        print("A conflicting name must be written as 'distribution:Name' in configs.")
    if not args.check:
        print("Run `ganloss list --check` to import every plugin and find broken ones.")
    return 1 if failed else 0


def _record_json(record: LossRecord) -> dict[str, Any]:
    # name first, then qualified_name, then the other fields in the record's order
    return {"name": record.name, "qualified_name": record.qualified_name, **attrs.asdict(record)}


# -- info ---------------------------------------------------------------------------


def describe_loss(type_name: str) -> dict[str, Any]:
    """What ``ganloss info`` shows: origin, loss name, inputs, hyperparameters, docs, a config.

    ``doc`` is the class's whole docstring and ``summary`` its first paragraph;
    each input and hyperparameter carries the ``description`` its entry in the
    docstring's ``Args:`` section gives (None without one); ``config`` is a
    TOML snippet for the loss, to paste into a config file.

    Imports the loss's plugin (and so torch); raises the registry's errors for
    an unknown, conflicting, deselected or broken loss.
    """
    from .protocol import COMMON_KEYWORDS, constructor_parameters

    cls = get_loss_class(type_name)
    record = _find_record(type_name)
    params = constructor_parameters(cls)
    doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else ""  # not LossModule's, inherited
    described = _section_entries(doc, ("Args:", "Arguments:"))
    shapes = _section_entries(doc, ("Shape:",))  # torch's layout gives the inputs' shapes
    info = {
        "name": type_name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "distribution": record.distribution if record else None,
        "version": record.version if record else None,
        "status": record.status if record else None,
        "default_loss_name": cls.default_loss_name,
        "default_data_info": (
            dict(cls.default_data_info) if cls.default_data_info is not None else None
        ),
        "inputs": [
            {
                "name": s.name,
                "required": s.required,
                "description": described.get(s.name) or shapes.get(s.name),
            }
            for s in cls.input_specs
        ],
        "accepts_any_input": cls.accepts_any_input,
        "hyperparameters": [
            {
                "name": name,
                "required": p.default is p.empty,
                "default": None if p.default is p.empty else _jsonable(p.default),
                "annotation": _annotation(p.annotation),
                "description": described.get(name),
            }
            for name, p in params.items()
            if name not in COMMON_KEYWORDS
        ],
        "common": {
            name: _jsonable(p.default) for name, p in params.items() if name in COMMON_KEYWORDS
        },
        "summary": " ".join(doc.split("\n\n", 1)[0].split()),
        "doc": doc,
    }
    info["config"] = _config_snippet(info)
    return info


def _section_entries(doc: str, headers: tuple[str, ...]) -> dict[str, str]:
    """``name -> text`` from a section (``Args:``, ``Shape:``) of a Google-style docstring."""
    descriptions: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() in headers)
    except StopIteration:
        return descriptions
    indent: int | None = None
    name = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent or (depth == 0 and line.rstrip().endswith(":")):
            break  # the next section
        if depth == indent and ":" in line:
            head, _, text = line.strip().partition(":")
            name = head.split("(")[0].strip().lstrip("*")
            descriptions[name] = text.strip()
        elif name is not None:
            descriptions[name] = f"{descriptions[name]} {line.strip()}".strip()
    return descriptions


def _config_snippet(info: dict[str, Any]) -> str:
    """A TOML table for the loss: its type, data_info, and each hyperparameter's default.

    A required hyperparameter has no default to show: it is written as a
    comment to fill in (``ganloss check`` reports it until then).
    """
    lines = ["[[losses]]", f"type = {json.dumps(info['name'])}"]
    if info["default_data_info"] is None:
        required = [s["name"] for s in info["inputs"] if s["required"]]
        optional = [s["name"] for s in info["inputs"] if not s["required"]]
        if required or optional:
            pairs = ", ".join(f"{n} = {json.dumps(n)}" for n in required)
            lines.append(f"data_info = {{ {pairs} }}  # input = key of the outputs dict")
        if optional:
            lines.append(f"# optional inputs: {', '.join(optional)}")
    for hp in info["hyperparameters"]:
        value = _toml_value(hp["default"])
        if hp["required"]:
            kind = f" ({hp['annotation']})" if hp["annotation"] else ""
            lines.append(f"# {hp['name']} = ...  # required{kind}: set it")
        elif value is None:
            lines.append(f"# {hp['name']} = {hp['default']!r}  # default, not expressible in TOML")
        else:
            lines.append(f"{hp['name']} = {value}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str | None:
    """``value`` as TOML, or None when TOML cannot express it (None, an object)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        items = [_toml_value(v) for v in value]
        return None if None in items else f"[{', '.join(str(i) for i in items)}]"
    if isinstance(value, dict):
        pairs = [(k, _toml_value(v)) for k, v in value.items()]
        if any(v is None for _, v in pairs):
            return None
        return "{ " + ", ".join(f"{json.dumps(k)} = {v}" for k, v in pairs) + " }"
    return None


def _find_record(type_name: str) -> LossRecord | None:
    dist, _, name = type_name.rpartition(":")
    wanted = normalize_dist_name(dist) if dist else None
    matches = (r for r in available_losses() if r.name == name and wanted in (None, r.distribution))
    return next(matches, None)


def _annotation(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):  # postponed evaluation (from __future__ import annotations)
        return annotation
    return getattr(annotation, "__name__", None) or repr(annotation)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def cmd_info(args: argparse.Namespace) -> int:
    info = describe_loss(args.name)
    if args.json:
        _emit_json(info)
        return 0
    if info["distribution"] == LOCAL:
        origin = "registered locally with register_loss"
    elif info["distribution"]:
        origin = f"from {info['distribution']} {info['version'] or ''}".rstrip()
    else:
        origin = "origin unknown"
    print(f"{info['name']}  ({info['class']}, {origin})")
    if info["doc"]:
        print("\n" + "\n".join(f"  {line}".rstrip() for line in info["doc"].splitlines()))
    print(f"\n  default loss_name: {info['default_loss_name']}")
    if info["default_data_info"] is not None:
        print(f"  default data_info: {info['default_data_info']}")
    print("  inputs (data_info keys):")
    for spec in info["inputs"]:
        about = f"  {spec['description']}" if spec["description"] else ""
        print(f"    {spec['name']:<20} {'required' if spec['required'] else 'optional'}{about}")
    if info["accepts_any_input"]:
        print(f"    {'**kwargs':<20} any further input")
    if not info["inputs"] and not info["accepts_any_input"]:
        print("    (none)")
    print("  hyperparameters:")
    for hp in info["hyperparameters"]:
        default = "required" if hp["required"] else f"default {hp['default']!r}"
        kind = f"  ({hp['annotation']})" if hp["annotation"] else ""
        about = f"  {hp['description']}" if hp["description"] else ""
        print(f"    {hp['name']:<20} {default}{kind}{about}")
    if not info["hyperparameters"]:
        print("    (none)")
    print("  common: " + ", ".join(f"{k}={v!r}" for k, v in info["common"].items()))
    print("\n  config (TOML):")
    print("\n".join(f"    {line}" for line in info["config"].splitlines()))
    return 0


# -- plugins ------------------------------------------------------------------------


def cmd_plugins(args: argparse.Namespace) -> int:
    try:
        pm: Any = _command_plugin_manager()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # say what is installed even so, and why hooks are unknown
        pm, manager_failure = None, describe_failure(exc)
    failures = hook_plugin_failures()
    dists: dict[str, dict[str, Any]] = {}
    for group in (LOSS_GROUP, HOOK_GROUP):
        for entry in plugin_entries(group):
            info = dists.setdefault(entry.distribution, _plugin_row(entry))
            if group == LOSS_GROUP:
                info["losses"].append(entry.name)
                continue
            name = f"{entry.distribution}:{entry.name}"
            if pm is None and info["status"] == "ok":
                info["status"] = "broken"
                info["reason"] = f"the plugin manager could not be built: {manager_failure}"
                continue
            plugin = pm.get_plugin(name) if pm is not None else None
            if plugin is not None:
                hooks = {h.name for h in pm.get_hookcallers(plugin) or []}
                info["hooks"] = sorted(set(info["hooks"]) | hooks)
            elif name in failures and info["status"] == "ok":
                info["status"] = "broken"
                info["reason"] = f"hook plugin {entry.target}: {failures[name]}"
    rows = sorted(dists.values(), key=lambda d: d["distribution"])
    for problem in unreadable_distributions():
        rows.append(_row(problem.label, None, None, "broken", f"skipped, {problem.reason}"))
    status = 1 if any(d["status"] in UNUSABLE for d in rows) else 0
    if args.json:
        _emit_json(rows)
        return status
    if not rows:
        print("No ganlosscore plugins installed.")
        return 0
    table = []
    for d in rows:
        shown = d["status"] + (f" ({d['reason']})" if d["reason"] else "")
        losses, hook_names = str(len(d["losses"])), ", ".join(d["hooks"]) or "-"
        table.append([d["distribution"], d["version"] or "-", losses, hook_names, shown])
    print(_table(table, ["DISTRIBUTION", "VERSION", "LOSSES", "HOOKS", "STATUS"]))
    if status:
        print(
            "\nA plugin that is broken or incompatible cannot be used: fix, reinstall or "
            "uninstall it, or deselect it with GANLOSS_DISABLE_PLUGINS=<distribution>."
        )
    return status


def _plugin_row(entry: EntryRecord) -> dict[str, Any]:
    """A distribution's row of ``ganloss plugins``, before its hooks are looked at.

    Its status is the registry's (:func:`~ganlosscore.registry.entry_status`).
    """
    return _row(entry.distribution, entry.version, entry.protocol, *entry_status(entry))


def _row(
    dist: str, version: str | None, protocol: int | None, status: str, reason: str | None
) -> dict[str, Any]:
    """A row of ``ganloss plugins`` (and its ``--json``), in the order the keys are shown."""
    keys = ("distribution", "version", "protocol", "losses", "hooks", "status", "reason")
    return dict(zip(keys, (dist, version, protocol, [], [], status, reason)))


# -- check --------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = _names(args.losses)
    if names is None and Path(args.config).suffix.lower() == ".py":
        names = _mmcv_loss_sections(config, args.config)
    problems = collect_problems(config, names)
    checked_plugins = PLUGINS_KEY in config
    if checked_plugins:  # only then is the plugin manager loaded
        problems += _plugin_problems(config)
    if problems:
        print(f"{args.config}: {_plural(len(problems), 'problem')}")
        for problem in problems:
            print(f"  - {problem}")
        suspects = [] if names is not None else _not_losses(config, problems)
        if suspects:
            checked = [k for k in loss_lists(config)[0] if k not in suspects]
            print(
                f"No 'type' in {keys_text(suspects)} names a loss: if "
                f"{'it is' if len(suspects) == 1 else 'they are'} not losses (a model's "
                "config, say), check only the lists of losses: "
                f"ganloss check {shlex.quote(args.config)} --losses {','.join(checked) or 'KEY'}"
            )
        return 1
    lists, ignored = loss_lists(config, names)
    phases = [
        f"{name} ({_plural(len(value) if isinstance(value, list) else 1, 'loss')})"
        for name, value in lists.items()
    ]
    line = f"{args.config}: ok, {', '.join(phases)}"
    if checked_plugins and isinstance(config[PLUGINS_KEY], dict):
        ignored.pop(PLUGINS_KEY, None)
        line += f"; settings of {keys_text(list(config[PLUGINS_KEY])) or 'no plugin'}"
    if ignored and names is None:
        line += f"; not losses: {keys_text(list(ignored))}"
    print(line)
    return 0


def _plugin_problems(config: dict[str, Any]) -> list[GanLossError]:
    """The problems of the config's ``plugins`` table, each hook plugin checking its own."""
    try:
        pm = get_plugin_manager()
    except GanLossError as exc:  # GANLOSS_STRICT_PLUGINS=1 and a broken hook plugin
        return [exc]
    return plugin_settings_problems(config, pm)


def _not_losses(config: dict[str, Any], problems: Sequence[GanLossError]) -> list[str]:
    """The top-level keys taken for losses whose every ``type`` is unknown."""
    unknown = Counter(
        p.where.rsplit(".type", 1)[0].split("[", 1)[0]  # disc[0].type, or a table's gan_loss.type
        for p in problems
        if isinstance(p, UnknownLossError) and p.where and p.where.endswith(".type")
    )
    suspects = []
    for key, value in loss_lists(config)[0].items():
        items = value if isinstance(value, list) else [value]
        typed = sum(1 for item in items if isinstance(item, dict) and "type" in item)
        if typed and unknown[key] == typed:
            suspects.append(key)
    return suspects


def _mmcv_loss_sections(config: dict[str, Any], file: str) -> list[str]:
    """The loss entries under ``model`` of an MMGeneration-style ``.py`` config, by dotted key."""
    from .pyconfig import LOSS_KEYS, loss_sections

    found = list(loss_sections(config))
    if not found:
        raise ConfigError(
            f"holds no loss entries under model: a .py config's losses are dicts with a 'type' "
            f"under model's {', '.join(LOSS_KEYS)} or another *_loss key; name others with "
            f"--losses (e.g. --losses model.my_losses)",
            file=file,
        )
    return found


def _names(option: str | None) -> list[str] | None:
    if option is None:
        return None
    names = [n.strip() for n in option.split(",") if n.strip()]
    if not names:
        raise ConfigError("give at least one key, e.g. --losses disc,gen", where="--losses")
    return names


# -- new-plugin ---------------------------------------------------------------------


def cmd_new_plugin(args: argparse.Namespace) -> int:
    import errno

    try:
        target = write_plugin(
            args.name,
            Path(args.dir),
            hooks_only=args.hooks_only,
            license=args.license,
            author=args.author,
        )
    except OSError as exc:  # what the scaffold's own checks cannot foresee (a path too long)
        hint = (
            "; choose a shorter name or --dir"
            if exc.errno == errno.ENAMETOOLONG
            else "; pass a --dir you can write to"
        )
        raise ConfigError(
            f"cannot create {Path(args.dir) / args.name}: {exc.strerror or exc}{hint}",
            where="new-plugin",
        ) from exc
    print(f"Created {target}")
    editable, tests = shlex.quote(f"{target}[test]"), shlex.quote(str(target / "tests"))
    print(f"Next: pip install -e {editable} && python -m pytest {tests}")
    return 0


# -- the parser ---------------------------------------------------------------------


class CoreCommands:
    """The core's sub-commands, registered on the hook like a third party's.

    ``tryfirst``, so the core's names are taken before any plugin's: a plugin
    that adds ``list`` again is the one refused.
    """

    @hookimpl(tryfirst=True)
    def ganloss_register_commands(self, cli: argparse._SubParsersAction[Any]) -> None:
        add_core_commands(cli)


def add_core_commands(cli: argparse._SubParsersAction[Any]) -> None:
    p = cli.add_parser("list", help="list every installed loss (imports no plugin)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="include deselected (disabled) plugins")
    p.add_argument(
        "--check",
        action="store_true",
        help="import every plugin to find broken ones; exit 1 if any loss cannot be built",
    )
    p.set_defaults(func=cmd_list)

    p = cli.add_parser("info", help="describe one loss: origin, inputs, hyperparameters")
    p.add_argument("name", help="a loss type, e.g. DiscShiftLoss or dist-name:DiscShiftLoss")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = cli.add_parser("plugins", help="installed plugin distributions and their hooks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = cli.add_parser(
        "check",
        help="build every loss of a config file, report every problem",
        description="Build every list of losses of a config file without running anything, "
        "and report every problem with its place. The lists of losses are the top-level "
        "lists of tables with a 'type' (and tables with a 'type'); other top-level keys "
        "(settings, a [[datasets]] list) are left out and named; a 'plugins' table is checked "
        "as the settings of hook plugins, each plugin checking its own. --losses picks the keys.",
    )
    p.add_argument("config", help="a .json, .toml or .yaml config file")
    p.add_argument(
        "--losses",
        metavar="KEY[,KEY...]",
        help="check exactly these top-level keys as lists of losses (e.g. disc,gen)",
    )
    p.set_defaults(func=cmd_check)

    p = cli.add_parser("new-plugin", help="write a new loss package, ready to install and test")
    p.add_argument("name", help="distribution name, e.g. ganloss-mylosses")
    p.add_argument("--dir", default=".", help="parent directory (default: current)")
    p.add_argument(
        "--hooks-only",
        action="store_true",
        help="a package of hook implementations (a ganlosscore.hooks entry point), no loss",
    )
    p.add_argument(
        "--license",
        choices=list(LICENSES),
        default="MIT",
        help="the LICENSE file and pyproject.toml's licence (default: MIT)",
    )
    p.add_argument(
        "--author", help="the copyright holder in LICENSE and pyproject.toml (default: YOUR NAME)"
    )
    p.set_defaults(func=cmd_new_plugin)


def _register_plugin_commands(cli: argparse._SubParsersAction[Any]) -> None:
    """Call every ``ganloss_register_commands`` implementation, each isolated.

    The CLI registers its own commands (:class:`CoreCommands`) on the manager
    it uses, as a plugin like any other. Each implementation is called one by
    one in pluggy's order (rather than through the hook caller), so that a
    plugin whose registration fails, even with ``sys.exit()`` or another
    ``BaseException`` (not ``KeyboardInterrupt``), say by reusing a command's
    name, loses its own commands with a warning naming it, and the rest of
    ``ganloss`` works. If the plugin manager itself cannot be built, only the
    core's commands are offered.
    """
    try:
        pm = _command_plugin_manager()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        _warn(
            f"the plugins could not be loaded ({describe_exception(exc)}); only the core's "
            "commands are available. GANLOSS_DISABLE_PLUGINS=<distribution> leaves one out."
        )
        add_core_commands(cli)
        return
    hook = pm.hook.ganloss_register_commands
    for impl in reversed(hook.get_hookimpls()):  # pluggy calls the last registered first
        if impl.wrapper or impl.hookwrapper:
            continue  # nothing to wrap: each implementation is called on its own
        try:
            impl.function(*(cli if arg == "cli" else None for arg in impl.argnames))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() in a plugin is its failure, not ours
            _warn(
                f"plugin {impl.plugin_name} could not add its commands "
                f"({describe_exception(exc)}); they are unavailable. Fix or uninstall it, "
                "or deselect it with GANLOSS_DISABLE_PLUGINS."
            )


def _command_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager the command uses, with the core's commands registered on it.

    Inside a program that has imported torch, the process-wide manager (it
    may hold plugins registered in code); otherwise a new manager without
    the aggregation defaults, which import torch: ``ganloss --help`` and
    ``ganloss plugins`` then cost what the hook plugins cost to import.
    """
    if "torch" in sys.modules:  # the process-wide manager, if any, is built: torch is loaded
        pm = get_plugin_manager()
    else:
        pm = new_plugin_manager(with_defaults=False)
    if pm.get_plugin(CORE_PLUGIN_NAME) is None:
        pm.register(CoreCommands(), name=CORE_PLUGIN_NAME)
    return pm


def _warn(message: str) -> None:
    print(f"ganloss: warning: {message}", file=sys.stderr)


def _versions() -> str:
    lines = [f"ganlosscore {__version__} (loss protocol {PROTOCOL_VERSION})"]
    dists: dict[str, str] = {}
    for group in (LOSS_GROUP, HOOK_GROUP):
        for entry in plugin_entries(group):
            note = f" ({entry.disabled_reason})" if entry.disabled_reason else ""
            if not note and entry.protocol not in SUPPORTED_PROTOCOLS:
                note = f" (incompatible: built for loss protocol {entry.protocol})"
            dists.setdefault(entry.distribution, f"{entry.version or '-'}{note}")
    lines += [f"  {name} {dists[name]}" for name in sorted(dists)]
    return "\n".join(lines)


class _SubCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands that refuse a name already taken (Python 3.10's argparse replaces it)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        for taken in (name, *kwargs.get("aliases", ())):
            if taken in self._name_parser_map:
                raise argparse.ArgumentError(self, f"conflicting subparser: {taken}")
        parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        return parser


def build_parser(with_plugins: bool) -> argparse.ArgumentParser:
    """The ``ganloss`` parser: the core's commands, and the plugins' if ``with_plugins``."""
    parser = argparse.ArgumentParser(
        prog="ganloss",
        description="GAN losses for PyTorch: see what is installed, check configs, "
        "start a loss package.",
    )
    parser.add_argument("--version", action="store_true", help="core and plugin versions")
    cli = parser.add_subparsers(dest="command", metavar="COMMAND", action=_SubCommands)
    if with_plugins:
        _register_plugin_commands(cli)
    else:
        add_core_commands(cli)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ganloss`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with _escaping_streams(), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(argv)


@contextlib.contextmanager
def _escaping_streams() -> Iterator[None]:
    """Let stdout and stderr escape what their encoding cannot show, for this run.

    A config key may hold a lone surrogate, and a terminal may be ASCII: the
    text is printed as ``\ud800`` rather than ending the command with a
    ``UnicodeEncodeError``.
    """
    restore = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors != "backslashreplace":
            try:
                errors = stream.errors
                stream.reconfigure(errors="backslashreplace")
            except (AttributeError, ValueError, OSError):
                continue
            restore.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in restore:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors=errors)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Our warnings as one ``ganloss: warning: ...`` paragraph, without a source line."""
    if issubclass(category, (PluginSelectionWarning, BrokenDistributionWarning, PluginNameWarning)):
        print(f"ganloss: warning: {message}", file=sys.stderr if file is None else file)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


_SHOW_WARNING = warnings.showwarning


def _run(argv: list[str]) -> int:
    command = next((a for a in argv if not a.startswith("-")), None)
    core_only = command in CORE_COMMANDS or (command is None and "--version" in argv)
    try:
        with contextlib.ExitStack() as stack:
            if "--json" in argv:  # plugin code's prints go to stderr, the JSON to stdout
                token = _JSON_OUT.set(sys.stdout)
                stack.callback(_JSON_OUT.reset, token)
                stack.enter_context(contextlib.redirect_stdout(sys.stderr))
            parser = build_parser(with_plugins=not core_only)
            try:
                args = parser.parse_args(argv)
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2), printed
                return exc.code if isinstance(exc.code, int) else 2
            if args.version:
                print(_versions())
                return 0
            if args.command is None:
                parser.print_help()
                return 2
            status: int = args.func(args)
            return status
    except GanLossError as exc:
        print(f"ganloss: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ganloss list | head`
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    # Python flushes stdout at exit; on a closed pipe that prints a second error.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

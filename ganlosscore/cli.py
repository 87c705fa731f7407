"""The ``ganloss`` command: see what is installed, check configs, start a plugin.

The core's commands are a built-in plugin on ``ganloss_register_commands``,
like any third party's. When the command asked for is a core one, the plugin
manager is not loaded at all (it would import torch through the aggregation
defaults); ``ganloss list`` therefore reads metadata only and imports neither
torch nor any plugin module.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._version import PROTOCOL_VERSION, __version__
from .errors import GanLossError
from .hookspecs import hookimpl
from .registry import HOOK_GROUP, LOSS_GROUP, available_losses, plugin_entries

__all__ = ["CoreCommands", "main"]

CORE_COMMANDS = ("list", "info", "plugins", "check", "new-plugin")

Handler = Callable[[argparse.Namespace], int]


def _emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- commands ---------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    if args.check:  # import every plugin so that broken ones show their reason
        from .registry import get_loss_class

        for record in available_losses():
            if record.status in ("ok", "conflict"):
                try:
                    get_loss_class(record.qualified_name)
                except GanLossError:
                    pass
    records = available_losses(include_disabled=args.all)
    if args.json:
        _emit_json(
            [
                {
                    "name": r.name,
                    "qualified_name": r.qualified_name,
                    "target": r.target,
                    "distribution": r.distribution,
                    "version": r.version,
                    "status": r.status,
                    "reason": r.reason,
                    "protocol": r.protocol,
                }
                for r in records
            ]
        )
        return 0
    if not records:
        print("No losses installed. Install a loss package, e.g. pip install ganloss-adversarial")
        return 0
    rows = [[r.name, r.distribution, r.version or "-", r.status, r.reason or ""] for r in records]
    print(_table(rows, ["NAME", "DISTRIBUTION", "VERSION", "STATUS", "NOTE"]))
    flagged = sum(r.status not in ("ok", "local") for r in records)
    print(f"\n{len(records)} losses" + (f", {flagged} need attention" if flagged else ""))
    return 0


def describe_loss(type_name: str) -> dict[str, Any]:
    """What ``ganloss info`` shows: origin, loss name, inputs, hyperparameters, summary."""
    import inspect

    from .protocol import COMMON_KEYWORDS, constructor_parameters
    from .registry import get_loss_class

    cls = get_loss_class(type_name)
    record = next(
        (
            r
            for r in available_losses()
            if r.name == type_name.rpartition(":")[2]
            and (":" not in type_name or r.qualified_name == type_name)
        ),
        None,
    )
    params = constructor_parameters(cls)
    doc = inspect.getdoc(cls) or ""
    return {
        "name": type_name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "distribution": record.distribution if record else None,
        "version": record.version if record else None,
        "status": record.status if record else None,
        "default_loss_name": cls.default_loss_name,
        "inputs": [{"name": s.name, "required": s.required} for s in cls.input_specs],
        "hyperparameters": {
            name: (None if p.default is p.empty else _jsonable(p.default))
            for name, p in params.items()
            if name not in COMMON_KEYWORDS
        },
        "common": {
            name: _jsonable(p.default) for name, p in params.items() if name in COMMON_KEYWORDS
        },
        "summary": doc.split("\n\n", 1)[0].replace("\n", " "),
    }


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
    origin = (
        f"{info['distribution']} {info['version'] or ''}".strip()
        if info["distribution"]
        else "unknown"
    )
    print(f"{info['name']}  ({info['class']}, from {origin})")
    if info["summary"]:
        print(f"\n  {info['summary']}")
    print(f"\n  default loss_name: {info['default_loss_name']}")
    print("  inputs (data_info keys):")
    for spec in info["inputs"]:
        print(f"    {spec['name']:<20} {'required' if spec['required'] else 'optional'}")
    print("  hyperparameters:")
    if not info["hyperparameters"]:
        print("    (none)")
    for name, default in info["hyperparameters"].items():
        print(f"    {name:<20} default {default!r}")
    print("  common: " + ", ".join(f"{k}={v!r}" for k, v in info["common"].items()))
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from .hooks import get_plugin_manager, hook_plugin_failures

    pm = get_plugin_manager()
    dists: dict[str, dict[str, Any]] = {}
    for group in (LOSS_GROUP, HOOK_GROUP):
        for entry in plugin_entries(group):
            info = dists.setdefault(
                entry.distribution,
                {
                    "distribution": entry.distribution,
                    "version": entry.version,
                    "losses": [],
                    "hooks": [],
                    "status": "disabled" if entry.disabled_reason else "ok",
                    "reason": entry.disabled_reason,
                },
            )
            if group == LOSS_GROUP:
                info["losses"].append(entry.name)
            else:
                name = f"{entry.distribution}:{entry.name}"
                plugin = pm.get_plugin(name)
                if plugin is not None:
                    info["hooks"].extend(sorted(h.name for h in pm.get_hookcallers(plugin) or []))
                elif name in hook_plugin_failures():
                    info["status"], info["reason"] = "broken", hook_plugin_failures()[name]
    rows = sorted(dists.values(), key=lambda d: d["distribution"])
    if args.json:
        _emit_json(rows)
        return 0
    if not rows:
        print("No ganlosscore plugins installed.")
        return 0
    print(
        _table(
            [
                [
                    d["distribution"],
                    d["version"] or "-",
                    str(len(d["losses"])),
                    ", ".join(d["hooks"]) or "-",
                    d["status"] + (f" ({d['reason']})" if d["reason"] else ""),
                ]
                for d in rows
            ],
            ["DISTRIBUTION", "VERSION", "LOSSES", "HOOKS", "STATUS"],
        )
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .config import collect_problems, load_config

    config = load_config(args.config)
    problems = collect_problems(config)
    if problems:
        print(f"{args.config}: {len(problems)} problem{'s' * (len(problems) > 1)}")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    phases = [k for k, v in config.items() if isinstance(v, (list, dict))]
    print(f"{args.config}: ok ({', '.join(phases)})")
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import write_plugin

    target = write_plugin(args.name, Path(args.dir))
    print(f"Created {target}")
    print(f"Next: pip install -e {target}[test] && pytest {target / 'tests'}")
    return 0


class CoreCommands:
    """The core's sub-commands, registered on the hook like a third party's."""

    @hookimpl
    def ganloss_register_commands(self, cli: argparse._SubParsersAction[Any]) -> None:
        add_core_commands(cli)


def add_core_commands(cli: argparse._SubParsersAction[Any]) -> None:
    p = cli.add_parser("list", help="list every installed loss (imports no plugin)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all", action="store_true", help="include deselected (disabled) plugins")
    p.add_argument("--check", action="store_true", help="import every plugin to find broken ones")
    p.set_defaults(func=cmd_list)

    p = cli.add_parser("info", help="describe one loss: origin, inputs, hyperparameters")
    p.add_argument("name", help="a loss type, e.g. DiscShiftLoss or dist-name:DiscShiftLoss")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = cli.add_parser("plugins", help="installed plugin distributions and their hooks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = cli.add_parser("check", help="build every loss of a config file, report every problem")
    p.add_argument("config", help="a .json, .toml or .yaml config file")
    p.set_defaults(func=cmd_check)

    p = cli.add_parser("new-plugin", help="write a new loss package, ready to install and test")
    p.add_argument("name", help="distribution name, e.g. ganloss-mylosses")
    p.add_argument("--dir", default=".", help="parent directory (default: current)")
    p.set_defaults(func=cmd_new_plugin)


def _versions() -> str:
    lines = [f"ganlosscore {__version__} (loss protocol {PROTOCOL_VERSION})"]
    seen: set[str] = set()
    for group in (LOSS_GROUP, HOOK_GROUP):
        for entry in plugin_entries(group):
            if entry.distribution not in seen:
                seen.add(entry.distribution)
                lines.append(f"  {entry.distribution} {entry.version}")
    return "\n".join(lines)


def build_parser(with_plugins: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganloss",
        description="GAN losses for PyTorch: see what is installed, check configs, "
        "start a loss package.",
    )
    parser.add_argument("--version", action="store_true", help="core and plugin versions")
    cli = parser.add_subparsers(dest="command", metavar="COMMAND")
    if with_plugins:
        from .hooks import get_plugin_manager

        get_plugin_manager().hook.ganloss_register_commands(cli=cli)
    else:
        add_core_commands(cli)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    core_only = command in CORE_COMMANDS or (command is None and "--version" in argv)
    try:
        parser = build_parser(with_plugins=not core_only)
        args = parser.parse_args(argv)
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
    except BrokenPipeError:  # e.g. `ganloss list | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

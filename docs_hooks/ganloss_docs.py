"""MkDocs hook: write the generated parts of the docs from what is installed.

A page asks for generated content with a marker on a line of its own:

``<!-- ganloss:catalogue -->``
    every loss ``available_losses()`` lists, grouped by distribution: origin,
    inputs, hyperparameters and defaults (``ganlosscore.cli.describe_loss``)
    and the class docstring, which holds the formula;
``<!-- ganloss:hookspec NAME -->``
    one hookspec of ``ganlosscore.hookspecs``: signature, kind, arguments,
    return value and default, from the spec and its docstring;
``<!-- ganloss:cli -->``
    every sub-command of ``ganloss``, from its argparse parser (with the
    commands that installed plugins add).

Nothing here is written twice: the docstrings and the metadata are the source.
Whatever cannot be generated faithfully (a loss that fails to import, a
hookspec whose docstring misses an argument, a bundled plugin that is not
installed) is logged as a warning, which fails ``mkdocs build --strict``.

``tests/test_docs.py`` loads this file by path and calls :func:`expand`, so it
must not need MkDocs itself.
"""

from __future__ import annotations

import argparse
import inspect
import io
import logging
import os
import re
import textwrap
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.ganloss_docs")

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- ganloss:(?P<what>[a-z-]+)(?: (?P<arg>[A-Za-z0-9_.:-]+))? -->$", re.M)
MARKER_HOOKSPECS = re.compile(r"^<!-- ganloss:hookspec ([A-Za-z0-9_]+) -->$", re.M)


# -- MkDocs events -----------------------------------------------------------------


def on_config(config: Any) -> Any:
    for dist in missing_bundled_plugins():
        log.warning(
            "the bundled plugin %s is not installed, so the loss catalogue would miss its "
            "losses; install it (make install) before building the docs",
            dist,
        )
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return expand(markdown, page=page.file.src_uri, warn=log.warning)


# -- expansion -----------------------------------------------------------------------


def expand(markdown: str, *, page: str = "<page>", warn: Callable[..., None] | None = None) -> str:
    """Replace every marker of ``markdown`` with its generated Markdown."""
    warn = warn or log.warning

    def replace(match: re.Match[str]) -> str:
        what, arg = match["what"], match["arg"]
        if what == "catalogue" and arg is None:
            return render_catalogue(warn)
        if what == "hookspec" and arg is not None:
            return render_hookspec(arg, warn)
        if what == "cli" and arg is None:
            return render_cli()
        warn("%s: unknown generated-content marker %r", page, match[0])
        return match[0]

    out = MARKER.sub(replace, markdown)
    named = set(MARKER_HOOKSPECS.findall(markdown))
    if named:  # a page documenting hookspecs documents all of them
        for name in sorted(set(hookspec_names()) - named):
            warn(
                "%s: the hookspec %s is not documented (add <!-- ganloss:hookspec %s -->)",
                page,
                name,
                name,
            )
    return out


def missing_bundled_plugins() -> list[str]:
    """Distributions under ``plugins/`` that are not installed in this environment."""
    import importlib_metadata

    from ganlosscore.registry import normalize_dist_name

    installed = {
        normalize_dist_name(d.metadata["Name"] or "") for d in importlib_metadata.distributions()
    }
    bundled = [
        p.name
        for p in sorted((ROOT / "plugins").glob("ganloss-*"))
        if (p / "pyproject.toml").is_file()
    ]
    return [name for name in bundled if normalize_dist_name(name) not in installed]


# -- docstrings to Markdown ------------------------------------------------------------

_ROLE = re.compile(r":(?:math|class|func|meth|mod|data|attr|obj|exc):`~?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Inputs?|Outputs?|Returns?|Raises|Examples?|Notes?|Papers?|"
    r"Shape|Attributes):\s*(.*)$"
)
_TABLE_RULE = re.compile(r"^=+( +=+)+$")
_LONE_STAR = re.compile(r"(?<=[\s(,])\*(?=[\s),]|$)")


def inline(text: str) -> str:
    """rST inline markup to Markdown: ``x`` and :role:`x` become `x`."""

    def role(match: re.Match[str]) -> str:
        target = match[1]
        if match[0].startswith(":math:"):
            return f"`{target}`"
        shown = target.rsplit(".", 1)[-1] if "~" in match[0] else target
        return f"`{shown}`"

    text = _LITERAL.sub(lambda m: f"`{m[1]}`", _ROLE.sub(role, text))
    # A lone '*' outside code, as in "(N, *)", must not open an emphasis.
    parts = text.split("`")
    parts[::2] = [_LONE_STAR.sub(r"\\*", part) for part in parts[::2]]
    return "`".join(parts)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _take_block(lines: list[str], start: int, base: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented deeper than ``base`` (blank lines included)."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _fence(lines: list[str], language: str) -> list[str]:
    body = textwrap.dedent("\n".join(lines)).strip("\n")
    return ["", f"```{language}", body, "```", ""]


def _simple_table(lines: list[str], start: int) -> tuple[list[str], int]:
    """An rST simple table (``===`` rules) as a Markdown table, and the line after it.

    Three rules mean a header row (between the first two); two, none.
    """
    rule = lines[start]
    spans = [m.start() for m in re.finditer(r"=+", rule)]
    rows: list[list[str]] = []
    header: list[str] | None = None
    end, rules = start + 1, 1
    while end < len(lines) and lines[end].strip():
        if _TABLE_RULE.match(lines[end].strip()):
            rules += 1
            following = lines[end + 1] if end + 1 < len(lines) else ""
            if rules == 2 and following.strip() and not _TABLE_RULE.match(following.strip()):
                header, rows = rows[0] if rows else None, []
                end += 1
                continue
            end += 1
            break
        cells = [
            inline(lines[end][a : spans[n + 1] if n + 1 < len(spans) else None].strip())
            for n, a in enumerate(spans)
        ]
        rows.append(cells)
        end += 1
    head = header or [" "] * len(spans)
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(spans)]
    table += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return ["", *table, ""], end


def _items(block: list[str]) -> list[str]:
    """A Google-style section body (``name: text`` items) as a Markdown list."""
    block = textwrap.dedent("\n".join(block)).splitlines()
    items: list[str] = []
    for line in block:
        if not line.strip():
            continue
        if _indent(line) == 0 or not items:
            name, sep, rest = line.strip().partition(": ")
            if sep and re.fullmatch(r"[\w*, ]+", name):
                names = ", ".join(f"`{n.strip()}`" for n in name.split(","))
                items.append(f"- {names}: {inline(rest)}")
            else:
                items.append(f"- {inline(line.strip())}")
        else:
            items[-1] += " " + inline(line.strip())
    return ["", *items, ""]


def docstring_to_markdown(doc: str) -> str:
    """A Google/Sphinx-style docstring as Markdown (formulas as LaTeX code blocks)."""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == ".. math::":
            block, i = _take_block(lines, i + 1, _indent(line))
            out += _fence(block, "latex")
            continue
        if _TABLE_RULE.match(stripped):
            table, i = _simple_table(lines, i)
            out += table
            continue
        section = _SECTION.match(line)
        if section:
            label, rest = section.groups()
            if rest:
                out += ["", f"**{label}:** {inline(rest)}"]
                i += 1
                continue
            block, i = _take_block(lines, i + 1, _indent(line))
            if any(b.strip().startswith(">>>") for b in block):
                out += ["", f"**{label}:**", *_fence(block, "pycon")]
            else:
                out += ["", f"**{label}:**", *_items(block)]
            continue
        if stripped.endswith("::") and i + 1 < len(lines):  # an rST literal block
            text = stripped[:-2].rstrip()
            block, i = _take_block(lines, i + 1, _indent(line))
            if text:
                out.append(inline(text) + ":")
            out += _fence(block, "python")
            continue
        if stripped.startswith(("* ", "- ")):
            if out and out[-1].strip() and not out[-1].lstrip().startswith("- "):
                out.append("")
            out.append("- " + inline(stripped[2:]))
            i += 1
            continue
        if stripped and out and out[-1].startswith("- ") and _indent(line) > 0:
            out[-1] += " " + inline(stripped)  # a list item's continuation
            i += 1
            continue
        out.append(inline(stripped))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- the loss catalogue ------------------------------------------------------------------


def _module_docstring_target(cls: type) -> str | None:
    """The module whose docstring a class docstring points at (``see the module docstring``)."""
    return cls.__module__ if "module docstring" in (cls.__doc__ or "") else None


def render_catalogue(warn: Callable[..., None]) -> str:
    import importlib

    import importlib_metadata

    from ganlosscore import GanLossError, available_losses
    from ganlosscore.cli import describe_loss
    from ganlosscore.registry import get_loss_class

    records = available_losses()
    if not records:
        warn("the loss catalogue is empty: no loss package is installed")
        return "*No loss package is installed in the environment that built these docs.*\n"

    by_dist: dict[str, list[Any]] = {}
    for record in records:
        by_dist.setdefault(record.distribution, []).append(record)

    out = ["| loss | package | default `loss_name` | summary |", "|---|---|---|---|"]
    described: dict[str, tuple[dict[str, Any], type] | str] = {}
    for record in records:
        type_name = record.name if record.status == "local" else record.qualified_name
        try:
            info = describe_loss(type_name)
            described[record.qualified_name] = (info, get_loss_class(type_name))
        except GanLossError as exc:
            warn("the catalogue cannot describe %s: %s", record.qualified_name, exc)
            described[record.qualified_name] = str(exc)
            info = {"default_loss_name": None, "summary": f"cannot be loaded: {exc}"}
        loss_name = f"`{info['default_loss_name']}`" if info["default_loss_name"] else "-"
        summary = inline(str(info["summary"])).replace("|", "\\|")
        out.append(
            f"| [`{record.name}`](#{_anchor(record)}) | {record.distribution} | {loss_name} | "
            f"{summary} |"
        )
    out.append("")

    for dist, dist_records in sorted(by_dist.items()):
        version = dist_records[0].version or ""
        out += ["", f"## {dist} {version}".rstrip() + f" {{ #{_slug(dist)} }}", ""]
        try:
            summary = importlib_metadata.metadata(dist).get("Summary")
        except importlib_metadata.PackageNotFoundError:  # a local registration
            summary = None
        if summary:
            out += [summary, ""]
        modules: list[str] = []
        for record in dist_records:
            entry = described[record.qualified_name]
            out += ["", f"### `{record.name}` {{ #{_anchor(record)} }}", ""]
            if isinstance(entry, str):
                out += [f"*This loss could not be loaded:* {inline(entry)}", ""]
                continue
            info, cls = entry
            out += _facts(record, info, cls)
            if not cls.__doc__:
                warn("%s has no docstring, so the catalogue has no formula for it", record.name)
            text = docstring_to_markdown(cls.__doc__ or "*No docstring.*")
            module = _module_docstring_target(cls)
            if module:  # the class points at its module's docstring: render that once, below
                if module not in modules:
                    modules.append(module)
                link = f"the [notes of `{module}`](#{_slug(module)})"
                text, found = re.subn(r"\bthe module docstring\b", link, text)
                if not found:
                    text += f"\nSee {link}.\n"
            out += ["", text]
        for module in modules:
            doc = inspect.getdoc(importlib.import_module(module)) or ""
            out += ["", f"### Notes of `{module}` {{ #{_slug(module)} }}", ""]
            out += [docstring_to_markdown(doc)]
    return "\n".join(out) + "\n"


def _facts(record: Any, info: dict[str, Any], cls: type) -> list[str]:
    required = [s["name"] for s in info["inputs"] if s["required"]]
    optional = [s["name"] for s in info["inputs"] if not s["required"]]
    inputs = ", ".join(f"`{n}`" for n in required) or "none"
    if optional:
        inputs += "; optional " + ", ".join(f"`{n}`" for n in optional)
    if info.get("accepts_any_input"):
        inputs += "; any other name (`**kwargs`)"
    default_data_info = info.get("default_data_info", getattr(cls, "default_data_info", None))
    rows = [
        ("config `type`", f"`{record.name}` (or `{record.qualified_name}`)"),
        ("class", f"`{info['class']}`"),
        ("default `loss_name`", f"`{info['default_loss_name']}`"),
        ("inputs (`data_info` keys)", inputs),
    ]
    if default_data_info:
        rows.append(("default `data_info`", f"`{dict(default_data_info)!r}`"))
    rows.append(("hyperparameters", ", ".join(_hyperparameters(info, cls)) or "none"))
    common = ", ".join(f"`{k}={v!r}`" for k, v in info["common"].items())
    rows.append(("common keywords", common))
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value.replace('|', chr(92) + '|')} |" for key, value in rows]
    return [*lines, ""]


def _hyperparameters(info: dict[str, Any], cls: type) -> list[str]:
    """``name=default`` or ``name (required)`` for each of the class's own keywords."""
    hyper = info["hyperparameters"]
    if isinstance(hyper, dict):  # describe_loss of ganlosscore 0.1.0: name -> default
        params = inspect.signature(cls).parameters
        hyper = [
            {
                "name": name,
                "default": default,
                "required": name in params and params[name].default is inspect.Parameter.empty,
            }
            for name, default in hyper.items()
        ]
    return [
        f"`{h['name']}` (required)" if h["required"] else f"`{h['name']}={h['default']!r}`"
        for h in hyper
    ]


def _anchor(record: Any) -> str:
    return _slug(record.qualified_name if record.status == "conflict" else record.name)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


# -- the hooks reference --------------------------------------------------------------------


def hookspec_names() -> list[str]:
    """Every hookspec of ``ganlosscore.hookspecs``, in the module's order."""
    from ganlosscore import hookspecs

    marker = f"{hookspecs.PROJECT}_spec"
    return [
        name
        for name, obj in vars(hookspecs).items()
        if callable(obj) and getattr(obj, marker, None) is not None
    ]


def hookspec_facts(name: str) -> dict[str, Any]:
    """What the reference says about one hookspec, read from the spec itself.

    ``arguments`` are the signature's parameters with their ``:param:``
    text (``None`` where the docstring has none), ``kind`` is ``firstresult``
    or ``all``, ``default`` the docstring's ``Default:`` paragraph.
    """
    from ganlosscore import hookspecs

    spec = getattr(hookspecs, name)
    opts = getattr(spec, f"{hookspecs.PROJECT}_spec")
    doc = inspect.getdoc(spec) or ""
    params: dict[str, str] = {}
    returns = None
    summary: list[str] = []
    default = None
    for block in re.split(r"\n\s*\n", doc):
        text = block.strip()
        if text.startswith(":param") or text.startswith(":returns:"):
            for field in re.split(r"\n(?=:)", text):
                field = " ".join(field.split())
                param = re.match(r":param (\w+):\s*(.*)", field)
                if param:
                    params[param[1]] = param[2]
                elif field.startswith(":returns:"):
                    returns = field[len(":returns:") :].strip()
        elif text.startswith("Default:"):
            default = " ".join(text[len("Default:") :].split())
        else:
            summary.append(" ".join(text.split()))
    arguments = list(inspect.signature(spec).parameters)
    return {
        "name": name,
        "arguments": {arg: params.get(arg) for arg in arguments},
        "documented_unknown": sorted(set(params) - set(arguments)),
        "kind": "firstresult" if opts.get("firstresult") else "all",
        "historic": bool(opts.get("historic")),
        "summary": summary,
        "returns": returns,
        "default": default,
    }


KIND_TEXT = {
    "firstresult": "firstresult: implementations run newest first, and the first one that "
    "returns something other than `None` gives the result",
    "all": "all called: every implementation runs and the results are collected in a list",
}


def render_hookspec(name: str, warn: Callable[..., None]) -> str:
    if name not in hookspec_names():
        warn("the hooks reference documents %s, which is not a hookspec", name)
        return f"### `{name}`\n\n*Not a hookspec of this version of ganlosscore.*\n"
    facts = hookspec_facts(name)
    for arg, text in facts["arguments"].items():
        if text is None:
            warn("the docstring of hookspec %s does not describe its argument %r", name, arg)
    for arg in facts["documented_unknown"]:
        warn("the docstring of hookspec %s describes %r, which it does not take", name, arg)
    if facts["default"] is None:
        warn("the docstring of hookspec %s has no 'Default:' paragraph", name)
    signature = f"{name}({', '.join(facts['arguments'])})"
    out = [f"### `{name}` {{ #{name} }}", "", "```python", signature, "```", ""]
    out += [inline(p) for p in facts["summary"]] + [""]
    out += [f"- **Kind:** {KIND_TEXT[facts['kind']]}."]
    out += [f"- **Default:** {inline(facts['default'] or 'undocumented')}"]
    out += ["- **Arguments:**"]
    for arg, text in facts["arguments"].items():
        out.append(f"    - `{arg}`: {inline(text or 'undocumented')}")
    if facts["returns"]:
        out.append(f"- **Returns:** {inline(facts['returns'])}")
    return "\n".join(out) + "\n"


# -- the CLI reference ------------------------------------------------------------------------


def cli_commands() -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """``name -> (help, parser)`` for every sub-command, plugins' included."""
    from ganlosscore.cli import build_parser

    parser = build_parser(with_plugins=True)
    commands: dict[str, tuple[str, argparse.ArgumentParser]] = {}
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                commands[name] = (helps.get(name, ""), sub)
    return commands


def _help_text(parser: argparse.ArgumentParser) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal; make the page stable
    try:
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            parser.print_help()
        return buffer.getvalue().rstrip()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def command_origins() -> dict[str, str]:
    """``command -> plugin name`` for the commands that hook plugins add.

    Each ``ganloss_register_commands`` implementation is called on a parser of
    its own, so what it adds is known; the plugin name of an installed
    package's hooks is ``dist-name:entry-point``.
    """
    from ganlosscore import get_plugin_manager
    from ganlosscore.cli import CORE_COMMANDS

    origins: dict[str, str] = {}
    for impl in get_plugin_manager().hook.ganloss_register_commands.get_hookimpls():
        if impl.wrapper or impl.hookwrapper:
            continue
        scratch = argparse.ArgumentParser().add_subparsers()
        try:
            impl.function(*(scratch if arg == "cli" else None for arg in impl.argnames))
        except Exception:  # ganloss itself leaves such a plugin's commands out
            continue
        for name in scratch.choices:
            if name not in CORE_COMMANDS:
                origins[name] = impl.plugin_name.partition(":")[0]
    return origins


def render_cli() -> str:
    from ganlosscore.cli import CORE_COMMANDS, build_parser

    out = ["### `ganloss` { #ganloss }", "", "```text", _help_text(build_parser(True)), "```", ""]
    origins = command_origins()
    for name, (help_, parser) in cli_commands().items():
        origin = ""
        if name not in CORE_COMMANDS:
            origin = f" *(added by `{origins.get(name, 'an installed plugin')}`)*"
        out += [f"### `ganloss {name}` {{ #ganloss-{_slug(name)} }}", ""]
        out += [f"{inline(help_[:1].upper() + help_[1:])}.{origin}", ""]
        out += ["```text", _help_text(parser), "```", ""]
    return "\n".join(out)


__all__ = [
    "cli_commands",
    "command_origins",
    "docstring_to_markdown",
    "expand",
    "hookspec_facts",
    "hookspec_names",
    "missing_bundled_plugins",
    "on_config",
    "on_page_markdown",
]

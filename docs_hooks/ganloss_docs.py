"""MkDocs hook: the parts of the site that come from what is installed.

mkdocstrings renders every docstring (the losses, the hookspecs, the Python
API); this hook only decides *which* objects there are, which no static tool
knows, and does the two things mkdocstrings cannot:

* it writes the loss catalogue's pages when the site is built, one per
  installed distribution with a section per loss (the facts of ``ganloss
  info`` and a ``:::`` directive for the class), the table of all losses
  where ``docs/catalogue.md`` has ``<!-- ganloss:catalogue -->``, and the
  Python API page from ``ganlosscore.__all__``; none of these is in the repo;
* it puts the usage of every ``ganloss`` sub-command where ``docs/cli.md``
  has ``<!-- ganloss:cli -->`` (mkdocstrings documents Python objects, not an
  argparse parser with the commands plugins add);
* it turns the formulas (``pymdownx.arithmatex`` output) into MathML with
  ``latex2mathml``, so they show with no network and no JavaScript.

Whatever cannot be generated faithfully (a loss that fails to import, a
hookspec left out of ``docs/hooks.md`` or whose docstring misses an
argument, a formula latex2mathml cannot read, a bundled plugin that is not
installed) is logged as a warning, which fails ``mkdocs build --strict``.

``tests/test_docs.py`` loads this file by path, so it must not need MkDocs
at import time.
"""

from __future__ import annotations

import argparse
import functools
import html
import inspect
import io
import logging
import os
import re
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.ganloss_docs")

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- ganloss:(?P<what>[a-z-]+) -->$", re.M)
HOOKSPEC_DIRECTIVE = re.compile(r"^::: ganlosscore\.hookspecs\.(\w+)\s*$", re.M)
CATALOGUE_PAGE = "catalogue.md"
API_PAGE = "api.md"

# -- MkDocs events -----------------------------------------------------------------


def on_config(config: Any) -> Any:
    for dist in missing_bundled_plugins():
        log.warning(
            "the bundled plugin %s is not installed, so the loss catalogue would miss its "
            "losses; install it (make install) before building the docs",
            dist,
        )
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages, and the catalogue's pages to the nav under the catalogue."""
    from mkdocs.structure.files import File

    pages = generated_pages(warn=log.warning)
    for src_uri, content in pages.items():
        files.append(File.generated(config, src_uri, content=content))
    dist_pages = [uri for uri in pages if uri.startswith("catalogue/")]
    config.nav = _with_catalogue_pages(config.nav, dist_pages)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return expand(markdown, page=page.file.src_uri, warn=log.warning)


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    return math_to_mathml(html_text, page=page.file.src_uri, warn=log.warning)


# -- pages and markers -----------------------------------------------------------------


def generated_pages(warn: Callable[..., None] | None = None) -> dict[str, str]:
    """``src_uri -> Markdown`` of every page this hook adds to the site."""
    warn = warn or log.warning
    pages = {API_PAGE: render_api()}
    for dist, records in sorted(_records_by_dist(warn).items()):
        pages[f"catalogue/{dist}.md"] = render_distribution(dist, records, warn)
    return pages


def expand(markdown: str, *, page: str = "<page>", warn: Callable[..., None] | None = None) -> str:
    """Replace every marker of ``markdown`` with its generated Markdown, and check hooks.md."""
    warn = warn or log.warning

    def replace(match: re.Match[str]) -> str:
        if match["what"] == "catalogue":
            return render_catalogue_table(warn)
        if match["what"] == "cli":
            return render_cli()
        warn("%s: unknown generated-content marker %r", page, match[0])
        return match[0]

    documented = HOOKSPEC_DIRECTIVE.findall(markdown)
    if documented:  # a page documenting hookspecs documents all of them, each well
        for problem in hookspec_problems(documented):
            warn("%s: %s", page, problem)
    return MARKER.sub(replace, markdown)


def _with_catalogue_pages(nav: Any, dist_pages: list[str]) -> Any:
    """The nav with the catalogue's entry turned into a section of its pages."""
    if isinstance(nav, list):
        return [_with_catalogue_pages(item, dist_pages) for item in nav]
    if isinstance(nav, dict):
        out = {}
        for title, value in nav.items():
            if value == CATALOGUE_PAGE:
                out[title] = [{"All losses": CATALOGUE_PAGE}] + [
                    {Path(uri).stem: uri} for uri in dist_pages
                ]
            else:
                out[title] = _with_catalogue_pages(value, dist_pages)
        return out
    return nav


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


@functools.cache
def _griffe_extension() -> Any:
    """``griffe_ganloss.py`` beside this file, loaded by path as mkdocstrings loads it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "ganloss_griffe_docs", Path(__file__).with_name("griffe_ganloss.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rest_to_markdown(text: str) -> str:
    """The griffe extension's reST conversion, for the text this hook writes itself."""
    return str(_griffe_extension().rest_to_markdown(text))


# -- formulas ------------------------------------------------------------------------------

_ARITHMATEX = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S)


def math_to_mathml(
    html_text: str, *, page: str = "<page>", warn: Callable[..., None] | None = None
) -> str:
    """Every formula ``pymdownx.arithmatex`` marked (generic mode) as MathML."""
    import latex2mathml.converter

    warn = warn or log.warning

    def convert(match: re.Match[str]) -> str:
        tex = html.unescape(match["tex"]).strip()
        block = match["tag"] == "div"
        for opening, closing in (("\\[", "\\]"), ("\\(", "\\)"), ("$$", "$$"), ("$", "$")):
            if tex.startswith(opening) and tex.endswith(closing):
                tex = tex[len(opening) : len(tex) - len(closing)].strip()
                break
        try:
            mathml = latex2mathml.converter.convert(tex, display="block" if block else "inline")
        except Exception as exc:  # latex2mathml raises several types for bad LaTeX
            warn("%s: the formula %r cannot be rendered as MathML: %s", page, tex, exc)
            return match[0]
        return f'<div class="ganloss-math">{mathml}</div>' if block else mathml

    return _ARITHMATEX.sub(convert, html_text)


# -- the loss catalogue ------------------------------------------------------------------


def _records_by_dist(warn: Callable[..., None]) -> dict[str, list[Any]]:
    from ganlosscore import available_losses

    records = available_losses()
    if not records:
        warn("the loss catalogue is empty: no loss package is installed")
    by_dist: dict[str, list[Any]] = {}
    for record in records:
        by_dist.setdefault(record.distribution, []).append(record)
    return by_dist


def _describe(record: Any) -> tuple[dict[str, Any], type]:
    from ganlosscore.cli import describe_loss
    from ganlosscore.registry import get_loss_class

    type_name = record.name if record.status == "local" else record.qualified_name
    return describe_loss(type_name), get_loss_class(type_name)


def render_catalogue_table(warn: Callable[..., None]) -> str:
    """One row per installed loss, linking to its section on its distribution's page."""
    from ganlosscore import GanLossError

    out = ["| loss | package | default `loss_name` | summary |", "|---|---|---|---|"]
    for dist, records in sorted(_records_by_dist(warn).items()):
        for record in records:
            try:
                info, _ = _describe(record)
                summary = _rest_to_markdown(str(info["summary"]))
                loss_name = f"`{info['default_loss_name']}`"
            except GanLossError as exc:
                summary, loss_name = f"cannot be loaded: {exc}", "-"
            summary = summary.replace("|", "\\|")
            out.append(
                f"| [`{record.name}`](catalogue/{dist}.md#{_anchor(record)}) | "
                f"[{dist}](catalogue/{dist}.md) | {loss_name} | {summary} |"
            )
    return "\n".join(out) + "\n"


def render_distribution(dist: str, records: list[Any], warn: Callable[..., None]) -> str:
    """The catalogue page of one distribution: a section per loss, rendered by mkdocstrings."""
    import importlib_metadata

    from ganlosscore import GanLossError

    version = records[0].version or ""
    out = [f"# {dist} {version}".rstrip(), ""]
    try:
        summary = importlib_metadata.metadata(dist).get("Summary")
    except importlib_metadata.PackageNotFoundError:  # a local registration
        summary = None
    if summary:
        out += [summary, ""]
    out += [
        "Each section gives the facts `ganloss info` shows, then the class's docstring. "
        "The [catalogue's first page](../catalogue.md) says how to read them.",
        "",
    ]
    modules: list[str] = []
    for record in records:
        out += [f"## `{record.name}` {{ #{_anchor(record)} }}", ""]
        try:
            info, cls = _describe(record)
        except GanLossError as exc:
            warn("the catalogue cannot describe %s: %s", record.qualified_name, exc)
            out += [f"*This loss could not be loaded:* {exc}", ""]
            continue
        if not cls.__doc__:
            warn("%s has no docstring, so the catalogue has no formula for it", record.name)
        out += _facts(record, info, cls)
        out += [_directive(f"{cls.__module__}.{cls.__qualname__}"), ""]
        if "module docstring" in (cls.__doc__ or "") and cls.__module__ not in modules:
            modules.append(cls.__module__)
    for module in modules:
        out += [f"## Notes of `{module}` {{ #{_slug(module)} }}", "", _directive(module), ""]
    return "\n".join(out) + "\n"


def _directive(identifier: str) -> str:
    """A mkdocstrings block for one object: its docstring, under our own heading."""
    return "\n".join(
        [
            f"::: {identifier}",
            "    options:",
            "      show_root_heading: false",
            "      show_root_toc_entry: false",
            "      show_bases: false",
            "      members: false",
            "      heading_level: 3",
        ]
    )


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
    return [*(f"- **{key}:** {value}" for key, value in rows), ""]


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


# -- the Python API -----------------------------------------------------------------------


def render_api() -> str:
    """``ganlosscore.__all__`` grouped by the module that defines each name, then the kit."""
    import importlib

    import ganlosscore

    by_module: dict[str, list[str]] = {}
    for name in ganlosscore.__all__:
        obj = getattr(ganlosscore, name)
        module = getattr(obj, "__module__", None)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not module:
            continue  # constants (__version__, PROTOCOL_VERSION) and markers
        by_module.setdefault(module, []).append(name)
    out = [
        "# Python API",
        "",
        "What `import ganlosscore` exports (`ganlosscore.__all__`), grouped by the module "
        "that defines it, and the conformance kit `ganlosscore.testing`. Import every name "
        "from `ganlosscore` itself; the modules are where each is defined. The hook "
        "markers `hookimpl` and `hookspec` are described on the [hooks page](hooks.md).",
        "",
    ]
    for module, names in sorted(by_module.items()):
        doc = inspect.getdoc(importlib.import_module(module)) or ""
        out += [f"## `{module}`", "", doc.split("\n\n", 1)[0], ""]
        for name in names:
            out += [f"::: {module}.{name}", "    options:", "      heading_level: 3", ""]
    out += ["## `ganlosscore.testing`", "", "::: ganlosscore.testing", "    options:"]
    out += ["      heading_level: 3", "      show_root_heading: false"]
    out += ["      show_root_toc_entry: false", ""]
    out += [
        "## The pytest fixtures (`ganlosscore.testing.plugin`)",
        "",
        "Installing `ganlosscore` registers this module as a pytest plugin, so a test asks "
        "for a fixture by its name.",
        "",
        "::: ganlosscore.testing.plugin",
        "    options:",
        "      heading_level: 3",
        "      show_root_heading: false",
        "      show_root_toc_entry: false",
        '      filters: ["^ganloss_"]',
        "",
    ]
    return "\n".join(out)


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


def hookspec_problems(documented: list[str]) -> list[str]:
    """What keeps ``documented`` (hookspec names) from being a full reference.

    Each hookspec must be there once, and its docstring (read by griffe's
    Sphinx parser, as mkdocstrings reads it) must describe every argument
    and nothing else, and say its ``Default:``.
    """
    import griffe

    from ganlosscore import hookspecs

    names = hookspec_names()
    problems = [
        f"the hookspec {n} is not documented (add ::: ganlosscore.hookspecs.{n})"
        for n in names
        if n not in documented
    ]
    problems += [f"{n} is documented but is not a hookspec" for n in documented if n not in names]
    problems += [f"{n} is documented twice" for n in set(documented) if documented.count(n) > 1]
    for name in names:
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        sections = griffe.Docstring(doc).parse("sphinx", warnings=False)
        described = {
            p.name
            for s in sections
            if s.kind is griffe.DocstringSectionKind.parameters
            for p in s.value
        }
        arguments = set(inspect.signature(spec).parameters)
        problems += [
            f"the docstring of {name} does not describe {a!r}"
            for a in sorted(arguments - described)
        ]
        problems += [
            f"the docstring of {name} describes {a!r}, which it does not take"
            for a in sorted(described - arguments)
        ]
        if "Default:" not in doc:
            problems.append(f"the docstring of {name} has no 'Default:' paragraph")
    return problems


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
        out += [f"{help_[:1].upper() + help_[1:]}.{origin}", ""]
        out += ["```text", _help_text(parser), "```", ""]
    return "\n".join(out)


__all__ = [
    "cli_commands",
    "command_origins",
    "expand",
    "generated_pages",
    "hookspec_names",
    "hookspec_problems",
    "math_to_mathml",
    "missing_bundled_plugins",
    "on_config",
    "on_files",
    "on_page_content",
    "on_page_markdown",
]

"""The documentation is tested like code.

* every ```python block of every page runs, the blocks of one page in order
  in one namespace (``<!-- no-test -->`` on the line before a block skips it,
  for the rare block that cannot run here);
* the hooks reference documents every hookspec with its arguments, kind and
  default, and nothing else;
* the loss catalogue lists every loss ``ganloss list`` shows, and the CLI
  reference every sub-command;
* the site builds with ``mkdocs build --strict`` (skipped without MkDocs).

The generated parts come from ``docs_hooks/ganloss_docs.py``, the MkDocs hook;
it is loaded here by path, as MkDocs loads it, so that only ``tests/`` is on
``sys.path`` and the suite still runs against installed wheels.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
NO_TEST = "<!-- no-test -->"
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)


def code_blocks(text: str) -> list[tuple[str, int, str, bool]]:
    """``(language, line, source, skipped)`` for every fenced block of a page."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().rpartition("\n")[2].strip()
        line = text.count("\n", 0, match.start()) + 1
        body = textwrap.dedent(match["body"])
        blocks.append((match["lang"], line, body, before == NO_TEST))
    return blocks


def load_docs_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ganloss_docs_hook", ROOT / "docs_hooks" / "ganloss_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs_hook() -> ModuleType:
    return load_docs_hook()


def render(docs_hook: ModuleType, page: str) -> tuple[str, list[str]]:
    """A page's Markdown after the hook, and the warnings the hook gave."""
    warnings: list[str] = []
    text = (DOCS / page).read_text(encoding="utf-8")
    out = docs_hook.expand(text, page=page, warn=lambda msg, *args: warnings.append(msg % args))
    return out, warnings


# -- every Python block runs ----------------------------------------------------------


@contextlib.contextmanager
def isolated_state(tmp_path: Path):
    """Run a page's examples in a scratch directory; undo hooks and local losses they add."""
    from ganlosscore import available_losses, get_plugin_manager
    from ganlosscore.registry import unregister_loss

    pm = get_plugin_manager()
    plugins_before = {id(p) for p in pm.get_plugins()}
    local_before = {r.name for r in available_losses() if r.status == "local"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield
    finally:
        os.chdir(cwd)
        for plugin in list(pm.get_plugins()):
            if id(plugin) not in plugins_before:
                pm.unregister(plugin)
        for record in available_losses():
            if record.status == "local" and record.name not in local_before:
                unregister_loss(record.name)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    ran = 0
    with isolated_state(tmp_path):
        for lang, line, source, skipped in code_blocks(text):
            if lang != "python" or skipped:
                continue
            code = compile(source, f"{page.relative_to(ROOT)}:{line}", "exec")
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(code, namespace)
                except Exception as exc:
                    pytest.fail(
                        f"{page.name}, the block at line {line} raised {type(exc).__name__}: "
                        f"{exc}\n\n{source}"
                    )
            ran += 1
    if "```python" in text:
        assert ran, f"{page.name} has Python blocks but none ran"


def test_python_blocks_are_rarely_skipped() -> None:
    skipped = [
        f"{page.name}:{line}"
        for page in PAGES
        for lang, line, _, skip in code_blocks(page.read_text(encoding="utf-8"))
        if lang == "python" and skip
    ]
    assert len(skipped) <= 3, f"too many blocks marked {NO_TEST}: {skipped}"


def test_code_blocks_name_their_language() -> None:
    unnamed = [
        f"{page.name}:{line}"
        for page in PAGES
        for lang, line, _, _ in code_blocks(page.read_text(encoding="utf-8"))
        if not lang
    ]
    assert not unnamed, f"fenced blocks without a language (python, bash, toml, text...): {unnamed}"


# -- the generated references ---------------------------------------------------------


def test_hooks_page_documents_every_hookspec(docs_hook: ModuleType) -> None:
    from ganlosscore import hookspecs

    source = (DOCS / "hooks.md").read_text(encoding="utf-8")
    rendered, warnings = render(docs_hook, "hooks.md")
    assert not warnings, warnings
    marker = f"{hookspecs.PROJECT}_spec"
    specs = {
        name: obj
        for name, obj in vars(hookspecs).items()
        if callable(obj) and getattr(obj, marker, None) is not None
    }
    documented = re.findall(r"^<!-- ganloss:hookspec (\w+) -->$", source, re.M)
    assert sorted(documented) == sorted(specs), "one marker per hookspec, no more"
    for name, spec in specs.items():
        section = rendered.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        arguments = list(inspect.signature(spec).parameters)
        assert f"{name}({', '.join(arguments)})" in section
        for argument in arguments:
            assert re.search(rf"^\s+- `{argument}`: (?!undocumented)", section, re.M), (
                f"{name}: argument {argument} is not described"
            )
        firstresult = getattr(spec, marker)["firstresult"]
        assert ("**Kind:** firstresult" if firstresult else "**Kind:** all called") in section
        doc = " ".join((spec.__doc__ or "").split())
        default = doc.split("Default:", 1)[1].strip()
        assert f"**Default:** {docs_hook.inline(default)}" in section


def test_catalogue_lists_every_loss_ganloss_list_shows(docs_hook: ModuleType) -> None:
    from ganlosscore.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["list", "--json"]) == 0
    listed = json.loads(buffer.getvalue())
    assert listed, "no loss is installed, so the catalogue cannot be checked"
    rendered, warnings = render(docs_hook, "catalogue.md")
    assert not warnings, warnings
    headings = re.findall(r"^### `([^`]+)` \{ #", rendered, re.M)
    for record in listed:
        assert record["name"] in headings, f"{record['name']} is missing from the catalogue"
        section = rendered.split(f"### `{record['name']}`", 1)[1].split("\n### ", 1)[0]
        assert record["distribution"] in section


def test_catalogue_shows_inputs_hyperparameters_and_formula(docs_hook: ModuleType) -> None:
    rendered, _ = render(docs_hook, "catalogue.md")
    section = rendered.split("### `GradientPenaltyLoss`", 1)[1].split("\n### ", 1)[0]
    assert "`discriminator`, `real_data`, `fake_data`; optional `mask`" in section
    assert "`norm_mode='pixel'`" in section
    assert "```latex" in section


def test_cli_reference_lists_every_command(docs_hook: ModuleType) -> None:
    rendered, warnings = render(docs_hook, "cli.md")
    assert not warnings, warnings
    for name in docs_hook.cli_commands():
        assert f"### `ganloss {name}`" in rendered, f"ganloss {name} is not documented"


def test_plugin_page_shows_every_file_the_scaffold_writes(tmp_path: Path) -> None:
    from ganlosscore.scaffold import write_plugin

    page = (DOCS / "plugin-authoring.md").read_text(encoding="utf-8")
    target = write_plugin("ganloss-mylosses", tmp_path)
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        assert path.name in page, f"the scaffold writes {path.relative_to(target)}; show it"


def test_every_page_is_in_the_nav() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in pages(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in pages(value)]
        return []

    assert sorted(pages(config["nav"])) == sorted(p.name for p in PAGES)


def test_strict_build(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "catalogue" / "index.html").is_file()

"""The documentation is tested like code.

* every ```python block of every page runs, the blocks of one page in order
  in one namespace (``<!-- no-test -->`` on the line before a block skips it,
  for the rare block that cannot run here);
* the hooks reference documents every hookspec with its arguments, kind and
  default, and nothing else;
* the loss catalogue lists every loss ``ganloss list`` shows, and the CLI
  reference every sub-command;
* the site builds with ``mkdocs build --strict`` (skipped without MkDocs),
  shows every catalogue formula as MathML, and works from disk with nothing
  from a CDN.

The generated parts come from ``docs_hooks/ganloss_docs.py`` (the MkDocs hook)
and ``docs_hooks/griffe_ganloss.py`` (the griffe extension mkdocstrings
uses); they are loaded here by path, as MkDocs loads them, so that only
``tests/`` is on ``sys.path`` and the suite still runs against installed
wheels.
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


def load_module(path: str) -> ModuleType:
    """A file of docs_hooks/, loaded by path as MkDocs and mkdocstrings load it."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs_hook() -> ModuleType:
    return load_module("docs_hooks/ganloss_docs.py")


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
    pytest.importorskip("griffe")  # the docs extra: the check reads docstrings as griffe does
    source = (DOCS / "hooks.md").read_text(encoding="utf-8")
    documented = docs_hook.HOOKSPEC_DIRECTIVE.findall(source)
    assert sorted(documented) == sorted(docs_hook.hookspec_names()), "one ::: per hookspec"
    assert docs_hook.hookspec_problems(documented) == []
    _, warnings = render(docs_hook, "hooks.md")
    assert not warnings, warnings


def test_hookspec_check_finds_a_gap(docs_hook: ModuleType) -> None:
    """The check above is real: a hookspec left out, or an argument undescribed, is found."""
    pytest.importorskip("griffe")
    from ganlosscore import hookspecs

    names = docs_hook.hookspec_names()
    problems = docs_hook.hookspec_problems(names[1:])
    assert problems == [
        f"the hookspec {names[0]} is not documented (add ::: ganlosscore.hookspecs.{names[0]})"
    ]
    spec = getattr(hookspecs, names[0])
    original = spec.__doc__
    spec.__doc__ = "\n".join(line for line in original.splitlines() if ":param loss:" not in line)
    try:
        assert f"the docstring of {names[0]} does not describe 'loss'" in (
            docs_hook.hookspec_problems(names)
        )
    finally:
        spec.__doc__ = original


def test_catalogue_lists_every_loss_ganloss_list_shows(docs_hook: ModuleType) -> None:
    from ganlosscore.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["list", "--json"]) == 0
    listed = json.loads(buffer.getvalue())
    assert listed, "no loss is installed, so the catalogue cannot be checked"
    warnings: list[str] = []
    pages = docs_hook.generated_pages(warn=lambda msg, *args: warnings.append(msg % args))
    table, table_warnings = render(docs_hook, "catalogue.md")
    assert not warnings + table_warnings, warnings + table_warnings
    for record in listed:
        page = pages[f"catalogue/{record['distribution']}.md"]
        assert f"## `{record['name']}` {{ #{record['name']} }}" in page, record["name"]
        section = page.split(f"## `{record['name']}`", 1)[1].split("\n## ", 1)[0]
        assert "\n::: ganloss_" in section, f"{record['name']}: no mkdocstrings directive"
        link = f"(catalogue/{record['distribution']}.md#{record['name']})"
        assert link in table, f"{record['name']} is missing from the table of all losses"


def test_catalogue_shows_inputs_hyperparameters_and_formula(docs_hook: ModuleType) -> None:
    page = docs_hook.generated_pages()["catalogue/ganloss-regularizers.md"]
    section = page.split("## `GradientPenaltyLoss`", 1)[1].split("\n## ", 1)[0]
    assert "`discriminator`, `real_data`, `fake_data`; optional `mask`" in section
    assert "`norm_mode='pixel'`" in section
    assert "::: ganloss_regularizers.gradient_penalty.GradientPenaltyLoss" in section


def test_cli_reference_lists_every_command(docs_hook: ModuleType) -> None:
    rendered, warnings = render(docs_hook, "cli.md")
    assert not warnings, warnings
    for name in docs_hook.cli_commands():
        assert f"### `ganloss {name}`" in rendered, f"ganloss {name} is not documented"


def test_rest_math_becomes_arithmatex_and_then_mathml(docs_hook: ModuleType) -> None:
    pytest.importorskip("latex2mathml")
    griffe_ext = load_module("docs_hooks/griffe_ganloss.py")
    doc = "Summary.\n\n.. math::\n    L = \\mathbb{E} x^2\n\nwith :math:`x \\ge 0`."
    assert griffe_ext.rest_to_markdown(doc) == (
        "Summary.\n\n$$\nL = \\mathbb{E} x^2\n$$\n\nwith $x \\ge 0$."
    )
    # what pymdownx.arithmatex (generic) makes of it, escaped as in the page
    html = (
        '<div class="arithmatex">\\[L = \\mathbb{E} x^2\\]</div>'
        '<p>with <span class="arithmatex">\\(x \\ge 0\\)</span></p>'
    )
    warnings: list[str] = []
    out = docs_hook.math_to_mathml(html, warn=lambda msg, *args: warnings.append(msg % args))
    assert not warnings
    assert out.count("<math") == 2 and 'display="block"' in out
    assert "\\mathbb" not in out and "arithmatex" not in out
    assert "<mi>&#x1D53C;</mi>" in out  # \\mathbb{E}: the character U+1D53C, a blackboard E


def test_simple_table_becomes_markdown() -> None:
    pytest.importorskip("griffe")
    griffe_ext = load_module("docs_hooks/griffe_ganloss.py")
    doc = (
        "Each term:\n\n====  =====\nkind  value\n====  =====\n``a``  one\nb     two\n====  =====\n"
    )
    assert "| kind | value |\n|---|---|\n| ``a`` | one |\n| b | two |" in (
        griffe_ext.rest_to_markdown(doc)
    )


def test_plugin_page_shows_every_file_the_scaffold_writes(tmp_path: Path) -> None:
    from ganlosscore.scaffold import write_plugin

    page = (DOCS / "plugin-authoring.md").read_text(encoding="utf-8")
    target = write_plugin("ganloss-mylosses", tmp_path)
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        assert path.name in page, f"the scaffold writes {path.relative_to(target)}; show it"


def nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in nav_pages(value)]
    return []


def test_every_page_is_in_the_nav(docs_hook: ModuleType) -> None:
    """Every page of docs/ and every generated page but the catalogue's (the hook adds those)."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    generated = [p for p in docs_hook.generated_pages() if not p.startswith("catalogue/")]
    assert sorted(nav_pages(config["nav"])) == sorted([p.name for p in PAGES] + generated)
    assert not set(generated) & {p.name for p in PAGES}, "a generated page is also committed"


# -- the built site ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with ``mkdocs build --strict`` (as CI does)."""
    pytest.importorskip("mkdocs")
    site_dir = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


def test_strict_build(site: Path) -> None:
    for page in [*PAGES, Path("api.md")]:
        assert (site / page.with_suffix(".html").name).is_file(), page.name
    assert sorted(p.name for p in (site / "catalogue").glob("*.html")), "no catalogue page"


def formulas(docstring: str) -> int:
    """How many formulas (``.. math::`` blocks and ``:math:`` roles) a docstring has."""
    return len(re.findall(r"^\s*\.\. math::\s*$", docstring, re.M)) + len(
        re.findall(r":math:`", docstring)
    )


RAW_LATEX = re.compile(r"\\(?:[A-Za-z]{2,}|[\[\]()])")


def visible_text(html: str) -> str:
    """The page's text outside MathML, code and scripts."""
    for element in ("math", "code", "pre", "script", "style"):
        html = re.sub(rf"<{element}\b.*?</{element}>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", "", html)


def test_every_catalogue_formula_is_mathml(site: Path) -> None:
    from ganlosscore import available_losses
    from ganlosscore.registry import get_loss_class

    expected: dict[str, int] = {}
    modules: dict[str, set[str]] = {}
    for record in available_losses():
        cls = get_loss_class(record.qualified_name)
        expected[record.distribution] = expected.get(record.distribution, 0) + formulas(
            inspect.getdoc(cls) or ""
        )
        if "module docstring" in (cls.__doc__ or ""):
            modules.setdefault(record.distribution, set()).add(cls.__module__)
    for dist, names in modules.items():
        for name in names:
            expected[dist] += formulas(inspect.getdoc(sys.modules[name]) or "")
    assert sum(expected.values()) >= 21, expected  # the issue counted 21 formula blocks
    for dist, count in expected.items():
        html = (site / "catalogue" / f"{dist}.html").read_text(encoding="utf-8")
        assert html.count("<math") >= count, f"{dist}: {html.count('<math')} of {count} formulas"
        assert 'class="arithmatex"' not in html, f"{dist}: a formula was left unconverted"
        raw = RAW_LATEX.findall(visible_text(html))
        assert not raw, f"{dist}: raw LaTeX shows on the page: {raw[:5]}"
        assert ".. math::" not in html and ":math:`" not in html


def test_site_reads_from_disk_with_nothing_from_a_cdn(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', html)
        remote = [tag for tag in remote if 'rel="canonical"' not in tag]
        assert not remote, f"{page.relative_to(site)} loads from the network: {remote}"
        # from file://, a link to a directory shows a listing: every link names its page
        for link in re.findall(r'href="([^"#:]+)"', html):
            assert not link.endswith("/"), f"{page.relative_to(site)} links to directory {link}"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "iframe-worker-shim.js" in index  # lets the search worker run from file://
    assert (site / "search" / "search_index.js").is_file()  # the index, without a fetch
    assert '"hooks.html"' in index or "hooks.html" in index


def test_hooks_page_renders_each_hookspec_with_kind_and_arguments(
    site: Path, docs_hook: ModuleType
) -> None:
    from ganlosscore import hookspecs

    html = (site / "hooks.html").read_text(encoding="utf-8")
    for name in docs_hook.hookspec_names():
        anchor = f'id="ganlosscore.hookspecs.{name}"'
        assert anchor in html, name
        section = html.split(anchor, 1)[1].split('class="doc doc-object doc-function"', 1)[0]
        spec = getattr(hookspecs, name)
        firstresult = getattr(spec, f"{hookspecs.PROJECT}_spec")["firstresult"]
        assert ("firstresult:" if firstresult else "all called:") in visible_text(section)
        for argument in inspect.signature(spec).parameters:
            assert f"<code>{argument}</code>" in section, f"{name}: {argument} not shown"


def test_api_page_documents_every_exported_name_and_fixture(site: Path) -> None:
    import ganlosscore
    from ganlosscore.testing import plugin

    html = (site / "api.html").read_text(encoding="utf-8")
    for name in ganlosscore.__all__:
        obj = getattr(ganlosscore, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert f'id="{obj.__module__}.{name}"' in html, f"{name} is not on the API page"
    fixtures = [n for n in vars(plugin) if n.startswith("ganloss_")]
    assert fixtures
    for name in fixtures:
        assert f'id="ganlosscore.testing.plugin.{name}"' in html, f"fixture {name} is missing"

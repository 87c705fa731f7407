"""The README's examples and the modules' docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import re
import sys
from pathlib import Path

import pytest
from ganloss_toybench import default_config
from ganloss_toybench.config import resolve_settings, split_config
from ganloss_toybench.training import build_losses

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = Path(__file__).parents[1] / "README.md"
EXAMPLES = Path(__file__).parents[1] / "examples"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_default_config_is_the_embedded_one():
    configs = [tomllib.loads(text) for text in blocks("toml")]
    assert default_config() in configs


@pytest.mark.parametrize("text", blocks("toml"), ids=lambda t: t.split("\n")[1][:40])
def test_readme_configs_build(text):
    disc, gen, section = split_config(tomllib.loads(text), "README")
    settings = resolve_settings(section)
    build_losses(disc, gen, conditional=settings.conditional)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_build(path):
    disc, gen, section = split_config(tomllib.loads(path.read_text()), path.name)
    settings = resolve_settings(section)
    build_losses(disc, gen, conditional=settings.conditional)


def test_readme_python_example(capsys):
    (code,) = [block for block in blocks("python") if "run_toybench" in block]
    exec(compile(code, str(README), "exec"), {})
    # run_toybench prints its summary, then the example prints its three numbers
    modes, high_quality, _ = capsys.readouterr().out.splitlines()[-1].split()
    assert 0 <= int(modes) <= 25 and 0.0 <= float(high_quality) <= 1.0


@pytest.mark.parametrize(
    "module",
    ["data", "metrics", "models", "classifier", "figure", "training", "progress", "config"],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ganloss_toybench.{module}"))
    assert result.failed == 0


def test_readme_replot_example(tmp_path, monkeypatch):
    from ganloss_toybench import load_run_config, run_toybench

    (code,) = [block for block in blocks("python") if "replot(" in block]
    monkeypatch.chdir(tmp_path)
    settings, disc, gen, _ = load_run_config(None, {"dataset": "grid", "steps": 5})
    run_toybench(settings, disc, gen, out_dir="toybench-out", progress=False)
    for suffix in (".png", ".pdf"):
        (tmp_path / "toybench-out" / f"grid-seed0{suffix}").unlink()
    exec(compile(code, str(README), "exec"), {})
    assert (tmp_path / "toybench-out" / "grid-seed0.png").exists()
    assert (tmp_path / "toybench-out" / "grid-seed0.pdf").exists()

"""The README's first steps work as written: the Makefile, the install lines, the time claims.

A new user follows the README in a fresh virtual environment that is not
activated (``make run PYTHON=venv/bin/python``), on a machine without a GPU
(the CPU build of PyTorch), and reads how long the main job takes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ganlosscore.scaffold import write_plugin

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"

needs_make = pytest.mark.skipif(
    shutil.which("make") is None or not (ROOT / "Makefile").is_file(),
    reason="needs make and the repository's Makefile",
)


def path_without_the_script() -> str:
    """PATH without any directory that holds a ``ganloss`` script: an unactivated venv."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "ganloss").exists())


@needs_make
def test_make_run_calls_the_command_through_the_interpreter():
    # Without make's own variables: under `make test` they would make this make print
    # "make[1]: Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "PYTHON=/opt/venv/bin/python"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[-1].split() == ["/opt/venv/bin/python", "-m", "ganlosscore", "toybench"]
    assert lines[0].startswith("/opt/venv/bin/python -m pip install")
    assert not any(line.split()[:1] == ["ganloss"] for line in lines)


@pytest.mark.slow
@needs_make
def test_make_run_works_with_a_venv_that_is_not_activated(tmp_path):
    # A real venv over this interpreter's packages: its bin/ is not on PATH, as in
    # `make run PYTHON=venv/bin/python` without `source venv/bin/activate`.
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        timeout=120,
    )
    python = venv / "bin" / "python"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GANLOSS_", "PYTEST_"))
        and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    env["PATH"] = path_without_the_script()
    env.pop("VIRTUAL_ENV", None)
    assert shutil.which("ganloss", path=env["PATH"]) is None

    helped = subprocess.run(
        [str(python), "-m", "ganlosscore", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: ganloss")

    # `-o install`: the packages are installed already (this is what `make run` runs after).
    out = tmp_path / "toybench-out"
    ran = subprocess.run(
        [
            "make",
            "-s",
            "-o",
            "install",
            "run",
            f"PYTHON={python}",
            f"RUN_ARGS=--steps 20 --quiet --out {out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "toybench ring, seed 0, 20 steps" in ran.stdout
    assert (out / "ring-seed0.json").is_file()


# -- install lines --------------------------------------------------------------------

# `pip install ... torch` or `torch==2.13.0`, not `ganloss-toybench` or `pytorch`.
TORCH_INSTALL = re.compile(r"pip install\b.*?(?<![\w.-])torch(?![\w-])", re.S)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)


def install_units(text: str) -> list[str]:
    """Each line of a code block, and each prose paragraph joined onto one line."""
    units = []
    for block in FENCE.findall(text):
        units += block.splitlines()
    prose = FENCE.sub("\n\n", text)
    units += [" ".join(p.split()) for p in re.split(r"\n\s*\n", prose)]
    return units


def doc_files() -> list[Path]:
    return [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted(ROOT.glob("plugins/*/README.md")),
    ]


def torch_lines_without_the_cpu_build(text: str) -> list[str]:
    return [
        unit
        for unit in install_units(text)
        if TORCH_INSTALL.search(unit) and CPU_INDEX not in unit and "CUDA" not in unit
    ]


def test_the_check_tells_the_cpu_build_from_the_default_one():
    text = (
        "```bash\npip install torch==2.13.0\npip install torch --index-url "
        "https://download.pytorch.org/whl/cpu\npip install ganloss-toybench\n```\n\n"
        "Run `pip\ninstall torch` first.\n\nA plain `pip install torch` is the CUDA build.\n"
    )
    assert torch_lines_without_the_cpu_build(text) == [
        "pip install torch==2.13.0",
        "Run `pip install torch` first.",
    ]


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_torch_install_line_names_the_cpu_index_or_the_cuda_build(path):
    # On Linux, PyPI's torch is the multi-GB CUDA build: a CPU-only user needs the index.
    assert torch_lines_without_the_cpu_build(path.read_text(encoding="utf-8")) == []


def test_the_first_steps_install_the_cpu_build():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    authoring = (ROOT / "docs" / "plugin-authoring.md").read_text(encoding="utf-8")
    for text in (readme, quickstart, authoring):
        assert f"pip install torch==2.13.0 {CPU_INDEX}" in text
    # the fresh venv that tests a wheel before publishing
    assert f"/tmp/wheel-env/bin/pip install torch==2.13.0 {CPU_INDEX}" in authoring
    assert "make run PYTHON=venv/bin/python" in readme


def test_the_scaffold_installs_the_cpu_build(tmp_path):
    package = write_plugin("ganloss-toy", tmp_path)
    for relative in ("README.md", ".github/workflows/test.yml"):
        text = (package / relative).read_text(encoding="utf-8")
        assert TORCH_INSTALL.search(text), relative
        assert torch_lines_without_the_cpu_build(text) == [], relative


def test_the_quick_start_installs_from_the_repository_until_published():
    quickstart = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    assert "**Until the packages are published**" in quickstart
    assert "pip install . plugins/ganloss-adversarial plugins/ganloss-regularizers" in quickstart


# -- time claims ----------------------------------------------------------------------

DURATION = re.compile(
    r"\b(?:\d[\d,.]*\s*(?:s|seconds?|min|minutes?|h|hours?)|under a minute|a few minutes)\b"
)


@pytest.mark.parametrize("name", ["README.md", "docs/quickstart.md"])
def test_time_claims_are_measured_on_a_named_machine(name):
    # Every paragraph that says how long something takes says it was measured,
    # how, and on what machine.
    text = FENCE.sub("\n\n", (ROOT / name).read_text(encoding="utf-8"))
    claims = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if DURATION.search(p)]
    assert claims, "the main job's duration is stated"
    for claim in claims:
        assert "Measured with `/usr/bin/time" in claim, claim
        assert "2-core" in claim and "load average" in claim, claim

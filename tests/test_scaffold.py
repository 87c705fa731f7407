"""``ganloss new-plugin``: a complete package that installs and passes its own tests."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import importlib_metadata
import pytest

from ganlosscore import PROTOCOL_VERSION, ConfigError
from ganlosscore.scaffold import core_requirement, plugin_names, write_plugin

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FILES = [
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "src/ganloss_toy/__init__.py",
    "src/ganloss_toy/_version.py",
    "src/ganloss_toy/losses.py",
    "src/ganloss_toy/py.typed",
    "tests/test_losses.py",
]


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_new_plugin_writes_a_complete_package(tmp_path, ganloss_cli):
    result = ganloss_cli("new-plugin", "ganloss-toy", "--dir", str(tmp_path))
    assert result.status == 0, result.err
    package = tmp_path / "ganloss-toy"
    assert result.out.splitlines() == [
        f"Created {package}",
        f"Next: pip install -e '{package}[test]' && python -m pytest {package / 'tests'}",
    ]
    assert os.listdir(tmp_path) == ["ganloss-toy"]  # no staging directory left
    assert tree(package) == FILES
    assert package.stat().st_mode & 0o777 == 0o777 & ~current_umask()

    meta = tomllib.loads((package / "pyproject.toml").read_text())
    project = meta["project"]
    assert project["name"] == "ganloss-toy"
    assert project["dependencies"] == [core_requirement()]
    assert project["entry-points"] == {
        "ganlosscore.losses": {"ToyLoss": "ganloss_toy.losses:ToyLoss"},
        "ganlosscore.protocol": {str(PROTOCOL_VERSION): "ganloss_toy"},
    }
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ganloss_toy._version.__version__"
    }
    for source in package.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")  # no template left unfilled
        assert "{{" not in source.read_text()
    losses = (package / "src/ganloss_toy/losses.py").read_text()
    assert "class ToyLoss(LossModule):" in losses and 'default_loss_name = "loss_toy"' in losses
    tests = (package / "tests/test_losses.py").read_text()
    assert "check_loss(" in tests and "from ganloss_toy import ToyLoss" in tests
    readme = (package / "README.md").read_text()
    assert readme.startswith("# ganloss-toy\n") and 'type = "ToyLoss"' in readme


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_generated_code_is_lint_clean_and_formatted(tmp_path):
    # With ruff's defaults (not this repository's settings): what its author will run.
    package = write_plugin("ganloss-toy", tmp_path)
    run = lambda *args: subprocess.run(  # noqa: E731
        ["ruff", *args, "--isolated", "."], cwd=package, capture_output=True, text=True
    )
    lint = run("check", "--select", "E,F,W,I,B,UP")
    assert lint.returncode == 0, lint.stdout
    formatted = run("format", "--check")
    assert formatted.returncode == 0, formatted.stdout


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_core_requirement_is_this_minor_series():
    import ganlosscore

    major, minor = ganlosscore.__version__.split(".")[:2]
    upper = f"{major}.{int(minor) + 1}" if major == "0" else f"{int(major) + 1}"
    assert core_requirement() == f"ganlosscore>={major}.{minor},<{upper}"


@pytest.mark.parametrize(
    ("name", "package", "cls", "loss_name"),
    [
        ("ganloss-toy", "ganloss_toy", "ToyLoss", "loss_toy"),
        ("ganloss-my-losses", "ganloss_my_losses", "MyLossesLoss", "loss_my_losses"),
        ("Ganloss_Fancy", "ganloss_fancy", "FancyLoss", "loss_fancy"),
        ("my-gan-losses", "my_gan_losses", "MyGanLossesLoss", "loss_my_gan_losses"),
        ("ganloss-3d", "ganloss_3d", "Ganloss3dLoss", "loss_3d"),  # a class starts with a letter
    ],
)
def test_names_derived_from_the_distribution_name(name, package, cls, loss_name):
    assert plugin_names(name) == {
        "name": name,
        "package": package,
        "cls": cls,
        "loss_name": loss_name,
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("3losses", "is not a valid distribution name"),
        ("ganloss--toy", "is not a valid distribution name"),
        ("ganloss toy", "is not a valid distribution name"),
        ("ganloss-toy-", "is not a valid distribution name"),
        ("../escape", "is not a valid distribution name"),
        ("import", "would make a package named 'import'"),
        ("json", "would make a package named 'json'"),
        ("ganlosscore", "would make a package named 'ganlosscore'"),
    ],
)
def test_a_bad_name_is_a_config_error_and_writes_nothing(tmp_path, name, message, ganloss_cli):
    result = ganloss_cli("new-plugin", name, "--dir", str(tmp_path))
    assert result.status == 1 and result.out == ""
    (line,) = result.err.splitlines()
    assert line.startswith("ganloss: error: new-plugin: ") and message in line
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match=message):
        write_plugin(name, tmp_path)


def test_an_existing_directory_is_left_alone(tmp_path, ganloss_cli):
    existing = tmp_path / "ganloss-toy"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")
    result = ganloss_cli("new-plugin", "ganloss-toy", "--dir", str(tmp_path))
    assert result.status == 1
    assert f"{existing} already exists" in result.err
    assert tree(tmp_path) == ["ganloss-toy/mine.txt"]
    assert (existing / "mine.txt").read_text() == "keep me"


def test_a_missing_or_non_directory_parent_is_a_config_error(tmp_path, ganloss_cli):
    result = ganloss_cli("new-plugin", "ganloss-toy", "--dir", str(tmp_path / "nowhere"))
    assert result.status == 1
    assert f"the parent {tmp_path / 'nowhere'} does not exist" in result.err
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    result = ganloss_cli("new-plugin", "ganloss-toy", "--dir", str(tmp_path / "file"))
    assert result.status == 1
    assert f"the parent {tmp_path / 'file'} is not a directory" in result.err
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    # A full disk halfway through: the package is written in a staging directory
    # and only renamed into place once complete.
    written = []
    real_write_text = Path.write_text

    def write_text(self, *args, **kwargs):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(ConfigError, match="No space left on device"):
        write_plugin("ganloss-toy", tmp_path)
    assert len(written) == 3
    assert list(tmp_path.iterdir()) == []


def test_a_loss_name_another_distribution_offers_is_refused(ganloss_distribution, tmp_path):
    ganloss_distribution(
        "ganloss-other",
        losses={"ToyLoss": "other_pkg:ToyLoss"},
        modules={"other_pkg/__init__.py": ""},
    )
    with pytest.raises(ConfigError, match="'ToyLoss', a loss type ganloss-other already offers"):
        write_plugin("ganloss-toy", tmp_path)
    assert not (tmp_path / "ganloss-toy").exists()
    # The same distribution regenerating its own package is fine.
    ganloss_distribution(
        "ganloss-mine",
        losses={"MineLoss": "mine_pkg:MineLoss"},
        modules={"mine_pkg/__init__.py": ""},
    )
    assert write_plugin("ganloss-mine", tmp_path).name == "ganloss-mine"


# -- end to end: generate, pip install, list, build, run its tests ----------------------


E2E_SCRIPT = """
import json, sys
from ganlosscore import available_losses, build_aggregator, load_config
from ganlosscore.cli import main

records = {r.name: r for r in available_losses()}
toy = records["ToyLoss"]
assert main(["check", sys.argv[1]]) == 0
config = load_config(sys.argv[1])
aggregator = build_aggregator(config["disc"], name="disc")
import torch
result = aggregator({"disc_pred_real": torch.tensor([1.0, 3.0])})
print(json.dumps({
    "record": [toy.distribution, toy.version, toy.status, toy.target],
    "total": result.total.item(),
    "log_vars": result.log_vars,
}))
"""


def can_build_offline() -> bool:
    """Without build isolation pip needs setuptools with bdist_wheel (>= 70.1, or wheel)."""
    try:
        version = importlib_metadata.version("setuptools")
    except importlib_metadata.PackageNotFoundError:
        return False
    major_minor = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return major_minor >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.slow
@pytest.mark.skipif(not can_build_offline(), reason="no setuptools that builds wheels offline")
def test_a_generated_plugin_installs_lists_builds_and_passes_its_tests(tmp_path):
    package = write_plugin("ganloss-toy", tmp_path)
    site = tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GANLOSS_", "PYTEST_"))}
    env["PYTHONPATH"] = str(site)

    def run(*cmd, **kwargs):
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, **kwargs)

    installed = run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-build-isolation",
        "--no-deps",
        "--no-index",
        "--target",
        str(site),
        str(package),
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (site / "ganloss_toy" / "losses.py").is_file()

    listed = run(
        sys.executable, "-c", "from ganlosscore.cli import main; raise SystemExit(main(['list']))"
    )
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines() if line.startswith("ToyLoss ")]
    assert rows == [["ToyLoss", "ganloss-toy", "0.1.0", "ok"]]

    config = tmp_path / "gan.toml"
    config.write_text(
        textwrap.dedent(
            """
            [[disc]]
            type = "ToyLoss"
            target = 1.0
            loss_weight = 0.5
            data_info = { pred = "disc_pred_real" }
            """
        )
    )
    script = tmp_path / "e2e.py"
    script.write_text(E2E_SCRIPT)
    built = run(sys.executable, str(script), str(config))
    assert built.returncode == 0, built.stdout + built.stderr
    outcome = json.loads(built.stdout.splitlines()[-1])
    assert outcome["record"] == ["ganloss-toy", "0.1.0", "ok", "ganloss_toy.losses:ToyLoss"]
    # pred = [1, 3], target 1: mean((0)**2, (2)**2) = 2; loss_weight 0.5 -> 1
    assert outcome["total"] == 1.0
    assert outcome["log_vars"] == {"loss_toy": 1.0, "loss": 1.0}

    tested = run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=package
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout

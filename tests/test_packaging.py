"""Every package is released as users get it: metadata, versions, ranges, the protocol."""

import importlib
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import importlib_metadata
import pytest
from packaging.requirements import Requirement

import ganlosscore
from ganlosscore import PROTOCOL_VERSION, available_losses

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(
    p for p in (ROOT / "plugins").glob("ganloss-*") if (p / "pyproject.toml").is_file()
)


def pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


def test_core_version_is_single_sourced():
    meta = pyproject(ROOT)
    assert meta["project"]["dynamic"] == ["version"]
    assert (
        meta["tool"]["setuptools"]["dynamic"]["version"]["attr"]
        == "ganlosscore._version.__version__"
    )
    assert importlib_metadata.version("ganlosscore") == ganlosscore.__version__


@pytest.mark.skipif(not os.environ.get("GANLOSS_EXPECT_INSTALLED"), reason="wheel runs only")
def test_the_suite_runs_against_installed_wheels_not_the_source_tree():
    modules = [ganlosscore] + [
        importlib.import_module(pyproject(p)["project"]["name"].replace("-", "_")) for p in PLUGINS
    ]
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    for module in modules:
        location = Path(module.__file__).resolve()
        assert site_packages in location.parents, f"{module.__name__} imported from {location}"
    for dist in importlib_metadata.distributions():
        direct_url = dist.read_text("direct_url.json") or ""
        assert '"editable": true' not in direct_url, (
            f"{dist.metadata['Name']} is an editable install"
        )


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_plugin_release_metadata(plugin):
    meta = pyproject(plugin)
    project = meta["project"]
    name = project["name"]
    assert name == plugin.name and name.startswith("ganloss-")
    # one place for the version: the package's _version module
    assert project["dynamic"] == ["version"]
    module_name, _, attr = meta["tool"]["setuptools"]["dynamic"]["version"]["attr"].rpartition(".")
    installed = importlib_metadata.version(name)
    assert getattr(importlib.import_module(module_name), attr) == installed
    # a bounded range of the core that includes this core
    core = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "ganlosscore"]
    assert len(core) == 1, f"{name} must depend on ganlosscore"
    assert any(spec.operator == "<" for spec in core[0].specifier), f"{name}: no upper bound"
    assert core[0].specifier.contains(ganlosscore.__version__)
    # the installed metadata carries the same range and the protocol declaration
    dist = importlib_metadata.distribution(name)
    assert any(Requirement(r).name == "ganlosscore" for r in dist.requires or [])
    protocol = dist.entry_points.select(group="ganlosscore.protocol")
    assert [ep.name for ep in protocol] == [str(PROTOCOL_VERSION)], f"{name}: declare the protocol"
    # every loss it offers is listed and loads
    offered = {ep.name for ep in dist.entry_points.select(group="ganlosscore.losses")}
    records = {r.name: r for r in available_losses() if r.distribution == name}
    assert set(records) == offered
    assert all(r.status == "ok" for r in records.values()), records


LEFT_OUT = """
from ganlosscore import LossModule


class LeftOutLoss(LossModule):
    default_loss_name = "loss_left_out"

    def compute(self, pred):
        return pred.mean()
"""


@pytest.mark.slow
def test_a_module_left_out_of_a_wheel_fails_the_installed_check(tmp_path):
    """The check CI runs on the installed wheels (`ganloss list --check`) can fail."""
    pytest.importorskip("build")
    from ganlosscore.scaffold import write_plugin

    package = write_plugin("ganloss-leaky", tmp_path)
    extra = package / "src" / "ganloss_leaky" / "extra"
    extra.mkdir()
    (extra / "__init__.py").write_text(textwrap.dedent(LEFT_OUT))
    config = (package / "pyproject.toml").read_text()
    section = '[project.entry-points."ganlosscore.losses"]\n'
    config = config.replace(section, section + 'LeftOutLoss = "ganloss_leaky.extra:LeftOutLoss"\n')
    config = config.replace('where = ["src"]', 'where = ["src"]\nexclude = ["ganloss_leaky.extra"]')
    (package / "pyproject.toml").write_text(config)

    run = lambda *cmd, **kw: subprocess.run(cmd, capture_output=True, text=True, **kw)  # noqa: E731
    built = run(
        sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(package)
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    site = tmp_path / "site"
    installed = run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--target",
        str(site),
        str(wheel),
    )
    assert installed.returncode == 0, installed.stderr

    env = {**os.environ, "PYTHONPATH": str(site)}
    check = run(
        sys.executable,
        "-c",
        "from ganlosscore.cli import main; raise SystemExit(main(['list', '--check']))",
        env=env,
    )
    assert check.returncode == 1, check.stdout + check.stderr
    lines = {line.split()[0]: line for line in check.stdout.splitlines() if line.strip()}
    assert (
        "broken" in lines["LeftOutLoss"]
        and "No module named 'ganloss_leaky.extra'" in lines["LeftOutLoss"]
    )
    assert " ok" in lines["LeakyLoss"]  # the module that was packaged still loads


@pytest.mark.slow
def test_a_scaffolded_plugin_releases_like_ours(tmp_path):
    """`ganloss new-plugin` output builds an sdist and a wheel that pass twine's strict check."""
    pytest.importorskip("build")
    pytest.importorskip("twine")
    import zipfile

    from ganlosscore.scaffold import core_requirement, write_plugin

    package = write_plugin("ganloss-shipped", tmp_path)
    dist = tmp_path / "dist"
    run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True)  # noqa: E731
    built = run(
        sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(package)
    )
    assert built.returncode == 0, built.stderr
    checked = run(sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir()))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "ganloss_shipped/losses.py" in names and "ganloss_shipped/py.typed" in names
    assert "Version: 0.1.0" in metadata.splitlines()  # from _version.py, the one place
    requires = [
        Requirement(line.split(": ", 1)[1])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    (core,) = [r for r in requires if r.name == "ganlosscore"]
    assert str(core.specifier) == str(Requirement(core_requirement()).specifier)
    assert core.specifier.contains(ganlosscore.__version__)
    assert "[ganlosscore.protocol]" in entry_points
    assert f"{PROTOCOL_VERSION} = ganloss_shipped" in entry_points

"""``ganloss new-plugin``: a complete package that installs and passes its own tests."""

import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import importlib_metadata
import pytest

from ganlosscore import PROTOCOL_VERSION, ConfigError
from ganlosscore.scaffold import (
    AUTHOR_PLACEHOLDER,
    LICENSES,
    PluginNameWarning,
    core_requirement,
    plugin_names,
    write_plugin,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FILES = [
    ".github/workflows/test.yml",
    ".gitignore",
    "LICENSE",
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
    ("name", "package", "cls", "loss_name", "stem"),
    [
        ("ganloss-toy", "ganloss_toy", "ToyLoss", "loss_toy", "toy"),
        ("ganloss-my-losses", "ganloss_my_losses", "MyLossesLoss", "loss_my_losses", "my_losses"),
        ("Ganloss_Fancy", "ganloss_fancy", "FancyLoss", "loss_fancy", "fancy"),
        ("ganloss.dots", "ganloss_dots", "DotsLoss", "loss_dots", "dots"),
        (
            "my-gan-losses",
            "my_gan_losses",
            "MyGanLossesLoss",
            "loss_my_gan_losses",
            "my_gan_losses",
        ),
        # a class name and an import package cannot start with a digit
        ("ganloss-3d", "ganloss_3d", "Ganloss3dLoss", "loss_3d", "3d"),
        ("ganloss-2d-3d", "ganloss_2d_3d", "Ganloss2d3dLoss", "loss_2d_3d", "2d_3d"),
    ],
)
def test_names_derived_from_the_distribution_name(name, package, cls, loss_name, stem):
    names = plugin_names(name)
    assert names == {
        "name": name,
        "package": package,
        "cls": cls,
        "loss_name": loss_name,
        "stem": stem,
    }
    assert names["package"].isidentifier() and names["cls"].isidentifier()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("3losses", "is not a valid distribution name"),
        ("2d", "must not start with a digit"),
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
    # A hooks-only package has no example loss, so the name is free for it.
    assert write_plugin("ganloss-toy", tmp_path, hooks_only=True).name == "ganloss-toy"


def test_an_installed_distribution_name_is_refused(ganloss_distribution, tmp_path, ganloss_cli):
    # Its editable install would replace the installed package (files and entry points).
    ganloss_distribution(
        "ganloss-other",
        losses={"OtherLoss": "other_pkg:OtherLoss"},
        modules={"other_pkg/__init__.py": ""},
    )
    out = tmp_path / "out"
    out.mkdir()
    for spelling in ("ganloss-other", "Ganloss_Other", "ganloss.other"):
        with pytest.raises(ConfigError, match="is an installed distribution") as raised:
            write_plugin(spelling, out, hooks_only=spelling == "ganloss.other")
        assert "pip uninstall ganloss-other" in str(raised.value)
        assert f"e.g. {spelling}-extra" in str(raised.value)
    result = ganloss_cli("new-plugin", "ganloss-other", "--dir", str(out))
    assert result.status == 1 and result.out == ""
    assert result.err.startswith(
        "ganloss: error: new-plugin: ganloss-other is an installed distribution (ganloss-other "
    )
    assert list(out.iterdir()) == []


def test_the_real_regularizers_package_is_not_replaced(tmp_path):
    # The report's case: `ganloss new-plugin ganloss-regularizers` used to succeed.
    try:
        importlib_metadata.distribution("ganloss-regularizers")
    except importlib_metadata.PackageNotFoundError:
        pytest.skip("ganloss-regularizers is not installed")
    with pytest.raises(ConfigError, match="ganloss-regularizers is an installed distribution"):
        write_plugin("ganloss-regularizers", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_importable_module_of_the_package_name_is_refused(tmp_path, monkeypatch):
    # No distribution, but `import ganloss_shadow` already finds something.
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "ganloss_shadow.py").write_text("")
    monkeypatch.syspath_prepend(str(modules))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ConfigError, match="ganloss_shadow.py is already importable"):
        write_plugin("ganloss-shadow", out)
    assert list(out.iterdir()) == []


def test_a_name_without_the_prefix_warns(tmp_path, ganloss_cli):
    with pytest.warns(PluginNameWarning, match="my-gan-losses does not start with 'ganloss-'"):
        write_plugin("my-gan-losses", tmp_path)
    result = ganloss_cli("new-plugin", "other-losses", "--dir", str(tmp_path))
    assert result.status == 0
    assert result.err.splitlines() == [
        "ganloss: warning: other-losses does not start with 'ganloss-': the ecosystem's "
        "packages are called ganloss-<topic> so that users find them; consider "
        "ganloss-other-losses"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the prefix: no warning
        write_plugin("ganloss-toy", tmp_path)


def test_a_name_with_a_digit_makes_a_valid_package_and_class(tmp_path):
    package = write_plugin("ganloss-2d", tmp_path)
    losses = (package / "src/ganloss_2d/losses.py").read_text()
    assert "class Ganloss2dLoss(LossModule):" in losses
    assert 'default_loss_name = "loss_2d"' in losses
    compile(losses, "losses.py", "exec")
    meta = tomllib.loads((package / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["ganlosscore.losses"] == {
        "Ganloss2dLoss": "ganloss_2d.losses:Ganloss2dLoss"
    }


HOOKS_FILES = [
    ".github/workflows/test.yml",
    ".gitignore",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "src/ganloss_toylog/__init__.py",
    "src/ganloss_toylog/_version.py",
    "src/ganloss_toylog/hooks.py",
    "src/ganloss_toylog/py.typed",
    "tests/test_hooks.py",
]


def test_hooks_only_writes_a_hook_package_without_a_loss(tmp_path, ganloss_cli):
    result = ganloss_cli("new-plugin", "ganloss-toylog", "--hooks-only", "--dir", str(tmp_path))
    assert result.status == 0, result.err
    package = tmp_path / "ganloss-toylog"
    assert tree(package) == HOOKS_FILES
    meta = tomllib.loads((package / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"] == {
        "ganlosscore.hooks": {"toylog": "ganloss_toylog.hooks"},
        "ganlosscore.protocol": {str(PROTOCOL_VERSION): "ganloss_toylog"},
    }
    hooks = (package / "src/ganloss_toylog/hooks.py").read_text()
    assert "@hookimpl\ndef ganloss_after_aggregate(" in hooks
    tests = (package / "tests/test_hooks.py").read_text()
    assert "from ganloss_toylog import hooks" in tests
    readme = (package / "README.md").read_text()
    assert "GANLOSS_DISABLE_PLUGINS=ganloss-toylog" in readme and "LossModule" not in readme
    for source in package.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")
        assert "{{" not in source.read_text()


def test_the_hook_module_imports_no_torch(tmp_path):
    # `ganloss plugins` imports hook modules; its annotations must not import torch.
    package = write_plugin("ganloss-toylog", tmp_path, hooks_only=True)
    code = (
        "import sys; import ganloss_toylog.hooks as h; "
        "assert callable(h.ganloss_after_aggregate); print('torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(package / "src")}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "False"


def test_license_default_mit_with_the_author_placeholder(tmp_path):
    package = write_plugin("ganloss-toy", tmp_path)
    license_text = (package / "LICENSE").read_text()
    year = datetime.date.today().year
    assert license_text.startswith(f"MIT License\n\nCopyright (c) {year} {AUTHOR_PLACEHOLDER}\n")
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": AUTHOR_PLACEHOLDER}]


@pytest.mark.parametrize(
    ("spdx", "first_line"),
    [("Apache-2.0", "Apache License"), ("BSD-3-Clause", "BSD 3-Clause License")],
)
def test_license_and_author_chosen(tmp_path, ganloss_cli, spdx, first_line):
    author = 'Ada "AL" Lovelace {{year}}'  # quoted in TOML; not read as a template
    result = ganloss_cli(
        "new-plugin", "ganloss-toy", "--license", spdx, "--author", author, "--dir", str(tmp_path)
    )
    assert result.status == 0, result.err
    package = tmp_path / "ganloss-toy"
    license_text = (package / "LICENSE").read_text()
    assert license_text.lstrip().startswith(first_line)
    assert license_text == LICENSES[spdx].replace(
        "{{year}}", str(datetime.date.today().year)
    ).replace("{{author}}", author)
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["license"] == spdx and project["authors"] == [{"name": author}]


def test_a_bad_license_or_author_is_a_config_error(tmp_path, ganloss_cli):
    with pytest.raises(
        ConfigError, match=r"unknown licence 'mit'; choose one of MIT, .* Did you mean 'MIT'\?"
    ):
        write_plugin("ganloss-toy", tmp_path, license="mit")
    with pytest.raises(ConfigError, match="the author must be a name on one line"):
        write_plugin("ganloss-toy", tmp_path, author="Ada\nLovelace")
    assert list(tmp_path.iterdir()) == []
    result = ganloss_cli("new-plugin", "ganloss-toy", "--license", "GPL", "--dir", str(tmp_path))
    assert result.status == 2 and "invalid choice: 'GPL'" in result.err


def test_the_test_extra_builds_and_checks_distributions(tmp_path):
    # The README's `python -m build` and `twine check` need these: they come with [test].
    for hooks_only, name in ((False, "ganloss-toy"), (True, "ganloss-toylog")):
        package = write_plugin(name, tmp_path, hooks_only=hooks_only)
        meta = tomllib.loads((package / "pyproject.toml").read_text())
        test_extra = meta["project"]["optional-dependencies"]["test"]
        assert {req.split(">")[0] for req in test_extra} == {"pytest", "build", "twine"}
        assert meta["build-system"]["requires"] == ["setuptools>=77"]  # SPDX license
        readme = (package / "README.md").read_text()
        assert "python -m build\npython -m twine check --strict dist/*" in readme


def test_the_ci_workflow_installs_cpu_torch_the_test_extra_and_runs_pytest(tmp_path):
    yaml = pytest.importorskip("yaml")
    package = write_plugin("ganloss-toy", tmp_path)
    workflow = yaml.safe_load((package / ".github/workflows/test.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == [
        "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu",
        "python -m pip install -e '.[test]'",
        "python -m pytest",
        "python -m build && python -m twine check --strict dist/*",
    ]
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python"]
    # GitHub's expression syntax survives the template filling.
    assert job["steps"][1]["with"]["python-version"] == "${{ matrix.python-version }}"


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
from ganlosscore import get_plugin_manager
import ganloss_toylog.hooks
assert ganloss_toylog.hooks in get_plugin_manager().get_plugins()  # the hooks-only package
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
    # Both variants, installed with one pip run and tested with one pytest run (it is slow).
    package = write_plugin("ganloss-toy", tmp_path)
    hooks_package = write_plugin("ganloss-toylog", tmp_path, hooks_only=True)
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
        str(hooks_package),
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
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(package / "tests"),
        str(hooks_package / "tests"),
        cwd=tmp_path,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "6 passed" in tested.stdout  # 4 of the loss package, 2 of the hooks package

    # The README's Publish steps, with the tools the test extra brings.
    if importlib.util.find_spec("build") and importlib.util.find_spec("twine"):
        dist = tmp_path / "dist"
        built = run(
            sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(package)
        )
        assert built.returncode == 0, built.stdout + built.stderr
        wheels = sorted(p.name for p in dist.iterdir())
        assert wheels == ["ganloss_toy-0.1.0-py3-none-any.whl", "ganloss_toy-0.1.0.tar.gz"]
        checked = run(sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir()))
        assert checked.returncode == 0, checked.stdout + checked.stderr

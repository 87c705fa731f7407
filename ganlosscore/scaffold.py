"""``ganloss new-plugin``: write a complete package that installs and passes its tests.

The generated package follows the rules the bundled plugins follow: PEP 621
metadata, a single-sourced version, the supported core range, the protocol
declaration, entry points, a licence, a CI workflow, and tests that use the
conformance kit. Two variants: a loss package (one example loss, the
default) and a hooks-only package (``hooks_only=True``: one hook
implementation and its ``ganlosscore.hooks`` entry point, no loss).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import keyword
import re
import shutil
import sys
import uuid
import warnings
from pathlib import Path

import importlib_metadata

from ._licenses import LICENSES
from ._version import PROTOCOL_VERSION, __version__
from .errors import ConfigError, brief, did_you_mean

__all__ = [
    "AUTHOR_PLACEHOLDER",
    "LICENSES",
    "PluginNameWarning",
    "core_requirement",
    "plugin_names",
    "write_plugin",
]

# Letters and digits in parts joined by single "-", "_" or ".", starting with a letter:
# every such name is a valid distribution name and makes a valid import package.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*$")
_PREFIX = "ganloss_"

#: What LICENSE and ``pyproject.toml`` name as the author until ``author=`` is given.
AUTHOR_PLACEHOLDER = "YOUR NAME"

#: The torch install line of the generated README and CI workflow: the CPU build.
TORCH_CPU = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


class PluginNameWarning(UserWarning):
    """A name ``ganloss new-plugin`` accepts, but users would not find as easily."""


def core_requirement() -> str:
    """The core range a new plugin supports: this minor series (``>=0.1,<0.2``)."""
    major, minor = (int(x) for x in __version__.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"ganlosscore>={major}.{minor},<{upper}"


def plugin_names(name: str) -> dict[str, str]:
    """The names a package called ``name`` gets: import package, loss class, loss name.

    ``ganloss-my-losses`` gives the package ``ganloss_my_losses``, the class
    ``MyLossesLoss`` and the loss name ``loss_my_losses``; ``ganloss-2d``
    gives ``ganloss_2d``, ``Ganloss2dLoss`` (a class name cannot start with
    a digit) and ``loss_2d``. ``stem`` is the part after ``ganloss_``, the
    name of a hooks-only package's entry point. Raises :class:`ConfigError`
    for a name that cannot become an importable package.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        hint = ""
        if isinstance(name, str) and name[:1].isdigit():
            hint = f" (its import package must not start with a digit), e.g. ganloss-{name}"
        else:
            hint = ", e.g. ganloss-mylosses"
        raise ConfigError(
            f"{brief(name)} is not a valid distribution name; use letters, digits and single "
            f"dashes, starting with a letter{hint}",
            where="new-plugin",
        )
    package = re.sub(r"[-_.]", "_", name.lower())
    if keyword.iskeyword(package) or package in _TAKEN or package in sys.stdlib_module_names:
        raise ConfigError(
            f"{brief(name)} would make a package named {brief(package)}, which would shadow or "
            "clash with an existing module; choose another name, e.g. ganloss-mylosses",
            where="new-plugin",
        )
    stem = package.removeprefix(_PREFIX) or package
    cls = "".join(part.capitalize() for part in stem.split("_")) + "Loss"
    if not cls[0].isalpha():  # ganloss-2d: a class name cannot start with a digit
        cls = "".join(part.capitalize() for part in package.split("_")) + "Loss"
    assert package.isidentifier() and cls.isidentifier(), (package, cls)
    return {"name": name, "package": package, "cls": cls, "loss_name": f"loss_{stem}", "stem": stem}


# Packages a plugin must not be called: the core itself and its dependencies.
_TAKEN = frozenset(
    {"ganlosscore", "torch", "pluggy", "attrs", "importlib_metadata", "pytest", "setuptools"}
)


def write_plugin(
    name: str,
    parent: Path,
    *,
    hooks_only: bool = False,
    license: str = "MIT",
    author: str | None = None,
) -> Path:
    """Write the package ``parent/name`` and return its path.

    ``hooks_only`` writes a package with a hook implementation and its
    ``ganlosscore.hooks`` entry point instead of a loss. ``license`` is an
    SPDX identifier among :data:`LICENSES`; ``author`` goes into LICENSE and
    ``pyproject.toml`` (default :data:`AUTHOR_PLACEHOLDER`, to replace before
    publishing). A name that is an installed distribution is refused: the new
    package's editable install would replace it. A name without the
    ``ganloss-`` prefix gives a :class:`PluginNameWarning`.

    The package is written to a temporary directory first and moved into
    place at the end, so a failure leaves nothing half-written.
    """
    names = plugin_names(name)
    if license not in LICENSES:
        by_case = {spdx.lower(): spdx for spdx in LICENSES}.get(str(license).lower())
        hint = f" Did you mean {by_case!r}?" if by_case else did_you_mean(str(license), LICENSES)
        raise ConfigError(
            f"unknown licence {brief(license)}; choose one of {', '.join(LICENSES)}.{hint}",
            where="new-plugin --license",
        )
    author = AUTHOR_PLACEHOLDER if author is None else author
    if not isinstance(author, str) or not author.strip() or not author.isprintable():
        raise ConfigError(
            f"the author must be a name on one line, got {brief(author)}",
            where="new-plugin --author",
        )
    values = {
        **names,
        "core": core_requirement(),
        "protocol": str(PROTOCOL_VERSION),
        "license": license,
        "author": author.strip(),
        "author_toml": json.dumps(author.strip(), ensure_ascii=False),  # a TOML basic string
        "year": str(datetime.date.today().year),
        "torch_cpu": TORCH_CPU,
    }
    package = values["package"]
    _refuse_installed(name, package)
    if not hooks_only:
        _refuse_taken_loss_name(values["cls"], name)
    if not package.startswith(_PREFIX):
        warnings.warn(
            f"{name} does not start with 'ganloss-': the ecosystem's packages are called "
            f"ganloss-<topic> so that users find them; consider ganloss-{name}",
            PluginNameWarning,
            stacklevel=2,
        )
    target = parent / name
    if target.exists():
        raise ConfigError(
            f"{target} already exists; choose another name, another --dir, or remove it",
            where="new-plugin",
        )
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise ConfigError(
            f"the parent {parent} {problem}; create the directory first or pass another --dir",
            where="new-plugin",
        )
    files = {
        "pyproject.toml": _HOOKS_PYPROJECT if hooks_only else _PYPROJECT,
        "README.md": _HOOKS_README if hooks_only else _README,
        "LICENSE": LICENSES[license],
        ".gitignore": _GITIGNORE,
        ".github/workflows/test.yml": _WORKFLOW,
        f"src/{package}/__init__.py": _HOOKS_INIT if hooks_only else _INIT,
        f"src/{package}/_version.py": '__version__ = "0.1.0"\n',
        f"src/{package}/py.typed": "",
    }
    if hooks_only:
        files[f"src/{package}/hooks.py"] = _HOOKS
        files["tests/test_hooks.py"] = _HOOKS_TESTS
    else:
        files[f"src/{package}/losses.py"] = _LOSSES
        files["tests/test_losses.py"] = _TESTS
    # Not tempfile.mkdtemp: its directories are private (0700); this one honours the umask.
    staging = parent / f".{name}-{uuid.uuid4().hex[:12]}.tmp"
    try:
        staging.mkdir()
    except OSError as exc:
        raise ConfigError(
            f"cannot write into {parent}: {exc.strerror or exc}", where="new-plugin"
        ) from exc
    try:
        for relative, template in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill(template, values), encoding="utf-8")
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(
            f"writing {target} failed: {exc.strerror or exc}", where="new-plugin"
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _refuse_installed(name: str, package: str) -> None:
    """An installed distribution, or an importable package, of the new package's name.

    ``pip install -e`` of the new package would replace the installed one (its
    files, its entry points): ``ganloss new-plugin ganloss-regularizers``
    would quietly take the real regularizers away.
    """
    try:
        dist = importlib_metadata.distribution(name)
    except importlib_metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        version = dist.version or "of unknown version"
        raise ConfigError(
            f"{name} is an installed distribution ({dist.name} {version}); a new package of "
            "that name would replace it when installed. Choose another name, e.g. "
            f"{name}-extra, or uninstall it first (pip uninstall {dist.name})",
            where="new-plugin",
        )
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin not in (None, "namespace"):
        raise ConfigError(
            f"{name} would make the import package {package}, but {spec.origin} is already "
            "importable under that name and one of them would shadow the other; choose "
            "another name",
            where="new-plugin",
        )


def _refuse_taken_loss_name(cls: str, name: str) -> None:
    """The example loss's type must be free, or the new package's tests would meet a conflict."""
    from .registry import available_losses, normalize_dist_name

    for record in available_losses(include_disabled=True):
        if record.name == cls and record.distribution != normalize_dist_name(name):
            raise ConfigError(
                f"the example loss of {name!r} would be called {cls!r}, a loss type "
                f"{record.distribution} already offers; choose another package name",
                where="new-plugin",
            )


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace each ``{{key}}`` in one pass: a value is never read as a template."""
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), template)


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


_PYPROJECT_HEAD = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{{name}}"
dynamic = ["version"]
description = "{{description}}"
readme = "README.md"
license = "{{license}}"
license-files = ["LICENSE"]
authors = [{ name = {{author_toml}} }]
requires-python = ">=3.10"
dependencies = ["{{core}}"]

[project.optional-dependencies]
# build and twine make and check the files you upload (README.md, Publish).
test = ["pytest>=8", "build>=1", "twine>=5"]
"""

_PYPROJECT_TAIL = """
# The protocol this package was built for.
# (name: the protocol version; value: this package)
[project.entry-points."ganlosscore.protocol"]
"{{protocol}}" = "{{package}}"

[tool.setuptools.dynamic]
version = { attr = "{{package}}._version.__version__" }

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
{{package}} = ["py.typed"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

_PYPROJECT = (
    _PYPROJECT_HEAD.replace("{{description}}", "GAN losses for ganlosscore.")
    + """
# One entry point per loss class; its name is the config `type`.
[project.entry-points."ganlosscore.losses"]
{{cls}} = "{{package}}.losses:{{cls}}"
"""
    + _PYPROJECT_TAIL
)

_HOOKS_PYPROJECT = (
    _PYPROJECT_HEAD.replace("{{description}}", "Hooks for ganlosscore's loss aggregation.")
    + """
# One entry point for the module of hook implementations; it is registered as it is.
[project.entry-points."ganlosscore.hooks"]
{{stem}} = "{{package}}.hooks"
"""
    + _PYPROJECT_TAIL
)

_PUBLISH = """
## Publish

Put your name in `LICENSE` and `pyproject.toml` if they still say YOUR NAME,
then build and check (`build` and `twine` come with the test extra):

```bash
python -m build
python -m twine check --strict dist/*
python -m twine upload dist/*
```

`.github/workflows/test.yml` runs the tests and these checks on every push
(on GitHub Actions, with the CPU build of PyTorch).
"""

_README = (
    """\
# {{name}}

GAN losses for [ganlosscore](https://pypi.org/project/ganlosscore/).

```bash
pip install {{name}}
ganloss info {{cls}}
```

Use it from a config file (`ganloss check gan.toml` builds it without running it):

```toml
[[disc]]
type = "{{cls}}"
loss_weight = 1.0
data_info = { pred = "disc_pred_real" }
```

or from Python:

```python
from ganlosscore import build_aggregator

disc_losses = build_aggregator(
    [{"type": "{{cls}}", "data_info": {"pred": "disc_pred_real"}}], name="disc"
)
```

## Develop

```bash
{{torch_cpu}}   # the CPU build; or the CUDA build you train with
pip install -e '.[test]'
python -m pytest
```

Add a loss: write the class in `src/{{package}}/`, add one line to
`[project.entry-points."ganlosscore.losses"]` in `pyproject.toml`, reinstall
(entry points are read from the installed metadata), and add a case to
`tests/test_losses.py`; `check_loss` runs the whole conformance kit on it.
"""
    + _PUBLISH
)

_GITIGNORE = """\
__pycache__/
*.egg-info/
build/
dist/
.pytest_cache/
"""

_INIT = '''\
"""{{name}}: GAN losses for ganlosscore."""

from ._version import __version__
from .losses import {{cls}}

__all__ = ["{{cls}}", "__version__"]
'''

_LOSSES = '''\
"""The losses of {{name}}."""

from __future__ import annotations

from typing import Any

import torch
from ganlosscore import LossModule
from ganlosscore.checks import check_number


class {{cls}}(LossModule):
    """Mean squared distance to a target, ``mean((pred - target) ** 2)``.

    A starting point: replace the formula, keep the shape of the class.

    Input: ``pred`` of shape ``(N, *)``. Output: a scalar.

    Args:
        target: the value predictions are pulled towards.
    """

    default_loss_name = "{{loss_name}}"

    def __init__(self, target: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Checked once, here; ganlosscore.checks has a helper for each kind of value.
        self.target = check_number(target, where="{{cls}}.target")

    def compute(self, pred: torch.Tensor) -> torch.Tensor:
        return ((pred - self.target) ** 2).mean()
'''

_TESTS = """\
import pytest
import torch
from ganlosscore import ConfigError, available_losses, build_loss
from ganlosscore.testing import CHECKS, check_loss

from {{package}} import {{cls}}


def make_outputs(dtype):
    # A fresh outputs dict per call; the kit seeds each call, once per dtype.
    return {"disc_pred_real": torch.randn(3, 2, dtype=dtype, requires_grad=True)}


def test_the_entry_point_is_installed():
    # Fails until the package is installed (pip install -e .): configs find losses
    # through the installed metadata only.
    records = {r.name: r for r in available_losses()}
    assert records["{{cls}}"].distribution == "{{name}}".lower().replace("_", "-")
    assert records["{{cls}}"].status == "ok"


def test_value_by_hand():
    # pred = [1, 3], target 1: ((1 - 1) ** 2 + (3 - 1) ** 2) / 2 = (0 + 4) / 2 = 2
    loss = build_loss({"type": "{{cls}}", "target": 1.0})
    assert loss(torch.tensor([1.0, 3.0])).item() == 2.0


def test_a_bad_hyperparameter_is_a_config_error():
    with pytest.raises(ConfigError, match="target"):
        {{cls}}(target="high")


def test_conformance():
    config = {"type": "{{cls}}", "data_info": {"pred": "disc_pred_real"}}
    report = check_loss(config, make_outputs)
    assert set(report.passed) == set(CHECKS)
"""


_HOOKS_README = (
    """\
# {{name}}

Hooks for [ganlosscore](https://pypi.org/project/ganlosscore/)'s loss
aggregation. Once installed they run in every aggregator of every program:
this one logs each aggregation's values (at INFO, on the `{{package}}`
logger).

```bash
pip install {{name}}
ganloss plugins      # lists {{name}} and the hooks it implements
```

A program sees the messages once it configures logging, e.g.
`logging.basicConfig(level=logging.INFO)`. To run without these hooks, deselect
the package: `GANLOSS_DISABLE_PLUGINS={{name}}`.

## Develop

```bash
{{torch_cpu}}   # the CPU build; or the CUDA build you train with
pip install -e '.[test]'
python -m pytest
```

Add a hook: write a function named after a hookspec (`ganloss plugins` and
the ganlosscore docs list them) in `src/{{package}}/hooks.py`, decorated with
`@hookimpl`, and a test in `tests/test_hooks.py`. The entry point names the
module, so no reinstall is needed for a new function in it.
"""
    + _PUBLISH
)

_HOOKS_INIT = '''\
"""{{name}}: hooks for ganlosscore's loss aggregation (see hooks.py)."""

from ._version import __version__

__all__ = ["__version__"]
'''

_HOOKS = '''\
"""The hooks of {{name}}.

Once the package is installed, they run in every aggregator of every program.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ganlosscore import hookimpl

if TYPE_CHECKING:  # for type checkers only: loading the hooks imports no torch
    from ganlosscore import LossAggregator, LossResult

logger = logging.getLogger("{{package}}")


@hookimpl
def ganloss_after_aggregate(result: LossResult, aggregator: LossAggregator) -> None:
    """Log each aggregation's values: the phase, then every loss and the total.

    A starting point: replace it, or add other hooks. Reading ``log_vars``
    copies the values to the host (one synchronisation), so it happens only
    when the message is shown.
    """
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s: %s", aggregator.name, result.log_vars)
'''

_HOOKS_TESTS = """\
import logging

import torch
from ganlosscore import (
    LossModule,
    build_aggregator,
    get_plugin_manager,
    new_plugin_manager,
)

from {{package}} import hooks


class SquareLoss(LossModule):
    \"\"\"mean(pred ** 2): a loss for these tests only.\"\"\"

    default_loss_name = "loss_square"

    def compute(self, pred):
        return (pred**2).mean()


def test_the_hooks_are_installed():
    # Fails until the package is installed (pip install -e .): the hooks are found
    # through the installed metadata only.
    assert hooks in get_plugin_manager().get_plugins()


def test_every_aggregation_is_logged(caplog):
    # A private manager with the core's defaults and these hooks only: the test
    # does not depend on what else is installed.
    pm = new_plugin_manager(installed=False)
    pm.register(hooks)
    aggregator = build_aggregator(
        [{"type": SquareLoss, "data_info": {"pred": "disc_pred_real"}}],
        name="disc",
        plugin_manager=pm,
    )
    with caplog.at_level(logging.INFO, logger="{{package}}"):
        aggregator({"disc_pred_real": torch.tensor([1.0, 3.0])})
    # pred = [1, 3]: (1 ** 2 + 3 ** 2) / 2 = 5
    assert caplog.messages == ["disc: {'loss_square': 5.0, 'loss': 5.0}"]
"""

_WORKFLOW = """\
# Run the tests, build the distributions and check them, on every push and pull request.
name: test

on:
  push:
  pull_request:

jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python-version: ["3.10", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      # The CPU build of PyTorch: the default one from PyPI is the multi-GB CUDA build.
      - run: python -m {{torch_cpu}}
      - run: python -m pip install -e '.[test]'
      - run: python -m pytest
      - run: python -m build && python -m twine check --strict dist/*
"""

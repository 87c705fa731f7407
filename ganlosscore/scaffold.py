"""``ganloss new-plugin``: write a complete loss package that installs and passes its tests.

The generated package follows the rules the bundled plugins follow: PEP 621
metadata, a single-sourced version, the supported core range, the protocol
declaration, one entry point per loss, and tests that use the conformance kit.
"""

from __future__ import annotations

import keyword
import re
import shutil
import sys
import uuid
from pathlib import Path

from ._version import PROTOCOL_VERSION, __version__
from .errors import ConfigError

__all__ = ["core_requirement", "plugin_names", "write_plugin"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_][A-Za-z0-9]+)*$")


def core_requirement() -> str:
    """The core range a new plugin supports: this minor series (``>=0.1,<0.2``)."""
    major, minor = (int(x) for x in __version__.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"ganlosscore>={major}.{minor},<{upper}"


def plugin_names(name: str) -> dict[str, str]:
    """The names a package called ``name`` gets: import package, loss class, loss name.

    ``ganloss-my-losses`` gives the package ``ganloss_my_losses``, the class
    ``MyLossesLoss`` and the loss name ``loss_my_losses``. Raises
    :class:`ConfigError` for a name that cannot become an importable package.
    """
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid distribution name; use letters, digits and single "
            "dashes, starting with a letter, e.g. ganloss-mylosses",
            where="new-plugin",
        )
    package = name.lower().replace("-", "_")
    if keyword.iskeyword(package) or package in _TAKEN or package in sys.stdlib_module_names:
        raise ConfigError(
            f"{name!r} would make a package named {package!r}, which would shadow or clash "
            "with an existing module; choose another name, e.g. ganloss-mylosses",
            where="new-plugin",
        )
    stem = package.removeprefix("ganloss_") or package
    cls = "".join(part.capitalize() for part in stem.split("_")) + "Loss"
    if not cls[0].isalpha():  # ganloss-2d: a class name cannot start with a digit
        cls = "".join(part.capitalize() for part in package.split("_")) + "Loss"
    return {"name": name, "package": package, "cls": cls, "loss_name": f"loss_{stem}"}


# Packages a plugin must not be called: the core itself and its dependencies.
_TAKEN = frozenset(
    {"ganlosscore", "torch", "pluggy", "attrs", "importlib_metadata", "pytest", "setuptools"}
)


def write_plugin(name: str, parent: Path) -> Path:
    """Write the package ``parent/name`` and return its path.

    The package is written to a temporary directory first and moved into
    place at the end, so a failure leaves nothing half-written.
    """
    values = {
        **plugin_names(name),
        "core": core_requirement(),
        "protocol": str(PROTOCOL_VERSION),
    }
    package = values["package"]
    _refuse_taken_loss_name(values["cls"], name)
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
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        ".gitignore": _GITIGNORE,
        f"src/{package}/__init__.py": _INIT,
        f"src/{package}/_version.py": '__version__ = "0.1.0"\n',
        f"src/{package}/py.typed": "",
        f"src/{package}/losses.py": _LOSSES,
        "tests/test_losses.py": _TESTS,
    }
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
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{{name}}"
dynamic = ["version"]
description = "GAN losses for ganlosscore."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["{{core}}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# One entry point per loss class; its name is the config `type`.
[project.entry-points."ganlosscore.losses"]
{{cls}} = "{{package}}.losses:{{cls}}"

# The loss protocol this package was built for.
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

_README = """\
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
pip install -e '.[test]'
python -m pytest
```

Add a loss: write the class in `src/{{package}}/`, add one line to
`[project.entry-points."ganlosscore.losses"]` in `pyproject.toml`, reinstall
(entry points are read from the installed metadata), and add a case to
`tests/test_losses.py`; `check_loss` runs the whole conformance kit on it.
"""

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
from ganlosscore import ConfigError, LossModule


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
        if isinstance(target, bool) or not isinstance(target, (int, float)):
            raise ConfigError(
                f"target must be a number, got {target!r}", where="{{cls}}.target"
            )
        self.target = float(target)

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

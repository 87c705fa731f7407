"""``ganloss new-plugin``: write a complete loss package that installs and passes its tests.

The generated package follows the rules the bundled plugins follow: PEP 621
metadata, a single-sourced version, the supported core range, the protocol
declaration, one entry point per loss, and tests that use the conformance kit.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from ._version import PROTOCOL_VERSION, __version__
from .errors import ConfigError

__all__ = ["core_requirement", "write_plugin"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_][A-Za-z0-9]+)*$")


def core_requirement() -> str:
    """The core range a new plugin supports: this minor series (``>=0.1,<0.2``)."""
    major, minor = (int(x) for x in __version__.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"ganlosscore>={major}.{minor},<{upper}"


def write_plugin(name: str, parent: Path) -> Path:
    """Write the package ``parent/name`` and return its path.

    The package is written to a temporary directory first and moved into
    place at the end, so a failure leaves nothing half-written.
    """
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid distribution name; use letters, digits and single "
            "dashes, e.g. ganloss-mylosses",
            where="new-plugin",
        )
    target = parent / name
    if target.exists():
        raise ConfigError(
            f"{target} already exists; choose another name or --dir", where="new-plugin"
        )
    if not parent.is_dir():
        raise ConfigError(f"directory {parent} does not exist", where="new-plugin")
    package = name.lower().replace("-", "_")
    stem = package.removeprefix("ganloss_") or package
    cls = "".join(part.capitalize() for part in stem.split("_")) + "Loss"
    values = {
        "name": name,
        "package": package,
        "cls": cls,
        "loss_name": f"loss_{stem}",
        "core": core_requirement(),
        "protocol": str(PROTOCOL_VERSION),
    }
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"src/{package}/__init__.py": _INIT,
        f"src/{package}/_version.py": '__version__ = "0.1.0"\n',
        f"src/{package}/py.typed": "",
        f"src/{package}/losses.py": _LOSSES,
        "tests/test_losses.py": _TESTS,
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    try:
        for relative, template in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill(template, values), encoding="utf-8")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
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
"""

_README = """\
# {{name}}

GAN losses for [ganlosscore](https://pypi.org/project/ganlosscore/).

```bash
pip install {{name}}
ganloss info {{cls}}
```

Use it from a config:

```python
{"type": "{{cls}}", "loss_weight": 1.0, "data_info": {"pred": "disc_pred_real"}}
```

Develop: `pip install -e .[test] && pytest`.
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

import torch

from ganlosscore import ConfigError, LossModule


class {{cls}}(LossModule):
    """Mean squared prediction, ``mean((pred - target) ** 2)``.

    A starting point: replace the formula, keep the shape of the class.

    Input: ``pred`` of shape ``(N, *)``. Output: a scalar.

    Args:
        target: the value predictions are pulled towards.
    """

    default_loss_name = "{{loss_name}}"

    def __init__(self, target: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        if not isinstance(target, (int, float)):
            raise ConfigError(f"target must be a number, got {target!r}", where="target")
        self.target = float(target)

    def compute(self, pred: torch.Tensor) -> torch.Tensor:
        return ((pred - self.target) ** 2).mean()
'''

_TESTS = """\
import torch

from ganlosscore import build_loss
from ganlosscore.testing import check_loss


def make_outputs(dtype: torch.dtype) -> dict:
    return {"disc_pred_real": torch.linspace(-1, 1, 6, dtype=dtype).reshape(3, 2).requires_grad_()}


def test_value_by_hand():
    # pred = [1, 3], target 1: ((0)**2 + (2)**2) / 2 = 2
    loss = build_loss({"type": "{{cls}}", "target": 1.0})
    assert loss(torch.tensor([1.0, 3.0])).item() == 2.0


def test_conformance():
    check_loss({"type": "{{cls}}", "data_info": {"pred": "disc_pred_real"}}, make_outputs)
"""

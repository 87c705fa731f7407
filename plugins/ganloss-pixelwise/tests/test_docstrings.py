"""The docstrings and the README state the defaults and names the code has."""

import ast
import inspect
import re
from pathlib import Path

import ganloss_pixelwise
import pytest

from ganlosscore import LossModule

README = Path(__file__).resolve().parents[1] / "README.md"
LOSSES = [
    getattr(ganloss_pixelwise, name)
    for name in ganloss_pixelwise.__all__
    if isinstance(getattr(ganloss_pixelwise, name), type)
    and issubclass(getattr(ganloss_pixelwise, name), LossModule)
]
# Hyperparameters whose default is described in words, not as a literal.
DESCRIBED_IN_WORDS = {"data_info", "feature_extractor", "layer_weights"}


def hyperparameter_defaults(cls: type) -> dict[str, object]:
    """Every keyword of ``cls``'s own ``__init__`` chain, down to (not into) LossModule."""
    defaults: dict[str, object] = {}
    for klass in cls.__mro__:
        if klass is LossModule:
            break
        init = klass.__dict__.get("__init__")
        if init is not None:
            for p in inspect.signature(init).parameters.values():
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self":
                    defaults.setdefault(p.name, p.default)
    return defaults


def documented_args(cls: type) -> dict[str, str]:
    """``{name: text}`` of the ``Args:`` section of ``cls``'s docstring."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    section = re.search(r"^Args:\n((?:    .*\n|\n)*)", doc + "\n", re.M)
    assert section, f"{cls.__name__} has no Args section"
    entries: dict[str, str] = {}
    for name, text in re.findall(r"^    (\**\w+): (.*(?:\n {8}.*)*)", section[1], re.M):
        entries[name] = " ".join(text.split())
    return entries


@pytest.mark.parametrize("cls", LOSSES, ids=lambda c: c.__name__)
def test_every_documented_default_is_the_constructors(cls):
    args = documented_args(cls)
    for name, default in hyperparameter_defaults(cls).items():
        assert name in args, f"{cls.__name__} does not document {name!r}"
        if name in DESCRIBED_IN_WORDS:
            continue
        stated = re.search(r"Default ``([^`]+)``", args[name])
        assert stated, f"{cls.__name__}.{name}: no 'Default ``...``' in {args[name]!r}"
        assert ast.literal_eval(stated[1]) == default, f"{cls.__name__}.{name}"


@pytest.mark.parametrize("cls", LOSSES, ids=lambda c: c.__name__)
def test_documented_loss_name_is_the_default(cls):
    (stated,) = re.findall(r"``loss_name`` \(default\s+``'(\w+)'``\)", cls.__doc__ or "")
    assert stated == cls.default_loss_name
    row = re.search(rf"^\| `{cls.__name__}` \| `(\w+)` \|", README.read_text(), re.M)
    assert row and row[1] == cls.default_loss_name, f"README's table row of {cls.__name__}"

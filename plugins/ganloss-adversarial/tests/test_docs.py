"""The docstring examples and the README's Python blocks run and give the values they show."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import ganloss_adversarial
import pytest

MODULES = [f"ganloss_adversarial.{name}" for name in ("functional", "gan_loss", "adversarial")]
README = Path(__file__).parents[1] / "README.md"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{module} has no example"


def test_readme_python_blocks_run():
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", README.read_text(), re.M | re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for indent, code in blocks:
        code = "\n".join(line[len(indent) :] for line in code.splitlines())
        exec(compile(code, str(README), "exec"), namespace)


def test_every_loss_documents_formula_shapes_paper_and_example():
    for name in ("GANLoss", "DiscAdversarialLoss", "GenAdversarialLoss"):
        doc = getattr(ganloss_adversarial, name).__doc__ or ""
        for part in ("Input:", "Example:", "MMGeneration", "Args:"):
            assert part in doc, f"{name}'s docstring lacks {part!r}"
    functional = importlib.import_module("ganloss_adversarial.functional")
    for name in functional.__all__:
        obj = getattr(functional, name)
        if callable(obj):
            assert "Input:" in obj.__doc__ and "Example:" in obj.__doc__, name


def test_readme_names_every_type():
    text = README.read_text()
    for gan_type in (*ganloss_adversarial.ADVERSARIAL_TYPES, *ganloss_adversarial.GAN_LOSS_TYPES):
        assert f"`{gan_type}`" in text, gan_type

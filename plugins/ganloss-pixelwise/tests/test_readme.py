"""The README's examples build (and the in-code one computes)."""

import ast
import re
from pathlib import Path

import pytest
import torch
from ganloss_pixelwise import PerceptualLoss

from ganlosscore import LossModule, build_loss

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _trunk(x):
    layers = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    return {name: torch.relu(x * (i + 1) * (-1) ** i) for i, name in enumerate(layers)}


NAMESPACE = {"PerceptualLoss": PerceptualLoss, "frozen_vgg_trunk": _trunk}
EXAMPLES = [
    eval(compile(ast.Expression(stmt.value), "README.md", "eval"), dict(NAMESPACE))
    for block in BLOCKS
    for stmt in ast.parse(block).body
    if isinstance(stmt, ast.Expr)
]


def _build(example):
    if isinstance(example, LossModule):
        return example
    return build_loss({**example, "type": f"ganloss-pixelwise:{example['type']}"})


def test_readme_shows_every_loss():
    shown = {type(_build(e)).__name__ for e in EXAMPLES}
    assert shown == {
        "L1Loss",
        "MSELoss",
        "CharbonnierLoss",
        "GradientLoss",
        "MaskedTVLoss",
        "PSNRLoss",
        "GaussianKLDLoss",
        "DiscretizedGaussianLogLikelihoodLoss",
        "PerceptualLoss",
        "FeatureMatchingLoss",
    }


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=lambda e: type(e).__name__ if isinstance(e, LossModule) else e["type"]
)
def test_readme_example_builds(example):
    assert _build(example).loss_name().startswith("loss_")


def test_readme_perceptual_example_computes():
    (loss,) = [e for e in EXAMPLES if isinstance(e, LossModule)]
    x = torch.randn(1, 2, 4, 4)
    assert loss({"fake_imgs": x, "real_imgs": x}).item() == 0.0
    assert loss.extra_log_vars["perceptual_style"].item() == 0.0

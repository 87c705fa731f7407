"""Packaging: entry points, building by name, and the docstring examples."""

import pytest
import torch

from ganlosscore import build_loss
from ganlosscore.testing import check_examples, check_package

LOSSES = {
    "L1Loss": "loss_l1",
    "MSELoss": "loss_mse",
    "CharbonnierLoss": "loss_charbonnier",
    "GradientLoss": "loss_gradient",
    "MaskedTVLoss": "loss_masked_tv",
    "PSNRLoss": "loss_psnr",
    "GaussianKLDLoss": "loss_GaussianKLD",
    "DiscretizedGaussianLogLikelihoodLoss": "loss_DiscGaussianLogLikelihood",
    "PerceptualLoss": "loss_perceptual",
    "FeatureMatchingLoss": "loss_feature_matching",
}


def test_metadata_matches_the_package():
    # one entry point per loss class, exported, with its name; protocol 1; one version
    check_package("ganloss-pixelwise", LOSSES)


@pytest.mark.parametrize("name", ["L1Loss", "GaussianKLDLoss"])
def test_build_by_name_from_a_config(name):
    loss = build_loss({"type": f"ganloss-pixelwise:{name}", "loss_weight": 0.5})
    assert type(loss).__name__ == name
    assert loss.loss_weight == 0.5


@pytest.mark.parametrize("module", ["functional", "pixel", "gaussian", "feature"])
def test_docstring_examples(module):
    check_examples(f"ganloss_pixelwise.{module}", globs={"torch": torch})

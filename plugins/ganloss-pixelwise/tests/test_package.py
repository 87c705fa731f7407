"""Packaging: entry points, building by name, and the docstring examples."""

from importlib.metadata import distribution

import ganloss_pixelwise
import pytest
import torch

from ganlosscore import LossModule, build_loss
from ganlosscore.testing import check_examples

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


def test_one_entry_point_per_loss_class():
    eps = [
        ep
        for ep in distribution("ganloss-pixelwise").entry_points
        if ep.group == "ganlosscore.losses"
    ]
    assert {ep.name for ep in eps} == set(LOSSES)
    for ep in eps:
        cls = ep.load()
        assert issubclass(cls, LossModule)
        assert cls.__name__ == ep.name
        assert cls.default_loss_name == LOSSES[ep.name]
        assert getattr(ganloss_pixelwise, ep.name) is cls


def test_version_is_single_sourced():
    assert distribution("ganloss-pixelwise").version == ganloss_pixelwise.__version__


@pytest.mark.parametrize("name", ["L1Loss", "GaussianKLDLoss"])
def test_build_by_name_from_a_config(name):
    loss = build_loss({"type": f"ganloss-pixelwise:{name}", "loss_weight": 0.5})
    assert type(loss).__name__ == name
    assert loss.loss_weight == 0.5


@pytest.mark.parametrize("module", ["functional", "pixel", "gaussian", "feature"])
def test_docstring_examples(module):
    check_examples(f"ganloss_pixelwise.{module}", globs={"torch": torch})


def test_declares_loss_protocol_1():
    entry_points = distribution("ganloss-pixelwise").entry_points
    declared = [(ep.name, ep.value) for ep in entry_points if ep.group == "ganlosscore.protocol"]
    assert declared == [("1", "ganloss_pixelwise")]

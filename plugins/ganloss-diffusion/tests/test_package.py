"""Packaging: entry points, building by name, and the docstring examples."""

from importlib.metadata import distribution

import ganloss_diffusion
import pytest
import torch

from ganlosscore import LossModule, build_loss
from ganlosscore.testing import check_examples

LOSSES = {
    "DDPMMSELoss": "loss_ddpm_mse",
    "DDPMVLBLoss": "loss_ddpm_vlb",
    "EDMLoss": "loss_edm",
    "VPLoss": "loss_edm_vp",
    "VELoss": "loss_edm_ve",
}


def test_one_entry_point_per_loss_class():
    entry_points = distribution("ganloss-diffusion").entry_points
    eps = [ep for ep in entry_points if ep.group == "ganlosscore.losses"]
    assert {ep.name for ep in eps} == set(LOSSES)
    for ep in eps:
        cls = ep.load()
        assert issubclass(cls, LossModule)
        assert cls.__name__ == ep.name
        assert cls.default_loss_name == LOSSES[ep.name]
        assert getattr(ganloss_diffusion, ep.name) is cls


def test_version_is_single_sourced():
    assert distribution("ganloss-diffusion").version == ganloss_diffusion.__version__


def test_mmgeneration_improved_ddpm_configs_build_unchanged():
    # the ddpm_loss of MMGeneration's Improved DDPM configs, verbatim
    configs = [
        dict(
            type="DDPMVLBLoss",
            rescale_mode="constant",
            rescale_cfg=dict(scale=4000 / 1000),
            data_info=dict(
                mean_pred="mean_pred",
                mean_target="mean_posterior",
                logvar_pred="logvar_pred",
                logvar_target="logvar_posterior",
            ),
            log_cfgs=[
                dict(type="quartile", prefix_name="loss_vlb", total_timesteps=4000),
                dict(type="name"),
            ],
        ),
        dict(
            type="DDPMMSELoss",
            log_cfgs=dict(type="quartile", prefix_name="loss_mse", total_timesteps=4000),
        ),
    ]
    vlb, mse = (build_loss({**c, "type": f"ganloss-diffusion:{c['type']}"}) for c in configs)
    assert vlb.data_info["x"] == "real_imgs"
    assert vlb.data_info["timesteps"] == "timesteps"
    assert [s.prefix for s in vlb.log_specs] == ["vlb", "ddpm_vlb"]
    assert mse.log_specs[0].prefix == "mse"


@pytest.mark.parametrize("module", ["functional", "ddpm", "edm"])
def test_docstring_examples(module):
    check_examples(f"ganloss_diffusion.{module}", globs={"torch": torch})


def test_declares_loss_protocol_1():
    entry_points = distribution("ganloss-diffusion").entry_points
    declared = [(ep.name, ep.value) for ep in entry_points if ep.group == "ganlosscore.protocol"]
    assert declared == [("1", "ganloss_diffusion")]

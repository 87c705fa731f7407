"""Packaging: entry points, building by name, and the docstring examples."""

import pytest
import torch

from ganlosscore import build_loss
from ganlosscore.testing import check_examples, check_package

LOSSES = {
    "DDPMMSELoss": "loss_ddpm_mse",
    "DDPMVLBLoss": "loss_ddpm_vlb",
    "EDMLoss": "loss_edm",
    "VPLoss": "loss_edm_vp",
    "VELoss": "loss_edm_ve",
}


def test_metadata_matches_the_package():
    # one entry point per loss class, exported, with its name; protocol 1; one version
    check_package("ganloss-diffusion", LOSSES)


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

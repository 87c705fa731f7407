"""Every loss of the package keeps the ganlosscore protocol (the core's conformance kit)."""

from __future__ import annotations

import pytest
import torch
from _regularizer_nets import ConvDisc, StyleGenerator

from ganlosscore.testing import CHECKS, check_loss


def images(dtype, *, requires_grad=False):
    return torch.randn(4, 3, 8, 8, dtype=dtype).requires_grad_(requires_grad)


def disc_outputs(dtype):
    return {
        "disc": ConvDisc().to(dtype),
        "real_imgs": images(dtype, requires_grad=True),
        "fake_imgs": images(dtype, requires_grad=True),
        "loss_scaler": torch.amp.GradScaler("cpu", init_scale=2.0**8),
        "augment": lambda x: torch.flip(x, dims=(3,)),
    }


def pred_outputs(dtype):
    return {
        "disc_pred_real": torch.randn(4, 1, dtype=dtype, requires_grad=True),
        "disc_pred_fake": torch.randn(4, 1, dtype=dtype, requires_grad=True),
    }


def gen_outputs(dtype):
    return {"gen": StyleGenerator(torch.randn(8, 4, dtype=dtype)).to(dtype), "batch_size": 8}


GAN = {"discriminator": "disc", "real_data": "real_imgs", "fake_data": "fake_imgs"}

CASES = {
    "DiscShiftLoss": ({"data_info": {"pred": "disc_pred_real"}}, pred_outputs),
    "GradientPenaltyLoss-pixel": ({"data_info": GAN}, disc_outputs),
    "GradientPenaltyLoss-HWC": ({"norm_mode": "HWC", "data_info": GAN}, disc_outputs),
    "DRAGANGradientPenalty": (
        {"data_info": {"discriminator": "disc", "real_data": "real_imgs"}},
        disc_outputs,
    ),
    "R1GradientPenalty": (
        {
            "norm_mode": "HWC",
            "data_info": {
                "discriminator": "disc",
                "real_data": "real_imgs",
                "loss_scaler": "loss_scaler",
            },
        },
        disc_outputs,
    ),
    "R2GradientPenalty": (
        {"data_info": {"discriminator": "disc", "fake_data": "fake_imgs"}},
        disc_outputs,
    ),
    "GeneratorPathRegularizer": (
        {"pl_batch_shrink": 2, "data_info": {"generator": "gen", "num_batches": "batch_size"}},
        gen_outputs,
    ),
    "LeCamRegularizer": (
        {"data_info": {"disc_pred_real": "disc_pred_real", "disc_pred_fake": "disc_pred_fake"}},
        pred_outputs,
    ),
    "BalancedConsistencyLoss": ({"data_info": {**GAN, "augment": "augment"}}, disc_outputs),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_conformance(case):
    config, make_outputs = CASES[case]
    # "type" by its registered name: this also checks the entry point resolves.
    report = check_loss({"type": case.split("-")[0], **config}, make_outputs)
    assert not report.skipped, report.skipped
    assert set(report.passed) == set(CHECKS)

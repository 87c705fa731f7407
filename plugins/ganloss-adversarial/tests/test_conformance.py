"""Every loss of the package keeps the ganlosscore protocol (the core's conformance kit)."""

from __future__ import annotations

import pytest
import torch
from ganloss_adversarial import ADVERSARIAL_TYPES, GAN_LOSS_TYPES, RELATIVISTIC_TYPES

from ganlosscore.testing import check_loss


def pred_outputs(dtype):
    return {
        "disc_pred_real": torch.randn(4, 1, dtype=dtype, requires_grad=True),
        "disc_pred_fake": torch.randn(4, 1, dtype=dtype, requires_grad=True),
        "disc_pred_fake_g": torch.randn(4, 1, dtype=dtype, requires_grad=True),
    }


def gan_loss_outputs(is_disc):
    def make(dtype):
        return {**pred_outputs(dtype), "target_is_real": True, "is_disc": is_disc}

    return make


GAN_LOSS_INFO = {
    "input": "disc_pred_fake",
    "target_is_real": "target_is_real",
    "is_disc": "is_disc",
}

CASES = {}
for gan_type in GAN_LOSS_TYPES:
    # Generator terms: loss_weight multiplies the value.
    CASES[f"GANLoss-{gan_type}-gen"] = (
        {"type": "GANLoss", "gan_type": gan_type, "data_info": GAN_LOSS_INFO},
        gan_loss_outputs(False),
        True,
    )
    # Discriminator terms: MMGeneration never weights them, so loss_weight=2.5 leaves the
    # value unchanged by design and the linearity check does not apply.
    CASES[f"GANLoss-{gan_type}-disc"] = (
        {"type": "GANLoss", "gan_type": gan_type, "data_info": GAN_LOSS_INFO},
        gan_loss_outputs(True),
        False,
    )
for gan_type in ADVERSARIAL_TYPES:
    CASES[f"DiscAdversarialLoss-{gan_type}"] = (
        {
            "type": "DiscAdversarialLoss",
            "gan_type": gan_type,
            "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
        },
        pred_outputs,
        True,
    )
    gen_info = {"pred_fake": "disc_pred_fake_g"}
    if gan_type in RELATIVISTIC_TYPES:
        gen_info["pred_real"] = "disc_pred_real"
    CASES[f"GenAdversarialLoss-{gan_type}"] = (
        {"type": "GenAdversarialLoss", "gan_type": gan_type, "data_info": gen_info},
        pred_outputs,
        True,
    )
CASES["DiscAdversarialLoss-ns-smoothed"] = (
    {
        "type": "DiscAdversarialLoss",
        "gan_type": "ns",
        "real_label": 0.9,
        "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
    },
    pred_outputs,
    True,
)


@pytest.mark.parametrize(("config", "make_outputs", "weight_linear"), CASES.values(), ids=CASES)
def test_conformance(config, make_outputs, weight_linear):
    report = check_loss(config, make_outputs, weight_linear=weight_linear)
    expected_skips = set() if weight_linear else {"weight"}
    assert set(report.skipped) == expected_skips


def test_disc_terms_of_gan_loss_really_ignore_loss_weight():
    # The justification of weight_linear=False above, checked: is_disc=True ignores loss_weight.
    from ganloss_adversarial import GANLoss

    x = torch.tensor([0.5])
    assert GANLoss("wgan", loss_weight=2.5)(x, True, True) == GANLoss("wgan")(x, True, True)

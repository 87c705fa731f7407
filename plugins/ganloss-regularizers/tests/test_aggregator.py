"""The package's losses, built by name from a config, train a tiny WGAN through an aggregator."""

from __future__ import annotations

import math

import pytest
import torch
from _regularizer_nets import ConvDisc
from torch import nn

from ganlosscore import ConfigError, build_aggregator

DISC_CONFIG = [
    {"type": "DiscShiftLoss", "loss_weight": 0.001, "data_info": {"pred": "disc_pred_real"}},
    {
        "type": "GradientPenaltyLoss",
        "loss_weight": 10.0,
        "norm_mode": "HWC",
        "data_info": {"discriminator": "disc", "real_data": "real_imgs", "fake_data": "fake_imgs"},
    },
    {
        "type": "R1GradientPenalty",
        "loss_weight": 5.0,
        "interval": 2,
        "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
    },
]


def test_tiny_gan_trains_with_config_built_disc_losses():
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Linear(8, 3 * 8 * 8), nn.Tanh(), nn.Unflatten(1, (3, 8, 8)))
    disc = ConvDisc()
    disc_losses = build_aggregator(DISC_CONFIG, name="disc")
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    before_d = [p.detach().clone() for p in disc.parameters()]
    before_g = [p.detach().clone() for p in gen.parameters()]

    for iteration in range(1, 5):
        real = torch.randn(4, 3, 8, 8)
        with torch.no_grad():
            fake = gen(torch.randn(4, 8))
        disc_pred_real = disc(real)
        outputs = {
            "disc": disc,
            "real_imgs": real,
            "fake_imgs": fake,
            "disc_pred_real": disc_pred_real,
            "iteration": iteration,
        }
        total, log_vars = disc_losses(outputs)
        # WGAN critic loss, plus the regularizers of the config.
        loss_d = disc(fake).mean() - disc_pred_real.mean() + total
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        assert {"loss_disc_shift", "loss_gp"} <= log_vars.keys()
        # R1 is lazy (interval 2): present at even iterations only.
        assert ("loss_r1_gp" in log_vars) == (iteration % 2 == 0)
        assert all(math.isfinite(v) for v in log_vars.values())

        loss_g = -disc(gen(torch.randn(4, 8))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        assert math.isfinite(loss_g.item())

    for model, before in ((disc, before_d), (gen, before_g)):
        moved = [not torch.equal(p, b) for p, b in zip(model.parameters(), before)]
        assert all(moved)


def test_aggregator_state_dict_holds_the_running_statistics():
    aggregator = build_aggregator(
        [
            {
                "type": "GeneratorPathRegularizer",
                "data_info": {"generator": "gen", "num_batches": "batch_size"},
            },
            {
                "type": "LeCamRegularizer",
                "data_info": {"disc_pred_real": "disc_pred_real", "disc_pred_fake": "fake"},
            },
        ],
        name="mixed",
    )
    keys = set(aggregator.state_dict())
    assert any(k.endswith("mean_path_length") for k in keys)
    assert any(k.endswith("ema_real") for k in keys) and any(k.endswith("ema_fake") for k in keys)


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        (
            {
                "type": "R1GradientPenalty",
                "norm_mode": "pixels",
                "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
            },
            "R1GradientPenalty.norm_mode",
        ),
        (
            {
                "type": "GeneratorPathRegularizer",
                "decay": 2.0,
                "data_info": {"generator": "gen", "num_batches": "batch_size"},
            },
            "GeneratorPathRegularizer.decay",
        ),
    ],
)
def test_bad_hyperparameter_in_config_is_a_config_error(entry, where):
    with pytest.raises(ConfigError, match=where):
        build_aggregator([entry], name="disc")

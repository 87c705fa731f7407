"""A whole GAN objective from configs only: a tiny 1-D GAN trained through two aggregators."""

from __future__ import annotations

import math

import pytest
import torch
from ganloss_adversarial import ADVERSARIAL_TYPES, RELATIVISTIC_TYPES

from ganlosscore import ConfigError, build_aggregator

# Types whose discriminator loss depends on logit differences only.
SHIFT_INVARIANT = ("wgan", *RELATIVISTIC_TYPES)


def configs(gan_type):
    disc = [
        {
            "type": "DiscAdversarialLoss",
            "gan_type": gan_type,
            "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
        }
    ]
    gen_info = {"pred_fake": "disc_pred_fake_g"}
    if gan_type in RELATIVISTIC_TYPES:
        gen_info["pred_real"] = "disc_pred_real"
    gen = [{"type": "GenAdversarialLoss", "gan_type": gan_type, "data_info": gen_info}]
    return disc, gen


@pytest.mark.parametrize("gan_type", ADVERSARIAL_TYPES)
def test_tiny_gan_trains_from_configs(gan_type):
    torch.manual_seed(0)
    disc_configs, gen_configs = configs(gan_type)
    disc_agg = build_aggregator(disc_configs, name="disc")
    gen_agg = build_aggregator(gen_configs, name="gen")
    generator = torch.nn.Linear(1, 1)  # z -> x
    discriminator = torch.nn.Linear(1, 1)  # x -> logit
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.05)
    before_g = [p.detach().clone() for p in generator.parameters()]
    before_d = [p.detach().clone() for p in discriminator.parameters()]

    for step in range(5):
        real = 3.0 + 0.5 * torch.randn(16, 1)
        z = torch.randn(16, 1)
        # Discriminator step, on detached fakes (MMGeneration's StaticUnconditionalGAN keys).
        fake = generator(z).detach()
        outputs = {
            "iteration": step,
            "disc_pred_real": discriminator(real),
            "disc_pred_fake": discriminator(fake),
        }
        total, log_vars = disc_agg(outputs)
        opt_d.zero_grad()
        total.backward()
        opt_d.step()
        assert set(log_vars) >= {"loss", "loss_disc_adv"}
        assert all(math.isfinite(v) for v in log_vars.values())
        # Generator step: only the generator's optimizer steps.
        outputs = {
            "iteration": step,
            "disc_pred_fake_g": discriminator(generator(z)),
            "disc_pred_real": discriminator(real),
        }
        result = gen_agg(outputs)
        opt_g.zero_grad()
        result.total.backward()
        opt_g.step()
        assert set(result.log_vars) >= {"loss", "loss_gen_adv"}
        assert all(math.isfinite(v) for v in result.log_vars.values())
        assert torch.equal(result.total, result.losses["loss_gen_adv"])

    for old, new in zip(before_g, generator.parameters()):
        assert not torch.equal(old, new.detach()), "the generator did not move"
    weight_d, bias_d = discriminator.weight.detach(), discriminator.bias.detach()
    assert not torch.equal(before_d[0], weight_d), "the discriminator did not move"
    if gan_type in SHIFT_INVARIANT:
        # D = mean(D(fake)) - mean(D(real)), and every relativistic loss, sees only differences
        # of logits, so a shift of D's bias changes nothing: its gradient is 0.
        assert torch.allclose(before_d[1], bias_d, atol=1e-6)
    else:
        assert not torch.equal(before_d[1], bias_d), "the discriminator's bias did not move"


def test_ns_generator_moves_fakes_towards_the_data():
    # With the discriminator frozen at D(x) = x - 2 (real data near 3 scores high),
    # one NS generator step must raise the generator's bias: d/db mean(softplus(-(x - 2)))
    # = -mean(sigmoid(2 - x)) < 0, so gradient descent increases b.
    gen_agg = build_aggregator(configs("ns")[1], name="gen")
    generator = torch.nn.Linear(1, 1)
    with torch.no_grad():
        generator.weight.fill_(0.0)
        generator.bias.fill_(0.0)
    fake = generator(torch.randn(8, 1))
    total, _ = gen_agg({"disc_pred_fake_g": fake - 2.0})
    total.backward()
    # Every fake is x = 0: d/db = -sigmoid(2) = -0.8807971.
    assert torch.allclose(generator.bias.grad, torch.tensor([-1 / (1 + math.exp(-2.0))]))


def test_relativistic_aggregator_config_without_pred_real_is_refused():
    gen = [{"type": "GenAdversarialLoss", "gan_type": "ragan",
            "data_info": {"pred_fake": "disc_pred_fake_g"}}]  # fmt: skip
    with pytest.raises(ConfigError, match="needs pred_real"):
        build_aggregator(gen, name="gen")

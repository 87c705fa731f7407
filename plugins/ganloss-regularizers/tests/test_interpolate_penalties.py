"""WGANDivPenalty and MaxGradientPenalty: hand-derived values, StudioGAN's MaxGP, the protocol."""

from __future__ import annotations

import pytest
import torch
from _regularizer_nets import ConvDisc, quadratic_disc
from ganloss_regularizers.interpolate_penalties import MaxGradientPenalty, WGANDivPenalty

from ganlosscore import ConfigError, GanLossError
from ganlosscore.testing import CHECKS, check_loss

# real = fake = X, so every interpolate is X whatever alpha; quadratic_disc's gradient is x,
# so the per-sample squared norms are ||X_0||^2 = 1 and ||X_1||^2 = 4 + 4 = 8.
X = torch.tensor([[1.0, 0.0], [2.0, 2.0]])


def test_wgan_div_value():
    # 2 * mean(1^3, 8^3) = 2 * 256.5, the squared norms raised to p / 2 = 3.
    assert WGANDivPenalty()(quadratic_disc, X, X.clone()).item() == 513.0
    # k = 0.5, p = 2: 0.5 * mean(1, 8).
    assert WGANDivPenalty(k=0.5, p=2)(quadratic_disc, X, X.clone()).item() == 2.25


def test_wgan_div_gradient_reaches_the_discriminator(linear_disc, linear_data):
    # LinearDisc's input gradient is W (norm 5 per sample), so with k = 1, p = 2 the penalty is
    # sum(W^2) = 25 and its gradient with respect to W is 2W: [6, 8] at pixel (0, 0).
    value = WGANDivPenalty(k=1.0, p=2.0)(linear_disc, linear_data, torch.zeros_like(linear_data))
    assert value.item() == pytest.approx(25.0)
    value.backward()
    assert torch.allclose(linear_disc.weight.grad, 2 * linear_disc.weight.detach())


def test_max_gradient_penalty_value():
    assert MaxGradientPenalty()(quadratic_disc, X, X.clone()).item() == 8.0


def test_max_gradient_penalty_is_studiogans_cal_maxgrad_penalty():
    # StudioGAN: alpha = rand(N, 1) per sample, x_hat = alpha real + (1 - alpha) fake,
    # grads of D(x_hat) flattened per sample, max(norm ** 2). Same seed, same alpha.
    disc = ConvDisc()
    real, fake = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    torch.manual_seed(3)
    ours = MaxGradientPenalty()(disc, real, fake)
    torch.manual_seed(3)
    alpha = torch.rand(4, 1, 1, 1)
    points = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grads,) = torch.autograd.grad(disc(points).sum(), points)
    expected = torch.max(grads.flatten(1).norm(2, dim=1) ** 2)
    torch.testing.assert_close(ours, expected)


@pytest.mark.parametrize("cls", [WGANDivPenalty, MaxGradientPenalty])
def test_real_and_fake_of_different_shapes_are_refused(cls):
    with pytest.raises(GanLossError, match="same shape"):
        cls()(quadratic_disc, torch.zeros(2, 2), torch.zeros(3, 2))


@pytest.mark.parametrize(
    ("kwargs", "where"), [({"k": -1}, "k"), ({"p": 0}, "p"), ({"p": "6"}, "p")]
)
def test_hyperparameters_are_checked(kwargs, where):
    with pytest.raises(ConfigError) as info:
        WGANDivPenalty(**kwargs)
    assert info.value.where == f"WGANDivPenalty.{where}"


def disc_outputs(dtype):
    return {
        "disc": ConvDisc().to(dtype),
        "real_imgs": torch.randn(4, 3, 8, 8, dtype=dtype, requires_grad=True),
        "fake_imgs": torch.randn(4, 3, 8, 8, dtype=dtype, requires_grad=True),
        "loss_scaler": torch.amp.GradScaler("cpu", init_scale=2.0**8),
    }


GAN = {"discriminator": "disc", "real_data": "real_imgs", "fake_data": "fake_imgs"}


@pytest.mark.parametrize("name", ["WGANDivPenalty", "MaxGradientPenalty"])
def test_conformance(name):
    report = check_loss(
        {"type": name, "data_info": {**GAN, "loss_scaler": "loss_scaler"}}, disc_outputs
    )
    assert set(report.passed) == set(CHECKS)

from __future__ import annotations

import math

import pytest
import torch
from _regularizer_nets import LinearDisc, quadratic_disc
from ganloss_regularizers import (
    DRAGANGradientPenalty,
    GradientPenaltyLoss,
    dragan_perturb,
    random_interpolates,
)

from ganlosscore import ConfigError, LossInputError

# LinearDisc's gradient is W at every point, whatever the interpolation:
# pixel (0,0) holds the channel vector (3, 4), norm 5; pixel (0,1) holds 0.
#   pixel: ((5 - 1)^2 + (0 - 1)^2) / 2 = (16 + 1) / 2 = 8.5
#   HWC:   per-sample norm sqrt(9 + 16) = 5, (5 - 1)^2 = 16
GP_EXPECTED = {"pixel": 8.5, "HWC": 16.0}


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
def test_gp_linear_disc_direct(norm_mode, linear_disc, linear_data):
    gp = GradientPenaltyLoss(norm_mode=norm_mode)
    value = gp(linear_disc, linear_data, torch.zeros_like(linear_data))
    assert value.item() == pytest.approx(GP_EXPECTED[norm_mode])


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
def test_gp_linear_disc_data_info(norm_mode, linear_disc, linear_data):
    gp = GradientPenaltyLoss(
        norm_mode=norm_mode,
        data_info={"discriminator": "disc", "real_data": "real_imgs", "fake_data": "fake_imgs"},
    )
    outputs = {"disc": linear_disc, "real_imgs": linear_data, "fake_imgs": -linear_data}
    assert gp(outputs).item() == pytest.approx(GP_EXPECTED[norm_mode])


def test_gp_default_norm_mode_is_pixel(linear_disc, linear_data):
    # MMGeneration's default.
    assert GradientPenaltyLoss().norm_mode == "pixel"
    value = GradientPenaltyLoss()(linear_disc, linear_data, linear_data)
    assert value.item() == pytest.approx(8.5)


def test_gp_mask_renormalises(linear_disc, linear_data):
    # mask keeps pixel (0,0) only, mean(mask) = 1/2; the masked gradient is still
    # (3,4) at (0,0) and 0 at (0,1): pixel norms 5, 0 -> (16 + 1) / 2 = 8.5,
    # divided by mean(mask) = 0.5 -> 17.
    mask = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    value = GradientPenaltyLoss()(linear_disc, linear_data, linear_data, mask=mask)
    assert value.item() == pytest.approx(17.0)


def test_gp_reaches_discriminator_parameters(linear_disc, linear_data):
    # HWC: (||W|| - 1)^2 with ||W|| = 5; d/dW = 2 (5 - 1) W / 5 = 1.6 W per sample,
    # averaged over samples -> 1.6 W = (4.8, 6.4) at pixel (0,0), 0 elsewhere.
    GradientPenaltyLoss(norm_mode="HWC")(linear_disc, linear_data, linear_data).backward()
    expected = 1.6 * linear_disc.weight.detach()
    torch.testing.assert_close(linear_disc.weight.grad, expected)


def test_gp_quadratic_disc_at_interpolates():
    # D = 0.5 sum(x^2) has gradient x; real = fake = 1 gives x_hat = 1 for any alpha:
    # HWC norm sqrt(48) per sample of shape (3, 4, 4): (sqrt(48) - 1)^2 = 49 - 2 sqrt(48).
    ones = torch.ones(2, 3, 4, 4)
    value = GradientPenaltyLoss(norm_mode="HWC")(quadratic_disc, ones, ones)
    assert value.item() == pytest.approx(49 - 2 * 48**0.5)


def test_random_interpolates_lie_between_real_and_fake_per_sample():
    real, fake = torch.ones(3, 2, 2, 2), torch.zeros(3, 2, 2, 2)
    points = random_interpolates(real, fake)
    alpha = points[:, :1, :1, :1]
    assert ((alpha >= 0) & (alpha < 1)).all()
    torch.testing.assert_close(points, alpha.expand_as(points))  # one alpha per sample


def test_gp_shape_mismatch_is_clear(linear_disc):
    with pytest.raises(LossInputError, match="same shape"):
        GradientPenaltyLoss()(linear_disc, torch.zeros(2, 2, 1, 2), torch.zeros(3, 2, 1, 2))


def test_gp_refuses_a_disc_without_graph(linear_data):
    with pytest.raises(LossInputError, match="no_grad"):
        with torch.no_grad():
            GradientPenaltyLoss()(LinearDisc(), linear_data, linear_data)


def test_gp_bad_norm_mode():
    with pytest.raises(ConfigError, match="GradientPenaltyLoss.norm_mode.*'pixel'.*'HWC'"):
        GradientPenaltyLoss(norm_mode="chw")


# -- DRAGAN -------------------------------------------------------------------


@pytest.mark.parametrize(("norm_mode", "expected"), [("HWC", 16.0), ("pixel", 8.5)])
def test_dragan_linear_disc(norm_mode, expected, linear_disc, linear_data):
    # The gradient is W at every perturbed point: the same values as WGAN-GP above.
    value = DRAGANGradientPenalty(norm_mode=norm_mode)(linear_disc, linear_data)
    assert value.item() == pytest.approx(expected)


def test_dragan_target_k(linear_disc, linear_data):
    # k = 5 = ||W||: (5 - 5)^2 = 0; k = 2: (5 - 2)^2 = 9; loss_weight = lambda = 10 -> 90.
    assert DRAGANGradientPenalty(k=5.0)(linear_disc, linear_data).item() == pytest.approx(0.0)
    value = DRAGANGradientPenalty(k=2.0, loss_weight=10.0)(linear_disc, linear_data)
    assert value.item() == pytest.approx(90.0)


def test_dragan_perturbation_range():
    # x_hat = x + alpha * 0.5 * std(x) * u, alpha, u in [0, 1): the offset lies in
    # [0, 0.5 std(x)), std over the whole batch (population std).
    x = torch.arange(24.0).view(2, 3, 2, 2)
    offset = dragan_perturb(x) - x
    bound = 0.5 * x.std(correction=0)
    assert (offset >= 0).all() and (offset < bound).all()
    assert offset.std() > 0  # really random, element-wise
    torch.testing.assert_close(dragan_perturb(x, perturb_scale=0.0), x)


# x holds 1..8: mean 4.5, population variance (8^2 - 1) / 12 = 5.25
DRAGAN_X = torch.arange(1.0, 9.0).view(2, 2, 1, 2)
DRAGAN_STD = math.sqrt(5.25)


def replay_dragan_draws(seed, x):
    """dragan_perturb's draws, in its order: u element-wise, then alpha per sample
    (both drawn in float32, the default dtype)."""
    torch.manual_seed(seed)
    u = torch.rand(x.shape)
    alpha = torch.rand(x.shape[0], 1, 1, 1)
    return u, alpha


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dragan_perturb_replays_the_seed(dtype):
    x = DRAGAN_X.to(dtype)
    torch.manual_seed(21)
    got = dragan_perturb(x, perturb_scale=0.8)
    u, alpha = replay_dragan_draws(21, x)
    # x_hat = x + alpha * c * std(x) * u
    expected = x + alpha.to(dtype) * 0.8 * DRAGAN_STD * u.to(dtype)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("norm_mode", ["HWC", "pixel"])
def test_dragan_linear_disc_is_noise_free_whatever_the_seed(seed, norm_mode, linear_disc):
    # D(x) = W.x has gradient W at every point: (||W|| - 1)^2 = 16 per sample (HWC), and
    # pixel norms 5 and 0 -> ((5 - 1)^2 + (0 - 1)^2) / 2 = 8.5, whatever u and alpha are.
    torch.manual_seed(seed)
    value = DRAGANGradientPenalty(norm_mode=norm_mode, perturb_scale=3.0)(linear_disc, DRAGAN_X)
    assert value.item() == pytest.approx({"HWC": 16.0, "pixel": 8.5}[norm_mode])


@pytest.mark.parametrize("seed", [3, 4])
def test_dragan_quadratic_disc_penalty_by_hand_from_the_seed(seed):
    # D(x) = 0.5 sum(x^2) has gradient x: the penalty is that of the perturbed points
    # themselves, so it depends on the noise. k = 2, c = 0.8.
    torch.manual_seed(seed)
    hwc = DRAGANGradientPenalty(k=2.0, perturb_scale=0.8)(quadratic_disc, DRAGAN_X).item()
    torch.manual_seed(seed)
    pixel = DRAGANGradientPenalty(k=2.0, perturb_scale=0.8, norm_mode="pixel")(
        quadratic_disc, DRAGAN_X
    ).item()

    u, alpha = replay_dragan_draws(seed, DRAGAN_X)
    n, c, _h, w = DRAGAN_X.shape  # h = 1

    def perturbed(i, ch, y, xx):
        offset = alpha[i, 0, 0, 0].item() * 0.8 * DRAGAN_STD * u[i, ch, y, xx].item()
        return DRAGAN_X[i, ch, y, xx].item() + offset

    # HWC: mean over samples of (sqrt(sum over C, H, W of x_hat^2) - k)^2
    per_sample = [
        math.sqrt(sum(perturbed(i, ch, 0, xx) ** 2 for ch in range(c) for xx in range(w)))
        for i in range(n)
    ]
    expected_hwc = sum((norm - 2.0) ** 2 for norm in per_sample) / n
    # pixel: mean over samples and pixels of (sqrt(sum over C of x_hat^2) - k)^2
    per_pixel = [
        math.sqrt(sum(perturbed(i, ch, 0, xx) ** 2 for ch in range(c)))
        for i in range(n)
        for xx in range(w)
    ]
    expected_pixel = sum((norm - 2.0) ** 2 for norm in per_pixel) / (n * w)
    assert hwc == pytest.approx(expected_hwc, rel=1e-5)
    assert pixel == pytest.approx(expected_pixel, rel=1e-5)
    # the noise matters: at the unperturbed x the HWC penalty differs
    # (norms sqrt(1 + 4 + 9 + 16) = sqrt(30) and sqrt(25 + 36 + 49 + 64) = sqrt(174))
    unperturbed = ((math.sqrt(30) - 2) ** 2 + (math.sqrt(174) - 2) ** 2) / 2
    assert abs(hwc - unperturbed) > 1e-2


def test_dragan_bad_hyperparameters():
    with pytest.raises(ConfigError, match="DRAGANGradientPenalty.k"):
        DRAGANGradientPenalty(k=-1.0)
    with pytest.raises(ConfigError, match="perturb_scale"):
        DRAGANGradientPenalty(perturb_scale=float("nan"))

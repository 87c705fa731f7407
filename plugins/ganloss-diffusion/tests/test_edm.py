"""EDMLoss, VPLoss, VELoss: noise levels, weights, reductions and the denoiser call."""

import math

import pytest
import torch
from ganloss_diffusion import DiffusionInputError, EDMLoss, VELoss, VPLoss
from ganloss_diffusion import functional as F

from ganlosscore import ConfigError

IMAGES = torch.full((2, 3, 4, 4), 2.0)  # y = 2 everywhere, so y^2 = 4


def fixed_sigma(loss, value):
    """Replace the loss's noise-level draw with a constant."""
    loss.sample_sigma = lambda images: torch.full(
        [images.shape[0]] + [1] * (images.ndim - 1), value, dtype=images.dtype
    )
    return loss


def zero_denoiser(x, sigma, labels=None):
    return torch.zeros_like(x)


@pytest.mark.parametrize("cls", [EDMLoss, VPLoss, VELoss])
def test_perfect_denoiser_gives_zero(cls):
    torch.manual_seed(0)
    loss = cls()
    assert loss(lambda x, sigma: IMAGES, IMAGES).item() == 0.0


@pytest.mark.parametrize(
    ("cls", "sigma", "weight"),
    [
        # EDM at sigma = 1, sigma_data = 0.5: (1 + 0.25) / (1 * 0.25) = 5
        (EDMLoss, 1.0, 5.0),
        # EDM at sigma = sigma_data = 0.5: 0.5 / 0.0625 = 8
        (EDMLoss, 0.5, 8.0),
        # VP and VE: 1 / sigma^2, at sigma = 2: 1/4
        (VPLoss, 2.0, 0.25),
        (VELoss, 2.0, 0.25),
    ],
)
def test_zero_denoiser_gives_lambda_times_y_squared(cls, sigma, weight):
    loss = fixed_sigma(cls(), sigma)
    # every element: lambda(sigma) * (0 - 2)^2
    assert loss(zero_denoiser, IMAGES).item() == pytest.approx(weight * 4)
    total = fixed_sigma(cls(reduction="sum"), sigma)(zero_denoiser, IMAGES)
    assert total.item() == pytest.approx(weight * 4 * IMAGES.numel())
    # 'batchmean' is the official scale: sum over elements / batch size
    official = fixed_sigma(cls(reduction="batchmean"), sigma)(zero_denoiser, IMAGES)
    assert official.item() == pytest.approx(weight * 4 * IMAGES.numel() / 2)
    elementwise = fixed_sigma(cls(reduction="none"), sigma)(zero_denoiser, IMAGES)
    torch.testing.assert_close(elementwise, torch.full_like(IMAGES, weight * 4))


def test_loss_weight_and_data_info_path():
    loss = fixed_sigma(EDMLoss(loss_weight=0.1, data_info={"denoiser": "net", "images": "x"}), 1.0)
    assert loss({"net": zero_denoiser, "x": IMAGES}).item() == pytest.approx(0.1 * 5 * 4)


def test_denoiser_receives_noisy_images_sigma_and_labels():
    seen = {}

    def denoiser(x, sigma, labels):
        seen.update(x=x, sigma=sigma, labels=labels)
        return x

    torch.manual_seed(3)
    labels = torch.tensor([1, 2])
    value = fixed_sigma(EDMLoss(reduction="none"), 0.5)(denoiser, IMAGES, labels)
    assert seen["labels"] is labels
    assert seen["sigma"].shape == (2, 1, 1, 1)
    noise = seen["x"] - IMAGES
    # returning x leaves the noise n as the error: lambda(0.5) * n^2 = 8 n^2
    torch.testing.assert_close(value, 8 * noise**2)
    # the noise has standard deviation sigma = 0.5 (96 draws: loosely)
    assert 0.3 < noise.std().item() < 0.7


def test_without_labels_the_denoiser_gets_two_arguments():
    EDMLoss()(lambda x, sigma: x, IMAGES)  # would fail if a third argument were passed


def test_sigma_draws_match_the_official_formulas():
    images = torch.zeros(5, 3, 2, 2)
    torch.manual_seed(7)
    edm = EDMLoss().sample_sigma(images)
    torch.manual_seed(7)
    expected = (torch.randn(5, 1, 1, 1) * 1.2 - 1.2).exp()
    torch.testing.assert_close(edm, expected)

    torch.manual_seed(7)
    vp = VPLoss().sample_sigma(images)
    torch.manual_seed(7)
    t = 1 + torch.rand(5, 1, 1, 1) * (1e-5 - 1)
    torch.testing.assert_close(vp, ((0.5 * 19.9 * t**2 + 0.1 * t).exp() - 1).sqrt())

    torch.manual_seed(7)
    ve = VELoss().sample_sigma(images)
    torch.manual_seed(7)
    torch.testing.assert_close(ve, 0.02 * (100 / 0.02) ** torch.rand(5, 1, 1, 1))


def test_sigma_draws_are_the_same_in_float32_and_float64():
    torch.manual_seed(1)
    s32 = EDMLoss().sample_sigma(torch.zeros(4, 2))
    torch.manual_seed(1)
    s64 = EDMLoss().sample_sigma(torch.zeros(4, 2, dtype=torch.float64))
    assert s64.dtype == torch.float64
    torch.testing.assert_close(s64.float(), s32)


def test_ranges_of_the_noise_levels():
    torch.manual_seed(0)
    images = torch.zeros(2000, 1)
    ve = VELoss().sample_sigma(images)
    assert ve.min() >= 0.02 and ve.max() < 100
    vp = VPLoss().sample_sigma(images)
    # t in [1e-5, 1]: sigma from sqrt(e^(0.5*19.9e-10 + 1e-6) - 1) ~ 1e-3 to sqrt(e^10.05 - 1)
    assert vp.min() >= 0.99e-3 and vp.max() <= math.sqrt(math.exp(10.05) - 1)
    # ln sigma ~ N(-1.2, 1.2^2)
    log_sigma = EDMLoss().sample_sigma(images).log()
    assert log_sigma.mean().item() == pytest.approx(-1.2, abs=0.1)
    assert log_sigma.std().item() == pytest.approx(1.2, abs=0.1)


def test_gradients_reach_the_denoiser():
    net = torch.nn.Linear(3, 3)
    loss = VELoss()
    loss(lambda x, sigma: net(x), torch.randn(4, 3)).backward()
    assert net.weight.grad is not None


@pytest.mark.parametrize(
    ("denoiser", "match"),
    [
        (lambda x, sigma: x[:, :1], r"returned shape \(2, 1, 4, 4\)"),
        (lambda x, sigma: 0.0, "returned float"),
        ("unet", "must be callable"),
    ],
)
def test_bad_denoiser(denoiser, match):
    with pytest.raises(DiffusionInputError, match=match):
        EDMLoss()(denoiser, IMAGES)


@pytest.mark.parametrize(
    ("cls", "hyper", "where"),
    [
        (EDMLoss, {"P_std": 0.0}, "P_std"),
        (EDMLoss, {"sigma_data": -1.0}, "sigma_data"),
        (EDMLoss, {"P_mean": float("nan")}, "P_mean"),
        (VPLoss, {"epsilon_t": 1.0}, "epsilon_t"),
        (VPLoss, {"beta_d": 0.0, "beta_min": 0.0}, "beta_d"),
        (VPLoss, {"beta_min": -0.1}, "beta_min"),
        (VELoss, {"sigma_min": 1.0, "sigma_max": 0.5}, "sigma_max"),
        (VELoss, {"sigma_min": 0}, "sigma_min"),
        (VELoss, {"reduction": "avg"}, "reduction"),
    ],
)
def test_bad_config(cls, hyper, where):
    with pytest.raises(ConfigError) as info:
        cls(**hyper)
    assert info.value.where == where


@pytest.mark.parametrize(
    ("cls", "name"), [(EDMLoss, "loss_edm"), (VPLoss, "loss_edm_vp"), (VELoss, "loss_edm_ve")]
)
def test_default_names(cls, name):
    assert cls().loss_name() == name


def test_functional_weights_and_schedules_by_hand():
    # ve_sigma(u) = 0.02 * 5000^u: u = 0 -> 0.02, u = 1 -> 100, u = 0.5 -> sqrt(0.02 * 100)
    got = F.ve_sigma(torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    torch.testing.assert_close(
        got, torch.tensor([0.02, 100.0, math.sqrt(2.0)], dtype=torch.float64)
    )
    # vp_sigma(1) = sqrt(e^(0.5 * 19.9 + 0.1) - 1)
    one = torch.tensor([1.0], dtype=torch.float64)
    assert F.vp_sigma(one).item() == pytest.approx(math.sqrt(math.exp(10.05) - 1))
    # edm_sigma(n) = e^(-1.2 + 1.2 n): n = 1 -> 1
    assert F.edm_sigma(one).item() == pytest.approx(1.0)
    # lambda_EDM(sigma = 1, sigma_data = 1) = 2 / 1
    assert F.edm_weight(one, 1.0).item() == 2.0
    assert F.inverse_square_weight(torch.tensor([0.5])).item() == 4.0

"""EDMLoss, VPLoss, VELoss: noise levels, weights, reductions and the denoiser call."""

import math

import pytest
import torch
from ganloss_diffusion import EDMLoss, VELoss, VPLoss
from ganloss_diffusion import functional as F

from ganlosscore import ConfigError, LossInputError

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
    # the noise is sigma * eps, eps the loss's (only) draw from the seed
    torch.manual_seed(3)
    torch.testing.assert_close(noise, 0.5 * torch.randn_like(IMAGES))


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


def linear_denoiser(x, sigma, labels=None):
    """A fixed linear function of its inputs: D(x; sigma) = 0.6 x - 0.3 sigma (+ 0.1 label)."""
    out = 0.6 * x - 0.3 * sigma
    if labels is not None:
        out = out + 0.1 * labels.view(-1, *[1] * (x.ndim - 1))
    return out


def replay_draws(seed, images, sampler):
    """The loss's random numbers, in its order: one per image from ``sampler`` (drawn in
    float32), then the unit noise like the images."""
    torch.manual_seed(seed)
    first = sampler(images.shape[0], *[1] * (images.ndim - 1)).to(images.dtype)
    return first, torch.randn_like(images)


SEEDED_IMAGES = torch.linspace(-1.0, 1.0, 5 * 2 * 3 * 3).reshape(5, 2, 3, 3)
LABELS = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_labels", [False, True])
def test_edm_loss_by_hand_from_the_replayed_seed(dtype, with_labels):
    # Karras et al. 2022, Table 1 ("Ours"): sigma = exp(P_mean + P_std n), n ~ N(0, 1);
    # lambda = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2;
    # loss = lambda (D(y + sigma eps; sigma) - y)^2, eps ~ N(0, I).
    # Non-default hyperparameters, so each is seen to be used.
    y = SEEDED_IMAGES.to(dtype)
    labels = LABELS if with_labels else None
    p_mean, p_std, sigma_data = -0.5, 0.8, 0.7
    loss = EDMLoss(P_mean=p_mean, P_std=p_std, sigma_data=sigma_data, reduction="none")
    torch.manual_seed(11)
    got = loss(linear_denoiser, y, labels) if with_labels else loss(linear_denoiser, y)

    n, eps = replay_draws(11, y, torch.randn)
    sigma = torch.exp(p_mean + p_std * n)
    weight = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2
    expected = weight * (linear_denoiser(y + sigma * eps, sigma, labels) - y) ** 2
    assert got.dtype == dtype
    torch.testing.assert_close(got, expected)
    # the other reductions of the same draws
    torch.manual_seed(11)
    mean = EDMLoss(P_mean=p_mean, P_std=p_std, sigma_data=sigma_data)(
        linear_denoiser, y, *([labels] if with_labels else [])
    )
    torch.testing.assert_close(mean, expected.mean())


def test_edm_loss_one_element_in_plain_arithmetic():
    # One image of one element, y = 0.5, defaults P_mean = -1.2, P_std = 1.2, sigma_data = 0.5,
    # denoiser D(x; sigma) = 0.6 x - 0.3 sigma; the draws n, eps replayed from the seed.
    y = torch.tensor([[0.5]])
    torch.manual_seed(5)
    got = EDMLoss()(linear_denoiser, y).item()
    n, eps = replay_draws(5, y, torch.randn)
    n, eps = n.item(), eps.item()
    sigma = math.exp(-1.2 + 1.2 * n)
    weight = (sigma**2 + 0.25) / (sigma * 0.5) ** 2
    denoised = 0.6 * (0.5 + sigma * eps) - 0.3 * sigma
    assert got == pytest.approx(weight * (denoised - 0.5) ** 2, rel=1e-5)


def test_vp_loss_by_hand_from_the_replayed_seed():
    # Song et al. 2021 as EDM's Table 1: t = 1 + u (epsilon_t - 1), u ~ U(0, 1);
    # sigma = sqrt(exp(beta_d t^2 / 2 + beta_min t) - 1); lambda = 1 / sigma^2.
    y = SEEDED_IMAGES
    beta_d, beta_min, eps_t = 5.0, 0.5, 1e-3
    torch.manual_seed(12)
    got = VPLoss(beta_d=beta_d, beta_min=beta_min, epsilon_t=eps_t, reduction="none")(
        linear_denoiser, y
    )
    u, eps = replay_draws(12, y, torch.rand)
    t = 1 + u * (eps_t - 1)
    sigma = torch.sqrt(torch.exp(0.5 * beta_d * t**2 + beta_min * t) - 1)
    expected = (linear_denoiser(y + sigma * eps, sigma) - y) ** 2 / sigma**2
    torch.testing.assert_close(got, expected)


def test_ve_loss_by_hand_from_the_replayed_seed():
    # sigma = sigma_min (sigma_max / sigma_min)^u, u ~ U(0, 1); lambda = 1 / sigma^2.
    y = SEEDED_IMAGES
    torch.manual_seed(13)
    got = VELoss(sigma_min=0.1, sigma_max=10.0, reduction="none")(linear_denoiser, y)
    u, eps = replay_draws(13, y, torch.rand)
    sigma = 0.1 * 100.0**u
    expected = (linear_denoiser(y + sigma * eps, sigma) - y) ** 2 / sigma**2
    torch.testing.assert_close(got, expected)


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
    with pytest.raises(LossInputError, match=match):
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
    assert info.value.where == f"{cls.__name__}.{where}"


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

"""MMagic's pixel losses: GradientLoss, MaskedTVLoss, PSNRLoss, ``sample_wise``, and the
element-wise ``weight`` of the Gaussian losses. Every expected value is derived by hand."""

import math

import pytest
import torch
from ganloss_pixelwise import (
    CharbonnierLoss,
    DiscretizedGaussianLogLikelihoodLoss,
    GaussianKLDLoss,
    GradientLoss,
    L1Loss,
    MaskedTVLoss,
    MSELoss,
    PSNRLoss,
)

from ganlosscore import ConfigError, LossInputError, build_loss

PRED = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
TARGET = torch.zeros(2, 2)

# -- sample_wise (MMagic's mask_reduce_loss) ------------------------------------------


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        # sample 0 keeps |1| (weight sum 1), sample 1 keeps |4| (weight sum 1): (1 + 4) / 2
        ([[1.0, 0.0], [0.0, 1.0]], 2.5),
        # a (N, 1) weight counts once per element it covers: sample 0 (1 + 2) * 1 / 2 = 1.5,
        # sample 1 (3 + 4) * 0.5 / (2 * 0.5) = 3.5; mean 2.5
        ([[1.0], [0.5]], 2.5),
        # a sample with zero weight adds 0 / (0 + 1e-12) = 0, not NaN: (1.5 + 0) / 2
        ([[1.0, 1.0], [0.0, 0.0]], 0.75),
    ],
)
def test_l1_sample_wise_is_the_mean_of_per_sample_weighted_means(weight, expected):
    weight = torch.tensor(weight)
    direct = L1Loss(sample_wise=True)(PRED, TARGET, weight)
    mapped = L1Loss(sample_wise=True, data_info={"pred": "p", "target": "t", "weight": "w"})(
        {"p": PRED, "t": TARGET, "w": weight}
    )
    assert direct.item() == pytest.approx(expected)
    assert mapped.item() == pytest.approx(expected)


def test_sample_wise_differs_from_the_element_mean_and_is_the_plain_mean_without_weight():
    weight = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # MSE: samples keep 1 and 16, each over a weight sum of 1: (1 + 16) / 2
    assert MSELoss(sample_wise=True)(PRED, TARGET, weight).item() == pytest.approx(8.5)
    # the default mean divides by the 4 elements: (1 + 16) / 4
    assert MSELoss()(PRED, TARGET, weight).item() == pytest.approx(4.25)
    # no weight: MMagic takes the plain mean, (1 + 2 + 3 + 4) / 4
    assert L1Loss(sample_wise=True)(PRED, TARGET).item() == pytest.approx(2.5)
    # Charbonnier with eps 0 is L1
    assert CharbonnierLoss(eps=0.0, sample_wise=True)(PRED, TARGET, weight).item() == 2.5


# sample_wise's config errors are test_pixel's test_bad_reduction_options_are_config_errors


def test_sample_wise_weight_that_does_not_broadcast_is_a_loss_input_error():
    with pytest.raises(LossInputError, match=r"\(3,\).*\(2, 2\)"):
        L1Loss(sample_wise=True)(PRED, TARGET, torch.ones(3))


# -- GradientLoss --------------------------------------------------------------------


def _impulse(channels=1):
    pred = torch.zeros(1, channels, 3, 3)
    pred[0, 0, 1, 1] = 1.0
    return pred


def test_gradient_loss_of_an_impulse_by_hand():
    # Cross-correlating an impulse at the centre with S_x gives S_x flipped,
    # [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]: sum of |.| = 8; S_y likewise 8.
    pred, target = _impulse(), torch.zeros(1, 1, 3, 3)
    assert GradientLoss(reduction="sum")(pred, target).item() == 16.0
    assert GradientLoss()(pred, target).item() == pytest.approx(16 / 9)
    per_pixel = GradientLoss(reduction="none")(pred, target)
    # corners: |1| + |1|; edge centres: |2| + |0|; the centre: 0 + 0
    assert per_pixel[0, 0].tolist() == [[2.0, 2.0, 2.0], [2.0, 0.0, 2.0], [2.0, 2.0, 2.0]]
    # a second, empty channel adds no gradient but doubles the element count
    assert GradientLoss()(_impulse(2), torch.zeros(1, 2, 3, 3)).item() == pytest.approx(16 / 18)


def test_gradient_loss_matches_mmagics_formula_on_one_channel():
    # MMagic: l1(conv2d(pred, kx), conv2d(target, kx)) + l1(conv2d(pred, ky), ...), padding 1
    torch.manual_seed(0)
    pred, target = torch.randn(2, 1, 5, 6), torch.randn(2, 1, 5, 6)
    weight = torch.rand(2, 1, 5, 6)
    kx = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]).view(1, 1, 3, 3)
    ky = torch.tensor([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]).view(1, 1, 3, 3)
    conv = torch.nn.functional.conv2d
    gx = (conv(pred, kx, padding=1) - conv(target, kx, padding=1)).abs()
    gy = (conv(pred, ky, padding=1) - conv(target, ky, padding=1)).abs()
    expected = (gx * weight).mean() + (gy * weight).mean()
    torch.testing.assert_close(GradientLoss()(pred, target, weight), expected)


def test_gradient_loss_needs_images():
    with pytest.raises(LossInputError, match=r"gradient_loss needs images of shape"):
        GradientLoss()(torch.ones(2, 3), torch.ones(2, 3))


# -- MaskedTVLoss --------------------------------------------------------------------

TV_PRED = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])  # vertical steps 3, 4; horizontal 1, 2


def test_masked_tv_loss_by_hand():
    # no mask: mean vertical step (3 + 4) / 2 plus mean horizontal step (1 + 2) / 2
    assert MaskedTVLoss()(TV_PRED).item() == 5.0
    # mask keeps the top-left pixel: vertical 3 / 1, horizontal 1 / 1
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert MaskedTVLoss()(TV_PRED, mask).item() == pytest.approx(4.0)
    # a one-channel mask over two channels counts once per channel: (3 + 3) / 2 + (1 + 1) / 2
    two = torch.cat([TV_PRED, TV_PRED], dim=1)
    assert MaskedTVLoss()(two, mask).item() == pytest.approx(4.0)
    # an all-zero mask gives 0 (the 1e-12 in the divisor), not NaN
    assert MaskedTVLoss()(TV_PRED, torch.zeros(1, 1, 2, 2)).item() == 0.0


def test_masked_tv_loss_from_a_config():
    loss = build_loss(
        {"type": "MaskedTVLoss", "loss_weight": 2.0, "data_info": {"pred": "img", "mask": "m"}}
    )
    assert loss({"img": TV_PRED, "m": torch.ones(1, 1, 2, 2)}).item() == pytest.approx(10.0)


# -- PSNRLoss ------------------------------------------------------------------------


def test_psnr_loss_by_hand():
    pred = torch.full((2, 1, 2, 2), 0.1)
    pred[1] = 1.0
    # per-sample MSE 0.01 and 1: 10 log10(0.01 + 1e-8) and 10 log10(1 + 1e-8), averaged
    expected = (10 * math.log10(0.01 + 1e-8) + 10 * math.log10(1 + 1e-8)) / 2
    assert PSNRLoss()(pred, torch.zeros(2, 1, 2, 2)).item() == pytest.approx(expected)


def test_psnr_loss_to_y_compares_luma():
    # a pure red difference of 1 is a luma difference of 65.481 / 255 (the +16 cancels)
    pred = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    pred[:, 0] = 1.0
    y_diff = 65.481 / 255
    expected = 10 * math.log10(y_diff**2 + 1e-8)
    loss = PSNRLoss(toY=True)(pred, torch.zeros_like(pred))
    assert loss.item() == pytest.approx(expected)
    # every channel: MSE 1 / 3
    assert PSNRLoss()(pred, torch.zeros_like(pred)).item() == pytest.approx(
        10 * math.log10(1 / 3 + 1e-8)
    )


def test_psnr_loss_bad_input_and_config():
    with pytest.raises(LossInputError, match=r"toY=True needs RGB images"):
        PSNRLoss(toY=True)(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ConfigError, match="PSNRLoss.toY: must be true or false"):
        PSNRLoss(toY="yes")


# -- the Gaussian losses' element-wise weight ------------------------------------------


def test_gaussian_kld_takes_an_element_wise_weight():
    shape = (2, 3)
    outputs = {
        "mean_target": torch.zeros(shape),
        "mean_pred": torch.ones(shape),
        "logvar_target": torch.zeros(shape),
        "logvar_pred": torch.zeros(shape),
        "w": torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]),
    }
    info = {**GaussianKLDLoss.default_data_info, "weight": "w"}
    # 0.5 nats per element; weights 1 and 2 keep 0.5 + 1.0 = 1.5: mean over 6, sum
    assert GaussianKLDLoss(data_info=info)(outputs).item() == pytest.approx(1.5 / 6)
    assert GaussianKLDLoss(data_info=info, reduction="sum")(outputs).item() == pytest.approx(1.5)
    # MMGeneration's tensor loss_weight w: loss_weight * reduce(w * kld) is this weight input
    assert GaussianKLDLoss()(outputs).item() == pytest.approx(0.5)


def test_discretized_log_likelihood_takes_an_element_wise_weight():
    x = torch.zeros(2, 2, dtype=torch.float64)
    weight = torch.tensor([[3.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    # x = mean = 0, unit variance: every element the interior bin's log-probability
    page = lambda v: 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))  # noqa: E731
    log_prob = math.log(page(1 / 255) - page(-1 / 255))
    loss = DiscretizedGaussianLogLikelihoodLoss(data_info=False, reduction="sum")
    assert loss(x, x, x, weight).item() == pytest.approx(3 * log_prob)

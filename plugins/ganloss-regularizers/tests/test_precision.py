"""Mixed precision: enabled GradScalers against hand-written references, half-precision
inputs, running averages in float32, no host reads of the device's counters."""

from __future__ import annotations

import math

import pytest
import torch
from _regularizer_nets import ConvDisc, StyleGenerator
from ganloss_regularizers import (
    GeneratorPathRegularizer,
    LeCamRegularizer,
    R1GradientPenalty,
    path_length_penalty,
    path_lengths,
)

HALF = [pytest.param(torch.float16, id="float16"), pytest.param(torch.bfloat16, id="bfloat16")]
R1_INFO = {"discriminator": "disc", "real_data": "real_imgs", "loss_scaler": "loss_scaler"}
SCALE = 2.0**16


def enabled_scaler() -> torch.amp.GradScaler:
    scaler = torch.amp.GradScaler("cpu", init_scale=SCALE)
    assert scaler.is_enabled() and scaler.get_scale() == SCALE
    return scaler


def r1_by_hand(disc, x, norm_mode, *, scale=1.0):
    """R1 written out: g = d sum(s * D(x)) / dx / s; pixel: mean over (n, h, w) of sum_c g^2,
    HWC: mean over n of sum_(c, h, w) g^2."""
    point = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad((disc(point) * scale).sum(), point, create_graph=True)
    g = g.float() / scale
    squares = g.pow(2)
    if norm_mode == "pixel":
        return squares.sum(dim=1).mean()
    return squares.flatten(1).sum(dim=1).mean()


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
def test_r1_with_an_enabled_grad_scaler_equals_the_unscaled_penalty(norm_mode):
    torch.manual_seed(0)
    disc, x = ConvDisc(), torch.randn(4, 3, 8, 8)
    r1 = R1GradientPenalty(norm_mode=norm_mode, data_info=R1_INFO)
    value = r1({"disc": disc, "real_imgs": x, "loss_scaler": enabled_scaler()})
    reference = r1_by_hand(disc, x, norm_mode)
    torch.testing.assert_close(value, reference)
    # the same gradients for D (the head's bias shifts D's output only: no gradient)
    params = [disc.conv.weight, disc.conv.bias, disc.head.weight]
    for got, expected in zip(
        torch.autograd.grad(value, params), torch.autograd.grad(reference, params)
    ):
        torch.testing.assert_close(got, expected)


def test_r1_under_autocast_with_an_enabled_grad_scaler():
    # MMGeneration's recipe under autocast: differentiate scale * D(x), divide by the scale.
    torch.manual_seed(0)
    disc, x = ConvDisc(), torch.randn(4, 3, 8, 8)
    unscaled_float32 = r1_by_hand(disc, x, "pixel")
    r1 = R1GradientPenalty(data_info=R1_INFO)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = r1({"disc": disc, "real_imgs": x, "loss_scaler": enabled_scaler()})
        scaled_by_hand = r1_by_hand(disc, x, "pixel", scale=SCALE)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, scaled_by_hand, rtol=1e-3, atol=0.0)
    # bfloat16 convolutions: within a few bfloat16 steps (2^-8) of the float32 penalty
    assert value.item() == pytest.approx(unscaled_float32.item(), rel=3e-2)


def test_r1_in_float16_keeps_what_the_grad_scaler_protected():
    # D(x) = sum(b * (a * x)), a = b = 1e-3 in float16: dD/dx = a * b ~ 1e-6, a subnormal in
    # float16. The scaler (2^10 here; see below) makes it ab * 2^10 ~ 1e-3 during the backward
    # pass; unscaled in float16 it fell back to a subnormal ~1e-6, and its square (1e-12) to 0.
    # Unscaled in float32: HWC R1 = sum over the 3 * 2 * 2 = 12 elements of (ab)^2.
    # (The default 2^16 would overflow at once: the seed gradient of a float16 output,
    # 1 * 2^16, is beyond float16's 65504, so the penalty is inf and GradScaler skips the step
    # and halves its scale, as for any overflow.)
    a = torch.tensor(1e-3, dtype=torch.float16)
    b = torch.tensor(1e-3, dtype=torch.float16)
    expected = 12 * (a.double() * b.double()).item() ** 2

    def disc(x):
        return (b * (a * x)).sum()

    x = torch.ones(2, 3, 2, 2, dtype=torch.float16)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    value = R1GradientPenalty(norm_mode="HWC")(disc, x, loss_scaler=scaler)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("dtype", HALF)
def test_r1_squares_small_half_precision_gradients_in_float32(dtype):
    # dD/dx = c * c ~ 1e-4 everywhere (c = 1e-2, the product rounded to the dtype by the
    # backward pass); its square 1e-8 is 0 in float16 (smallest subnormal 6e-8).
    # Pixel R1: mean over pixels of the sum over 3 channels = 3 g^2.
    c = torch.tensor(1e-2, dtype=dtype)
    g = (c * c).double().item()
    expected = 3 * g**2

    def disc(x):
        return (c * (c * x)).sum()

    value = R1GradientPenalty()(disc, torch.ones(2, 3, 2, 2, dtype=dtype))
    assert value.item() == pytest.approx(expected, rel=1e-3)


def path_penalty_by_hand(gen, n, *, decay=0.01, eps=1e-8, scale=1.0):
    """StyleGAN2's path length penalty written out, from a fresh running mean of 0.

    y ~ N(0, I) / sqrt(HW) drawn after the generator ran (it draws nothing);
    g = d sum(s * img * y) / dw / s; l = sqrt(mean over L of sum over D of g^2 + eps);
    a = 0 + decay * (mean(l) - 0); penalty mean((l - a)^2).
    """
    out = gen(None, num_batches=n, return_latents=True)
    img, w = out["fake_img"], out["latent"]
    y = torch.randn(img.shape) / math.sqrt(img.shape[2] * img.shape[3])
    (g,) = torch.autograd.grad((img * y).sum() * scale, w, create_graph=True)
    g = g.float() / scale
    lengths = torch.sqrt(g.pow(2).sum(dim=-1).mean(dim=1) + eps)
    a = decay * lengths.mean()
    return ((lengths - a) ** 2).mean(), a


@pytest.mark.parametrize("autocast", [False, True], ids=["float32", "autocast"])
def test_path_regularizer_with_an_enabled_grad_scaler_equals_the_unscaled_penalty(autocast):
    torch.manual_seed(0)
    gen = StyleGenerator(torch.randn(8, 4))
    reg = GeneratorPathRegularizer(
        data_info={"generator": "gen", "num_batches": "bs", **{"loss_scaler": "loss_scaler"}}
    )
    torch.manual_seed(1)
    reference, running_mean = path_penalty_by_hand(gen, 8)
    context = torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast)
    torch.manual_seed(1)
    with context:
        value = reg({"gen": gen, "bs": 8, "loss_scaler": enabled_scaler()})
    # float32 throughout: the same value; under autocast, bfloat16 linear layers
    tolerance = {"rtol": 3e-2, "atol": 1e-4} if autocast else {}
    torch.testing.assert_close(value, reference, **tolerance)
    torch.testing.assert_close(reg.mean_path_length, running_mean.detach(), **tolerance)
    assert value.dtype == reg.mean_path_length.dtype == torch.float32
    if not autocast:
        params = list(gen.parameters())
        for got, expected in zip(
            torch.autograd.grad(value, params), torch.autograd.grad(reference, params)
        ):
            torch.testing.assert_close(got, expected)


def test_path_lengths_of_a_zero_gradient_in_float16_have_a_zero_gradient():
    # l = sqrt(|g|^2 + eps), eps = 1e-8, exists so that g = 0 has the derivative 0 rather than
    # 0 / 0; 1e-8 is 0 in float16. The image 0 * w^2 has the gradient 0 * 2w = 0, in the graph.
    w = torch.ones(2, 4, dtype=torch.float16, requires_grad=True)
    lengths = path_lengths((0.0 * w**2).view(2, 1, 2, 2), w, torch.ones(2, 1, 2, 2))
    assert lengths.dtype == torch.float32
    torch.testing.assert_close(lengths, torch.full((2,), 1e-4))  # sqrt(1e-8)
    (grad,) = torch.autograd.grad(lengths.sum(), w)
    assert torch.equal(grad, torch.zeros_like(w))


@pytest.mark.parametrize("dtype", HALF)
def test_path_length_running_mean_moves_in_float32(dtype):
    # a = 1 + 0.01 * (1.5 - 1) = 1.005; in bfloat16 1.005 rounds to 1.0 or 1.0078 (its spacing
    # at 1 is 2^-7), so the running mean stalled or jumped. Penalty (1.5 - 1.005)^2 = 0.245025.
    penalty, running_mean = path_length_penalty(
        torch.full((4,), 1.5, dtype=dtype), torch.tensor(1.0), decay=0.01
    )
    assert running_mean.dtype == penalty.dtype == torch.float32
    assert running_mean.item() == pytest.approx(1.005, rel=1e-6)
    assert penalty.item() == pytest.approx(0.245025, rel=1e-5)


@pytest.mark.parametrize("cast", ["half", "bfloat16"])
def test_running_averages_stay_float32_when_the_module_is_cast_to_half(cast):
    lecam = LeCamRegularizer()
    reg = GeneratorPathRegularizer()
    with torch.no_grad():
        lecam.ema_real.fill_(1.0001)  # not a bfloat16 or float16 value
        reg.mean_path_length.fill_(1.0001)
    getattr(lecam, cast)()
    getattr(reg, cast)()
    for buffer in (lecam.ema_real, reg.mean_path_length):
        assert buffer.dtype == torch.float32
        assert buffer.item() == pytest.approx(1.0001, rel=1e-7)  # kept, not rounded and back
    assert lecam.ema_fake.dtype == torch.float32 and lecam.num_updates.dtype == torch.long
    # widening casts and device moves still apply
    assert lecam.double().ema_real.dtype == torch.float64
    assert lecam.to("meta").ema_real.device.type == "meta"


def test_lecam_averages_of_a_half_precision_model_match_float32():
    # 1 update to 1.0 (decay 0 for the first), then 49 towards 1.5 with decay 0.99:
    # ema = 1.5 - 0.5 * 0.99^49 = 1.19444. Kept in bfloat16, each step 0.01 * gap rounds.
    lecam = LeCamRegularizer(decay=0.99).to(torch.bfloat16)
    zeros = torch.zeros(4, dtype=torch.bfloat16)
    for step in range(50):
        lecam(torch.full((4,), 1.0 if step == 0 else 1.5, dtype=torch.bfloat16), zeros)
    assert lecam.ema_real.item() == pytest.approx(1.5 - 0.5 * 0.99**49, rel=1e-5)


def test_lecam_update_reads_nothing_on_the_host():
    # On the meta device (a stand-in for a GPU) every value is unknown: reading num_updates to
    # choose the decay (a GPU synchronisation at every step) would fail here.
    lecam = LeCamRegularizer(ema_start=1).to("meta")
    real = torch.zeros(4, 1, device="meta", requires_grad=True)
    value = lecam(real, torch.zeros(4, 1, device="meta"))
    assert value.device.type == "meta" and value.requires_grad
    assert lecam.ema_real.device.type == "meta"


def test_lecam_first_updates_use_decay_zero_then_decay():
    # ema_start = 2: the first two updates take the batch mean (1, then 3), the third moves
    # by (1 - 0.5) towards 5: 3 + 0.5 * (5 - 3) = 4.
    lecam = LeCamRegularizer(decay=0.5, ema_start=2)
    zeros = torch.zeros(2)
    for value, expected in ((1.0, 1.0), (3.0, 3.0), (5.0, 4.0)):
        lecam(torch.full((2,), value), zeros)
        assert lecam.ema_real.item() == expected
    assert lecam.num_updates.item() == 3

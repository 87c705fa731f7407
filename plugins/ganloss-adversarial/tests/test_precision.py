"""Label targets with float16 / bfloat16 predictions keep their value (0.9 is not 0.8984)."""

import math

import pytest
import torch
from ganloss_adversarial import DiscAdversarialLoss, GANLoss

HALF = [pytest.param(torch.float16, id="float16"), pytest.param(torch.bfloat16, id="bfloat16")]


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("dtype", HALF)
def test_smoothed_real_label_in_binary_cross_entropy(dtype):
    # BCE(x, 0.9) = 0.9 softplus(-x) + 0.1 softplus(x), with x the logit as the dtype holds it;
    # fake term softplus(0) = log 2, label-free, so in the dtype (rounded to it).
    # In bfloat16 the label was 0.8984375: 1% off at x = 2.2.
    # d/dx BCE = sigmoid(x) - 0.9 (5.6e-4 at x = 2.203125; 2.1e-3 with the rounded label).
    pred_real = torch.tensor([2.2], dtype=dtype, requires_grad=True)
    x = pred_real.item()
    loss = DiscAdversarialLoss("ns", real_label=0.9)(pred_real, torch.zeros(1, dtype=dtype))
    fake_term = torch.tensor(math.log(2.0)).to(dtype).item()
    expected = 0.9 * softplus(-x) + 0.1 * softplus(x) + fake_term
    assert loss.dtype == torch.float32  # as autocast runs binary_cross_entropy_with_logits
    assert loss.item() == pytest.approx(expected, rel=1e-4)
    loss.backward()
    assert pred_real.grad.item() == pytest.approx(1 / (1 + math.exp(-x)) - 0.9, rel=1e-2)


@pytest.mark.parametrize("dtype", HALF)
def test_smoothed_real_label_in_least_squares(dtype):
    # pred_real = 0.9 as the dtype holds it (0.8984375 in bfloat16, 0.89990234375 in float16):
    # (x - 0.9)^2 = 2.44e-6 (bfloat16), 9.5e-9 (float16); the fake term 0^2 = 0.
    # With the label rounded to bfloat16 too the loss was 0, and its gradient 2 (x - 0.9) too.
    # (In float32 the label is 0.9 to 2.4e-8, 2.4e-4 of the float16 difference: rel 1e-3.)
    pred_real = torch.tensor([0.9], dtype=dtype, requires_grad=True)
    x = pred_real.item()
    loss = DiscAdversarialLoss("lsgan", real_label=0.9)(pred_real, torch.zeros(1, dtype=dtype))
    assert loss.item() == pytest.approx((x - 0.9) ** 2, rel=1e-3)
    loss.backward()
    assert pred_real.grad.item() == pytest.approx(2 * (x - 0.9), rel=1e-2)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize(
    ("gan_type", "term"),
    [
        # vanilla, real target 0.9: BCE(x, 0.9)
        ("vanilla", lambda x: 0.9 * softplus(-x) + 0.1 * softplus(x)),
        # lsgan, real target 0.9: (x - 0.9)^2
        ("lsgan", lambda x: (x - 0.9) ** 2),
    ],
)
def test_gan_loss_label_values(dtype, gan_type, term):
    pred = torch.tensor([2.2], dtype=dtype)
    value = GANLoss(gan_type, real_label_val=0.9)(pred, target_is_real=True, is_disc=True)
    assert value.item() == pytest.approx(term(pred.item()), rel=1e-4)


def test_under_autocast_label_terms_stay_float32():
    # A bfloat16 discriminator output under autocast: before, the least-squares real term was
    # computed in bfloat16 with the label rounded to 0.8984375, and the value was bfloat16.
    net = torch.nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(0.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pred_real = net(torch.full((1, 1), 0.9))  # bfloat16: 0.8984375
        loss = DiscAdversarialLoss("lsgan", real_label=0.9)(pred_real, pred_real * 0)
    assert pred_real.dtype == torch.bfloat16
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx((0.8984375 - 0.9) ** 2, rel=1e-4)

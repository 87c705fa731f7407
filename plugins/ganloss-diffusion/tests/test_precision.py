"""float16 and bfloat16 inputs: the EDM family with a half-precision denoiser, the DDPM bound."""

import math

import pytest
import torch
from ganloss_diffusion import DDPMVLBLoss, EDMLoss, VELoss, VPLoss
from ganloss_diffusion import functional as F

HALF = [pytest.param(torch.float16, id="float16"), pytest.param(torch.bfloat16, id="bfloat16")]
IMAGES = torch.linspace(-1.0, 1.0, 4 * 3 * 2 * 2).reshape(4, 3, 2, 2)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("cls", [EDMLoss, VPLoss, VELoss])
def test_half_precision_denoiser_gets_inputs_of_its_dtype(cls, dtype):
    # A float16 / bfloat16 network cannot take float32 inputs (a convolution refuses them);
    # the noisy images were float32 (images + noise * float32 sigma) before.
    torch.manual_seed(0)
    net = torch.nn.Conv2d(3, 3, 1).to(dtype)
    seen = []

    def denoiser(x, sigma):
        seen.append(x.dtype)
        return net(x)

    images = IMAGES.to(dtype).requires_grad_(True)
    value = cls()(denoiser, images)
    assert seen == [dtype]
    # sigma and lambda(sigma) stay float32 (1 / sigma^2 reaches 1e6 for VP), so the value too
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert all(torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in net.parameters())
    assert torch.isfinite(images.grad).all()


@pytest.mark.parametrize("dtype", HALF)
def test_half_precision_images_see_the_draws_of_float32_images(dtype):
    # Replay the draws in float32, in the loss's order: n ~ N(0, 1) per image, then the unit
    # noise eps ~ N(0, I) like the images. With the identity as denoiser,
    # D(y + sigma eps) - y = round(y + sigma eps) - y, so the loss is
    # mean(lambda(sigma) (round_dtype(y + sigma eps) - y)^2), lambda = (s^2 + 0.25) / (0.5 s)^2.
    y = IMAGES.to(dtype)
    torch.manual_seed(3)
    got = EDMLoss()(lambda x, sigma: x, y)
    torch.manual_seed(3)
    n = torch.randn(4, 1, 1, 1)
    eps = torch.randn(4, 3, 2, 2)
    sigma = torch.exp(-1.2 + 1.2 * n)
    noisy = (y.float() + sigma * eps).to(dtype).float()
    expected = ((sigma**2 + 0.25) / (0.5 * sigma) ** 2 * (noisy - y.float()) ** 2).mean()
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("dtype", HALF)
def test_ddpm_vlb_terms_in_half_precision(dtype):
    # One element per sample, so each term is its own per-sample value, in bits.
    # t = 0, x = 1 (the top bin), mean 0, logvar -3: -log2(1 - Phi(z)), z = (1 - 1/255) e^1.5,
    # Phi by Page's tanh approximation: 13.4716 nats = 19.4356 bits. Before float32 was
    # used inside, 1 - Phi(z) rounded to 0 (-inf in float16, a clamped 27.6 nats in bfloat16).
    # t = 5, equal means, logvars -3 (target) and -3.0625 (pred):
    # KL = 0.5 (e^0.0625 - 1.0625) nats = 9.972e-4 nats = 1.4387e-3 bits (0 in bfloat16 before).
    z = (1.0 - 1.0 / 255.0) * math.exp(1.5)
    phi = 0.5 * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))
    expected = [
        -math.log(1.0 - phi) / math.log(2.0),
        0.5 * (math.exp(0.0625) - 1.0625) / math.log(2.0),
    ]

    def column(*values):
        return torch.tensor(values).reshape(2, 1).to(dtype)

    loss = DDPMVLBLoss(data_info=False, reduction="none")
    got = loss(
        column(0.0, 0.0),  # mean_pred
        column(0.0, 0.0),  # mean_target
        column(-3.0, -3.0625),  # logvar_pred
        column(-3.0, -3.0),  # logvar_target
        column(1.0, 0.5),  # x
        torch.tensor([0, 5]),
    )
    assert got.dtype == dtype
    assert got.tolist() == pytest.approx(expected, rel=1e-2)


def test_float32_draws_are_unchanged():
    # The noise of float32 images is what randn_like drew before: the same seed, the same loss.
    torch.manual_seed(4)
    got = VELoss(reduction="none")(lambda x, sigma: x, IMAGES)
    torch.manual_seed(4)
    sigma = F.ve_sigma(torch.rand(4, 1, 1, 1))
    noise = torch.randn_like(IMAGES)
    # lambda = 1 / sigma^2; identity denoiser: D(y + sigma eps) - y
    torch.testing.assert_close(got, ((IMAGES + sigma * noise) - IMAGES) ** 2 / sigma**2)

"""Categorical codes read off the generator's noise (``LatentCodes``, ``latent_codes``)."""

from __future__ import annotations

import pytest
import torch
from ganloss_toybench.config import resolve_settings
from ganloss_toybench.data import load_dataset
from ganloss_toybench.models import ImageMLPGenerator, LatentCodes
from ganloss_toybench.training import build_networks

from ganlosscore import ConfigError


def test_each_code_is_the_equal_probability_bin_of_its_coordinate():
    # Phi(-0.5) = 0.3085, Phi(0.3) = 0.6179, Phi(2.0) = 0.9772, by hand from a normal table:
    # bins of 10 are 3, 6, 9; bins of 2 are 0, 1, 1.
    z = torch.tensor([[-0.5, 0.3], [0.3, 2.0], [2.0, -0.5]])
    out = LatentCodes([10, 2], scale=1.0)(z)
    assert torch.equal(out[:, :2], z)
    assert out[:, 2:12].argmax(1).tolist() == [3, 6, 9]
    assert out[:, 12:].argmax(1).tolist() == [1, 1, 0]
    assert out[:, 2:].sum(1).tolist() == [2.0, 2.0, 2.0]  # one hot per code


def test_codes_are_uniform_and_independent():
    z = torch.randn(200_000, 4, generator=torch.Generator().manual_seed(0))
    out = LatentCodes([10, 10, 10])(z)
    codes = [out[:, 4 + 10 * i : 14 + 10 * i].argmax(1) for i in range(3)]
    for code in codes:  # each category 1/10, within 5 standard errors of the count
        counts = torch.bincount(code, minlength=10).double()
        assert (counts - 20_000).abs().max() < 5 * (200_000 * 0.1 * 0.9) ** 0.5
    pairs = torch.bincount(codes[0] * 10 + codes[1], minlength=100).double()
    assert (pairs - 2_000).abs().max() < 5 * (200_000 * 0.01 * 0.99) ** 0.5


def test_the_noise_alone_decides_the_sample_and_its_gradient_flows_through_z():
    gen = ImageMLPGenerator(8, [16], channels=3, codes=[10, 10, 10])
    z = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(gen(z), gen(z.clone()))
    out = gen(None, num_batches=5, return_latents=True)
    assert isinstance(out, dict)
    (grad,) = torch.autograd.grad(out["fake_img"].sum(), out["latent"])
    assert grad.shape == (5, 8) and bool(grad.abs().sum() > 0)


def test_the_image_default_reads_six_codes_of_ten_and_the_2d_default_none():
    digits = resolve_settings({}, {"dataset": "digits"})
    assert digits.latent_codes == (10,) * 6
    assert resolve_settings({}, {"dataset": "ring"}).latent_codes == ()
    gen, _ = build_networks(digits, load_dataset("digits"))
    assert isinstance(gen.net[0], LatentCodes)
    assert gen.net[1][0].in_features == digits.latent_dim + 60


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"latent_codes": [10, 1]}, r"latent_codes\[1\]: must be an integer in \[2, 1024\]"),
        ({"latent_codes": 10}, r"latent_codes: must be a list of at most 64 code sizes"),
        ({"latent_codes": [10] * 3, "latent_dim": 2}, r"3 codes need latent_dim >= 3, got 2"),
        ({"latent_codes": [4], "conditional": True}, "reads its labels, not latent codes"),
    ],
)
def test_bad_codes_say_what_would_be_right(section, message):
    with pytest.raises(ConfigError, match=message):
        resolve_settings(section)


def test_every_unconditional_generator_reads_the_codes():
    ring = resolve_settings({"latent_codes": [4, 4]}, {"dataset": "ring"})
    gen, _ = build_networks(ring, load_dataset("ring"))
    assert gen.net[1].in_features == 2 + 8 and gen(torch.zeros(3, 2)).shape == (3, 2)
    conv = resolve_settings({"images": {"networks": "conv"}}, {"dataset": "stacked-digits"})
    gen, _ = build_networks(conv, load_dataset("stacked-digits"))
    assert gen.net[1].in_features == 64 + 60 and gen(torch.zeros(3, 64)).shape == (3, 3, 8, 8)

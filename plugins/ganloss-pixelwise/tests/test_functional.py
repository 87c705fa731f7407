"""The pure functions, against values derived by hand."""

import math

import pytest
import torch
from ganloss_pixelwise import functional as F

from ganlosscore import LossInputError

LN2 = math.log(2.0)


def _page_phi(x: float) -> float:
    # Page's approximation, written out: 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
    return 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def test_elementwise_pixel_losses():
    pred = torch.tensor([1.0, -2.0, 3.0])
    target = torch.tensor([0.0, 0.0, 1.0])
    # differences 1, -2, 2
    assert F.l1_loss(pred, target).tolist() == [1.0, 2.0, 2.0]
    assert F.mse_loss(pred, target).tolist() == [1.0, 4.0, 4.0]
    # sqrt(d^2 + 5): sqrt(6), 3, 3
    assert torch.allclose(
        F.charbonnier_loss(pred, target, eps=5.0), torch.tensor([math.sqrt(6.0), 3.0, 3.0])
    )


def test_charbonnier_default_eps_is_tiny():
    # sqrt(0 + 1e-12) = 1e-6: the loss at a perfect prediction
    value = F.charbonnier_loss(
        torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    )
    assert value.item() == pytest.approx(1e-6)


@pytest.mark.parametrize("fn", [F.l1_loss, F.mse_loss, F.charbonnier_loss])
def test_pixel_losses_refuse_broadcasting(fn):
    with pytest.raises(LossInputError, match=r"\(2, 3\) and \(3,\)"):
        fn(torch.zeros(2, 3), torch.zeros(3))


def test_gaussian_kld_by_hand():
    zero, one = torch.zeros(1), torch.ones(1)
    # Means 0 and 1, unit variances: KL = (mu1 - mu2)^2 / 2 = 0.5 nats
    assert F.gaussian_kld(zero, one, zero, zero).item() == pytest.approx(0.5)
    # In bits: 0.5 / ln 2
    assert F.gaussian_kld(zero, one, zero, zero, base="2").item() == pytest.approx(0.5 / LN2)
    # Same distribution: 0
    assert F.gaussian_kld(one, one, zero, zero).item() == pytest.approx(0.0)
    # Equal means, target var 1 (logvar 0), pred var e (logvar 1):
    # 0.5 * (-1 + 1 - 0 + e^(0 - 1) + 0) = 0.5 / e
    assert F.gaussian_kld(zero, zero, zero, one).item() == pytest.approx(0.5 / math.e)
    # Target var e, pred var 1: 0.5 * (-1 + 0 - 1 + e) = (e - 2) / 2
    assert F.gaussian_kld(zero, zero, one, zero).item() == pytest.approx((math.e - 2) / 2)


def test_gaussian_kld_rejects_bad_base():
    zero = torch.zeros(1)
    with pytest.raises(LossInputError, match="'e' \\(nats\\) or '2' \\(bits\\)"):
        F.gaussian_kld(zero, zero, zero, zero, base="10")


def test_approx_gaussian_cdf():
    x = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64)
    phi = F.approx_gaussian_cdf(x)
    assert phi[0].item() == pytest.approx(0.5)
    # tanh is odd, so Phi(x) + Phi(-x) = 1
    assert (phi[1] + phi[2]).item() == pytest.approx(1.0)
    # Close to the exact CDF: Phi(1) = 0.841345
    assert phi[1].item() == pytest.approx(0.841345, abs=1e-3)
    assert phi[1].item() == pytest.approx(_page_phi(1.0))


def test_discretized_log_likelihood_interior_bin():
    x = torch.zeros(1, dtype=torch.float64)
    # Interior bin, mean 0, std 1: log(Phi(a) - Phi(-a)) with a = 1/255,
    # and Phi(a) - Phi(-a) = tanh(sqrt(2/pi) (a + 0.044715 a^3)) under Page's approximation.
    a = 1 / 255
    expected = math.log(_page_phi(a) - _page_phi(-a))
    assert expected == pytest.approx(
        math.log(math.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))
    )
    got = F.discretized_gaussian_log_likelihood(x, x, x)
    assert got.item() == pytest.approx(expected)
    assert got.item() < 0  # a log-likelihood, not its negative
    bits = F.discretized_gaussian_log_likelihood(x, x, x, base="2")
    assert bits.item() == pytest.approx(expected / LN2)


def test_discretized_log_likelihood_edge_bins():
    x = torch.tensor([1.0, -1.0], dtype=torch.float64)
    mean = torch.tensor([0.5, -0.5], dtype=torch.float64)
    logvar = torch.tensor([0.0, 0.0], dtype=torch.float64)
    got = F.discretized_gaussian_log_likelihood(x, mean, logvar)
    # x = 1: log(1 - Phi(1 - 0.5 - 1/255)); x = -1: log(Phi(-1 + 0.5 + 1/255))
    b = 0.5 - 1 / 255
    assert got[0].item() == pytest.approx(math.log(1 - _page_phi(b)))
    assert got[1].item() == pytest.approx(math.log(_page_phi(-b)))


def test_discretized_log_likelihood_scales_with_std():
    # std e^(logvar/2) = 2 halves the standardized bounds: log(Phi(a/2) - Phi(-a/2))
    x = torch.zeros(1, dtype=torch.float64)
    logvar = torch.full((1,), math.log(4.0), dtype=torch.float64)
    a = 0.5 / 255
    got = F.discretized_gaussian_log_likelihood(x, x, logvar)
    assert got.item() == pytest.approx(math.log(_page_phi(a) - _page_phi(-a)))


def test_gram_matrix_by_hand():
    feats = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])  # N=1, C=2, M=2
    # rows (1, 2) and (3, 4): [[1+4, 3+8], [3+8, 9+16]] / (C * M = 4)
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4
    assert torch.allclose(F.gram_matrix(feats), expected)
    # spatial dims are flattened: (1, 2, 1, 2) gives the same
    assert torch.allclose(F.gram_matrix(feats.reshape(1, 2, 1, 2)), expected)


def test_gram_matrix_needs_spatial_dims():
    with pytest.raises(LossInputError, match=r"\(N, C, \*spatial\)"):
        F.gram_matrix(torch.zeros(2, 3))

"""float16 and bfloat16 inputs: values near the exact ones, in the same dtype, finite gradients."""

import math

import pytest
import torch
from ganloss_pixelwise import CharbonnierLoss, DiscretizedGaussianLogLikelihoodLoss
from ganloss_pixelwise import functional as F

HALF = [pytest.param(torch.float16, id="float16"), pytest.param(torch.bfloat16, id="bfloat16")]


def page_cdf(z: float) -> float:
    """Page's tanh approximation of the normal CDF, by hand (as approx_gaussian_cdf)."""
    return 0.5 * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))


@pytest.mark.parametrize("dtype", HALF)
def test_charbonnier_gradient_at_zero_error_is_zero_not_nan(dtype):
    # sqrt(d^2 + eps) with eps = 1e-12: in float16 1e-12 rounds to 0, and the
    # derivative d / sqrt(d^2 + eps) at d = 0 would be 0 / 0. Computed in float32 it is
    # 0 / 1e-6 = 0, and the value sqrt(1e-12) = 1e-6.
    pred = torch.zeros(4, dtype=dtype, requires_grad=True)
    value = CharbonnierLoss()(pred, torch.zeros(4, dtype=dtype))
    assert value.dtype == dtype
    assert value.item() == pytest.approx(1e-6, rel=2e-2)
    value.backward()
    assert torch.equal(pred.grad, torch.zeros(4, dtype=dtype))


@pytest.mark.parametrize("dtype", HALF)
def test_gaussian_kld_of_close_variances_does_not_cancel_to_zero(dtype):
    # Equal means, log-variances v_t = -3, v_p = -3.0625 (both exact in either dtype):
    # KL = 0.5 * (-1 + v_p - v_t + e^(v_t - v_p)) = 0.5 * (e^0.0625 - 1.0625) ~ 9.97e-4.
    # Summed in bfloat16, -1.0625 + e^0.0625 (rounded to 1.0625) gives exactly 0.
    zero = torch.zeros(1, dtype=dtype)
    kld = F.gaussian_kld(
        zero, zero, torch.tensor([-3.0], dtype=dtype), torch.tensor([-3.0625]).to(dtype)
    )
    assert kld.dtype == dtype
    assert kld.item() == pytest.approx(0.5 * (math.exp(0.0625) - 1.0625), rel=1e-2)


@pytest.mark.parametrize("dtype", HALF)
def test_discretized_log_likelihood_of_an_edge_bin_in_half_precision(dtype):
    # x = 1 is the top bin, log(1 - Phi((x - 1/255 - mean) / sigma)); mean 0, logvar -3, so
    # z = (1 - 1/255) * e^1.5 ~ 4.46 and 1 - Phi(z) ~ 1.4e-6: Phi(z) rounds to 1 in half
    # precision, which left log(clamp(0, 1e-12)) = -27.6 in bfloat16 and log(0) = -inf in
    # float16 (1e-12 is 0 there).
    z = (1.0 - 1.0 / 255.0) * math.exp(1.5)
    expected = math.log(1.0 - page_cdf(z))  # -13.47
    x, mean, logvar = (torch.tensor([v], dtype=dtype) for v in (1.0, 0.0, -3.0))
    got = F.discretized_gaussian_log_likelihood(x, mean, logvar)
    assert got.dtype == dtype
    assert got.item() == pytest.approx(expected, rel=1e-2)


@pytest.mark.parametrize("dtype", HALF)
def test_discretized_log_likelihood_loss_of_an_inner_bin(dtype):
    # x = mean = 0, logvar = 0: log(Phi(1/255) - Phi(-1/255)) = log(2 Phi(1/255) - 1) ~ -5.767.
    # The two CDFs differ by 0.3%, less than a bfloat16 step at 0.5 (0.4%).
    expected = math.log(2.0 * page_cdf(1.0 / 255.0) - 1.0)
    loss = DiscretizedGaussianLogLikelihoodLoss(data_info=False)
    zeros = torch.zeros(2, 3, dtype=dtype)
    logvar = zeros.clone().requires_grad_(True)
    value = loss(zeros, zeros, logvar)
    assert value.dtype == dtype
    assert value.item() == pytest.approx(expected, rel=1e-2)
    value.backward()
    assert torch.isfinite(logvar.grad).all()


def test_gram_matrix_of_large_features_does_not_overflow_float16():
    # 4 channels of 64 x 64 values 8: each entry sum_m 8 * 8 / (C * M) = 64 * 4096 / 16384 = 16;
    # the raw sum 262144 is beyond float16's 65504.
    gram = F.gram_matrix(torch.full((1, 4, 64, 64), 8.0, dtype=torch.float16))
    assert gram.dtype == torch.float16
    assert torch.equal(gram, torch.full((1, 4, 4), 16.0, dtype=torch.float16))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_full_precision_inputs_keep_their_dtype(dtype):
    # Unit variances, means 1 apart: KL = 0.5 (1)^2 = 0.5; Charbonnier with eps 0 is |1 - 0|.
    zero, one = torch.zeros(3, dtype=dtype), torch.ones(3, dtype=dtype)
    torch.testing.assert_close(F.gaussian_kld(zero, one, zero, zero), torch.full_like(one, 0.5))
    torch.testing.assert_close(F.charbonnier_loss(one, zero, eps=0.0), one)

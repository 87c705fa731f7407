"""InfoGANMutualInformationLoss: hand-derived values, StudioGAN's terms, errors, the protocol."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from ganloss_regularizers.infogan import InfoGANMutualInformationLoss

from ganlosscore import ConfigError, GanLossError
from ganlosscore.testing import CHECKS, check_loss

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)  # 0.9189385


def test_categorical_value():
    # Two codes of 3 values per sample: CE([2, 0, 0], 0) = log(e^2 + 2) - 2 and
    # CE([0, 0, 0], 1) = log 3, summed over codes; the same for both samples.
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]] * 2)
    codes = torch.tensor([[0, 1]] * 2)
    value = InfoGANMutualInformationLoss()(code_logits=logits, codes=codes)
    assert value.item() == pytest.approx(math.log(math.e**2 + 2) - 2 + math.log(3), rel=1e-6)


def test_continuous_value():
    # -log N(c; mu, var) = 0.5 log(2 pi var) + (c - mu)^2 / (2 var), summed over dims:
    # dim 0: mu 0, var 1, c 1 -> 0.5 log 2pi + 0.5; dim 1: mu 1, var 4, c 3 -> 0.5 log 8pi + 0.5.
    mean, var, codes = (
        torch.tensor([[0.0, 1.0]]),
        torch.tensor([[1.0, 4.0]]),
        torch.tensor([[1.0, 3.0]]),
    )
    value = InfoGANMutualInformationLoss()(code_mean=mean, continuous_codes=codes, code_var=var)
    expected = HALF_LOG_2PI + 0.5 + HALF_LOG_2PI + 0.5 * math.log(4) + 0.5
    assert value.item() == pytest.approx(expected, rel=1e-6)
    # Without code_var, unit variance: dim 1 is then 0.5 log 2pi + (3 - 1)^2 / 2.
    unit = InfoGANMutualInformationLoss()(code_mean=mean, continuous_codes=codes)
    assert unit.item() == pytest.approx(2 * HALF_LOG_2PI + 0.5 + 2.0, rel=1e-6)


def test_both_kinds_weighted():
    logits, codes = torch.zeros(1, 4), torch.tensor([2])  # log 4
    mean, cont = torch.zeros(1, 1), torch.zeros(1, 1)  # 0.5 log 2pi
    loss = InfoGANMutualInformationLoss(categorical_weight=2.0, continuous_weight=0.5)
    value = loss(code_logits=logits, codes=codes, code_mean=mean, continuous_codes=cont)
    assert value.item() == pytest.approx(2 * math.log(4) + 0.5 * HALF_LOG_2PI, rel=1e-6)


def test_terms_are_studiogans():
    # StudioGAN: sum over codes c of CE(logits[:, c*dim:(c+1)*dim], codes[:, c]), and
    # normal_nll_loss = -(sum_d [-0.5 log(2 pi var + 1e-6) - (x - mu)^2 / (2 var + 1e-6)]).mean().
    gen = torch.Generator().manual_seed(0)
    flat = torch.randn(5, 2 * 3, generator=gen)
    codes = torch.randint(0, 3, (5, 2), generator=gen)
    expected = sum(F.cross_entropy(flat[:, 3 * c : 3 * (c + 1)], codes[:, c]) for c in range(2))
    ours = InfoGANMutualInformationLoss()(code_logits=flat.view(5, 2, 3), codes=codes)
    torch.testing.assert_close(ours, expected)
    mu, x = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    var = torch.rand(5, 3, generator=gen) + 0.5
    logli = -0.5 * (var * 2 * math.pi + 1e-6).log() - (x - mu).pow(2) / (2 * var + 1e-6)
    reference = -(logli.sum(1).mean())
    ours = InfoGANMutualInformationLoss()(code_mean=mu, continuous_codes=x, code_var=var)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("data_info", "problem"),
    [
        ({"code_logits": "q_logits"}, "code_logits and codes go together"),
        ({"code_mean": "q_mean", "code_var": "q_var"}, "code_mean and continuous_codes go"),
    ],
)
def test_half_mapped_codes_are_a_config_error(data_info, problem):
    with pytest.raises(ConfigError, match=problem) as info:
        InfoGANMutualInformationLoss(data_info=data_info)
    assert info.value.where == "InfoGANMutualInformationLoss.data_info"


def test_nothing_to_score_when_called_directly():
    with pytest.raises(GanLossError, match="no code to score"):
        InfoGANMutualInformationLoss()()


@pytest.mark.parametrize("kwargs", [{"categorical_weight": -1}, {"eps": 0.0}])
def test_hyperparameters_are_checked(kwargs):
    with pytest.raises(ConfigError):
        InfoGANMutualInformationLoss(**kwargs)


def outputs(dtype):
    return {
        "q_logits": torch.randn(4, 2, 3, dtype=dtype, requires_grad=True),
        "codes": torch.randint(0, 3, (4, 2)),
        "q_mean": torch.randn(4, 2, dtype=dtype, requires_grad=True),
        "q_var": (torch.rand(4, 2, dtype=dtype) + 0.5).requires_grad_(True),
        "c_cont": torch.randn(4, 2, dtype=dtype),
    }


INFO = {
    "code_logits": "q_logits",
    "codes": "codes",
    "code_mean": "q_mean",
    "code_var": "q_var",
    "continuous_codes": "c_cont",
}


def test_conformance():
    config = {"type": "InfoGANMutualInformationLoss", "data_info": INFO}
    assert set(check_loss(config, outputs).passed) == set(CHECKS)

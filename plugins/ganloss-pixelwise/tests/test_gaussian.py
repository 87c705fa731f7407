"""GaussianKLDLoss and DiscretizedGaussianLogLikelihoodLoss."""

import math

import pytest
import torch
from ganloss_pixelwise import DiscretizedGaussianLogLikelihoodLoss, GaussianKLDLoss

from ganlosscore import ConfigError

LN2 = math.log(2.0)


def _page_phi(x: float) -> float:
    return 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _kld_outputs(shape=(2, 3)):
    # mean_target 0, mean_pred 1, unit variances everywhere: 0.5 nats per element
    return {
        "mean_target": torch.zeros(shape),
        "mean_pred": torch.ones(shape),
        "logvar_target": torch.zeros(shape),
        "logvar_pred": torch.zeros(shape),
    }


def test_kld_uses_mmgeneration_default_data_info():
    loss = GaussianKLDLoss()
    assert loss.data_info == {
        "mean_pred": "mean_pred",
        "mean_target": "mean_target",
        "logvar_pred": "logvar_pred",
        "logvar_target": "logvar_target",
    }
    assert loss(_kld_outputs()).item() == pytest.approx(0.5)
    assert loss.loss_name() == "loss_GaussianKLD"


def test_kld_data_info_false_means_direct_call():
    loss = GaussianKLDLoss(data_info=False)
    assert loss.data_info is None
    o = _kld_outputs()
    # positional order as MMGeneration's gaussian_kld: mean_target, mean_pred, logvar_target, ...
    direct = loss(o["mean_target"], o["mean_pred"], o["logvar_target"], o["logvar_pred"])
    assert direct.item() == pytest.approx(0.5)
    assert loss(**o).item() == pytest.approx(0.5)


def test_kld_custom_data_info():
    loss = GaussianKLDLoss(
        data_info={
            "mean_pred": "mu",
            "mean_target": "mu_post",
            "logvar_pred": "lv",
            "logvar_target": "lv_post",
        }
    )
    o = _kld_outputs()
    outputs = {"mu": o["mean_pred"], "mu_post": o["mean_target"], "lv": o["logvar_pred"]}
    outputs["lv_post"] = o["logvar_target"]
    assert loss(outputs).item() == pytest.approx(0.5)


def test_kld_in_bits():
    # 0.5 nats = 0.5 / ln 2 bits
    assert GaussianKLDLoss(base="2")(_kld_outputs()).item() == pytest.approx(0.5 / LN2)
    assert GaussianKLDLoss(base=2)(_kld_outputs()).item() == pytest.approx(0.5 / LN2)


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [
        ("mean", 0.5),
        ("sum", 3.0),  # 6 elements x 0.5
        ("batchmean", 1.5),  # KL of each 3-dim sample, 1.5, averaged over the batch
        ("flatmean", [0.5, 0.5]),
        ("none", [[0.5] * 3] * 2),
    ],
)
def test_kld_each_reduction(reduction, expected):
    value = GaussianKLDLoss(reduction=reduction)(_kld_outputs())
    torch.testing.assert_close(value, torch.tensor(expected))


def test_kld_avg_factor_is_honoured():
    # sum 3.0 / avg_factor 4 (MMGeneration drops avg_factor here)
    assert GaussianKLDLoss(avg_factor=4)(_kld_outputs()).item() == pytest.approx(0.75)


@pytest.mark.parametrize("only_update_var", [False, True])
def test_kld_only_update_var_detaches_mean_pred(only_update_var):
    o = _kld_outputs()
    o["mean_pred"].requires_grad_(True)
    o["logvar_pred"].requires_grad_(True)
    GaussianKLDLoss(only_update_var=only_update_var)(o).backward()
    # d/dv_p of 0.5 (-1 + v_p - v_t + e^(v_t - v_p) + d^2 e^(-v_p)) at v = 0, d = 1:
    # 0.5 (1 - 1 - 1) = -0.5 per element, / 6 elements for the mean
    torch.testing.assert_close(o["logvar_pred"].grad, torch.full((2, 3), -0.5 / 6))
    if only_update_var:
        assert o["mean_pred"].grad is None
    else:
        # d/dmu_p 0.5 (mu_t - mu_p)^2 = mu_p - mu_t = 1, / 6
        torch.testing.assert_close(o["mean_pred"].grad, torch.full((2, 3), 1 / 6))


def test_kld_loss_weight():
    assert GaussianKLDLoss(loss_weight=3.0)(_kld_outputs()).item() == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("hyper", "match"),
    [
        ({"base": "10"}, "GaussianKLDLoss.base: must be one of 'e', '2'; got '10'"),
        ({"base": 10}, "must be one of 'e', '2'; got 10"),
        ({"reduction": "avg"}, "'none', 'mean', 'sum', 'batchmean', 'flatmean'; got 'avg'"),
        ({"only_update_var": "yes"}, "only_update_var: must be true or false"),
        ({"data_info": True}, "data_info must map each input"),
        ({"data_info": {"mean_pred": "m"}}, "required input"),
    ],
)
def test_kld_bad_config(hyper, match):
    with pytest.raises(ConfigError, match=match):
        GaussianKLDLoss(**hyper)


def _disc_outputs():
    return {
        "real_imgs": torch.zeros(2, 4, dtype=torch.float64),
        "mean_pred": torch.zeros(2, 4, dtype=torch.float64),
        "logvar_pred": torch.zeros(2, 4, dtype=torch.float64),
    }


# x = mean = 0, std 1: log(Phi(1/255) - Phi(-1/255)) per element (interior bins)
INTERIOR_LOG_PROB = math.log(_page_phi(1 / 255) - _page_phi(-1 / 255))


def test_disc_log_likelihood_default_data_info_and_sign():
    loss = DiscretizedGaussianLogLikelihoodLoss()
    assert loss.data_info == {"x": "real_imgs", "mean": "mean_pred", "logvar": "logvar_pred"}
    assert loss.loss_name() == "loss_DiscGaussianLogLikelihood"
    value = loss(_disc_outputs())
    # MMGeneration's sign: the log-likelihood itself, negative
    assert value.item() == pytest.approx(INTERIOR_LOG_PROB)
    assert value.item() < 0
    # loss_weight=-1 gives the negative log-likelihood, in bits with base '2'
    nll_bits = DiscretizedGaussianLogLikelihoodLoss(loss_weight=-1.0, base="2")
    assert nll_bits(_disc_outputs()).item() == pytest.approx(-INTERIOR_LOG_PROB / LN2)


def test_disc_log_likelihood_direct_call_and_reductions():
    o = _disc_outputs()
    loss = DiscretizedGaussianLogLikelihoodLoss(data_info=False, reduction="sum")
    # 8 elements
    assert loss(o["real_imgs"], o["mean_pred"], o["logvar_pred"]).item() == pytest.approx(
        8 * INTERIOR_LOG_PROB
    )
    flat = DiscretizedGaussianLogLikelihoodLoss(reduction="flatmean")(o)
    torch.testing.assert_close(flat, torch.full((2,), INTERIOR_LOG_PROB, dtype=torch.float64))
    # avg_factor: sum / 2
    halved = DiscretizedGaussianLogLikelihoodLoss(avg_factor=2)(o)
    assert halved.item() == pytest.approx(8 * INTERIOR_LOG_PROB / 2)


def test_disc_log_likelihood_only_update_var():
    o = _disc_outputs()
    o["mean_pred"] = torch.full((2, 4), 0.1, dtype=torch.float64, requires_grad=True)
    o["logvar_pred"].requires_grad_(True)
    DiscretizedGaussianLogLikelihoodLoss(only_update_var=True)(o).backward()
    assert o["mean_pred"].grad is None
    assert o["logvar_pred"].grad is not None
    # a smaller variance concentrates mass on the bin when the mean is close: the
    # log-likelihood grows as logvar falls, so its gradient w.r.t. logvar is negative
    assert (o["logvar_pred"].grad < 0).all()

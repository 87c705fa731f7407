"""L1Loss, MSELoss and CharbonnierLoss: every reduction, both call paths, weight and avg_factor."""

import math

import pytest
import torch
from ganloss_pixelwise import CharbonnierLoss, L1Loss, MSELoss

from ganlosscore import ConfigError, LossInputError, build_loss

PRED = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
TARGET = torch.zeros(2, 2)
WEIGHT = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
DATA_INFO = {"pred": "fake", "target": "real"}


def _assert_value(value, expected):
    torch.testing.assert_close(value, torch.tensor(expected, dtype=value.dtype))


def _both_paths(cls, weight=None, **hyper):
    """The loss value through the direct call and through data_info."""
    direct = cls(**hyper)
    info = dict(DATA_INFO, weight="w") if weight is not None else DATA_INFO
    mapped = cls(data_info=info, **hyper)
    outputs = {"fake": PRED, "real": TARGET, "w": weight}
    args = (PRED, TARGET) if weight is None else (PRED, TARGET, weight)
    return direct(*args), mapped(outputs)


# |PRED - 0| = [[1, 2], [3, 4]]
L1_BY_REDUCTION = {
    "none": [[1.0, 2.0], [3.0, 4.0]],
    "mean": 10 / 4,
    "sum": 10.0,
    "batchmean": 10 / 2,  # sum / N
    "flatmean": [1.5, 3.5],  # mean over all but dim 0
}
# PRED^2 = [[1, 4], [9, 16]]
MSE_BY_REDUCTION = {
    "none": [[1.0, 4.0], [9.0, 16.0]],
    "mean": 30 / 4,
    "sum": 30.0,
    "batchmean": 30 / 2,
    "flatmean": [2.5, 12.5],
}


@pytest.mark.parametrize("reduction", list(L1_BY_REDUCTION))
def test_l1_each_reduction_on_both_paths(reduction):
    for value in _both_paths(L1Loss, reduction=reduction):
        _assert_value(value, L1_BY_REDUCTION[reduction])


@pytest.mark.parametrize("reduction", list(MSE_BY_REDUCTION))
def test_mse_honours_each_reduction_on_both_paths(reduction):
    for value in _both_paths(MSELoss, reduction=reduction):
        _assert_value(value, MSE_BY_REDUCTION[reduction])


@pytest.mark.parametrize("reduction", list(L1_BY_REDUCTION))
def test_charbonnier_each_reduction_on_both_paths(reduction):
    # eps = 0 makes Charbonnier exactly L1
    for value in _both_paths(CharbonnierLoss, reduction=reduction, eps=0.0):
        _assert_value(value, L1_BY_REDUCTION[reduction])


def test_charbonnier_eps():
    # sqrt(d^2 + 9) for d = 1, 2, 3, 4, mean over 4
    expected = sum(math.sqrt(d * d + 9) for d in (1, 2, 3, 4)) / 4
    for value in _both_paths(CharbonnierLoss, eps=9.0):
        assert value.item() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("cls", "hyper", "expected"),
    [
        # the weight keeps the diagonal: L1 (1 + 4) / 4 elements
        (L1Loss, {}, 5 / 4),
        # with avg_factor 2: (1 + 4) / 2
        (L1Loss, {"avg_factor": 2}, 5 / 2),
        # MSE diagonal 1 + 16, sum
        (MSELoss, {"reduction": "sum"}, 17.0),
        (MSELoss, {"avg_factor": 17}, 1.0),
        # Charbonnier with eps 0 equals L1; 'batchmean' = (1 + 4) / N=2
        (CharbonnierLoss, {"eps": 0.0, "reduction": "batchmean"}, 5 / 2),
    ],
)
def test_weight_and_avg_factor_on_both_paths(cls, hyper, expected):
    direct, mapped = _both_paths(cls, weight=WEIGHT, **hyper)
    assert direct.item() == pytest.approx(expected)
    assert mapped.item() == pytest.approx(expected)


@pytest.mark.parametrize("cls", [L1Loss, MSELoss, CharbonnierLoss])
def test_avg_factor_without_weight_on_both_paths(cls):
    # sum |d| = 10 for L1/Charbonnier(eps=0), sum d^2 = 30 for MSE; divided by 5
    hyper = {"eps": 0.0} if cls is CharbonnierLoss else {}
    expected = 30 / 5 if cls is MSELoss else 10 / 5
    for value in _both_paths(cls, avg_factor=5, **hyper):
        assert value.item() == pytest.approx(expected)


def test_mse_loss_is_mmgenerations_formula_with_its_defaults():
    # An MMGeneration MSELoss config, unchanged: loss_weight * mean((pred - target)^2)
    # = 0.5 * (1 + 4 + 9 + 16) / 4 = 3.75, under MMGeneration's default name.
    config = dict(type="MSELoss", loss_weight=0.5, data_info=dict(pred="fake", target="real"))
    loss = build_loss(config)
    assert (loss.reduction, loss.avg_factor, loss.loss_name()) == ("mean", None, "loss_mse")
    assert loss({"fake": PRED, "real": TARGET}).item() == pytest.approx(3.75)


@pytest.mark.parametrize(
    ("hyper", "expected"),
    [
        # loss_weight * mse(pred, target, weight, reduction, avg_factor); WEIGHT keeps the
        # diagonal of PRED^2, 1 and 16.
        ({"loss_weight": 2.0}, 2 * 17 / 4),  # mean over the 4 elements
        ({"loss_weight": 2.0, "avg_factor": 2}, 2 * 17 / 2),  # sum / avg_factor
        ({"loss_weight": 3.0, "reduction": "sum"}, 3 * 17),
        ({"loss_weight": 0.5, "reduction": "batchmean"}, 0.5 * 17 / 2),  # sum / N
    ],
)
def test_mse_loss_weight_times_weighted_reduced_mse_on_both_paths(hyper, expected):
    for value in _both_paths(MSELoss, weight=WEIGHT, **hyper):
        assert value.item() == pytest.approx(expected)


def test_avg_factor_is_ignored_by_none():
    (value, _) = _both_paths(L1Loss, reduction="none", avg_factor=3)
    assert value.tolist() == L1_BY_REDUCTION["none"]


def test_loss_weight_scales_after_reduction():
    # mean |d| = 2.5, times 4; and the weight input still applies element-wise
    loss = L1Loss(loss_weight=4.0, data_info=dict(DATA_INFO, weight="w"))
    assert loss({"fake": PRED, "real": TARGET, "w": WEIGHT}).item() == pytest.approx(4 * 5 / 4)


def test_gradient_reaches_pred():
    pred = PRED.clone().requires_grad_(True)
    L1Loss(reduction="sum")(pred, TARGET).backward()
    # d/dp sum |p| = sign(p) = 1
    assert pred.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize(
    ("cls", "name"),
    [(L1Loss, "loss_l1"), (MSELoss, "loss_mse"), (CharbonnierLoss, "loss_charbonnier")],
)
def test_default_names(cls, name):
    assert cls().loss_name() == name
    assert cls(loss_name="loss_rec").loss_name() == "loss_rec"


@pytest.mark.parametrize("cls", [L1Loss, MSELoss, CharbonnierLoss])
def test_bad_reduction_is_a_config_error_listing_modes(cls):
    with pytest.raises(ConfigError, match="'none', 'mean', 'sum', 'batchmean', 'flatmean'") as info:
        cls(reduction="avg")
    assert info.value.where == f"{cls.__name__}.reduction"
    assert "got 'avg'" in str(info.value)


@pytest.mark.parametrize(
    ("hyper", "match"),
    [
        ({"avg_factor": 2, "reduction": "sum"}, "only to reduction='mean'"),
        ({"avg_factor": 0}, r"must lie in \(0, inf\], got 0"),
        ({"avg_factor": "2"}, "must be a finite number, got '2'"),
        ({"sample_wise": True, "reduction": "sum"}, "needs reduction='mean'"),
        ({"sample_wise": True, "avg_factor": 2.0}, "without avg_factor"),
        ({"sample_wise": "yes"}, "L1Loss.sample_wise: must be true or false"),
    ],
)
def test_bad_reduction_options_are_config_errors(hyper, match):
    with pytest.raises(ConfigError, match=match):
        L1Loss(**hyper)


def test_bad_eps_is_a_config_error():
    with pytest.raises(ConfigError, match=r"CharbonnierLoss.eps: must lie in \[0.0, inf\]"):
        CharbonnierLoss(eps=-1.0)


def test_weight_that_does_not_broadcast_names_both_shapes():
    with pytest.raises(Exception, match=r"\(3,\).*\(2, 2\)"):
        L1Loss()(PRED, TARGET, torch.ones(3))


def test_shape_mismatch_is_refused():
    with pytest.raises(LossInputError):
        MSELoss()(PRED, torch.zeros(2))

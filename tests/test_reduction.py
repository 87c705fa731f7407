import pytest
import torch

from ganlosscore import reduce_loss, weight_reduce_loss, weighted_loss
from ganlosscore.errors import LossInputError

# loss = [[1, 3], [5, 7]]: sum 16, mean 4, batchmean 16 / 2 = 8, flatmean [2, 6].
LOSS = torch.tensor([[1.0, 3.0], [5.0, 7.0]])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("mean", torch.tensor(4.0)),
        ("sum", torch.tensor(16.0)),
        ("batchmean", torch.tensor(8.0)),
        ("flatmean", torch.tensor([2.0, 6.0])),
        ("none", LOSS),
    ],
)
def test_reduce_loss_modes(mode, expected):
    assert torch.equal(reduce_loss(LOSS, mode), expected)


def test_flatmean_over_all_but_the_batch_dimension():
    # shape (2, 2, 2): sample 0 holds 0..3 (mean 1.5), sample 1 holds 4..7 (mean 5.5)
    loss = torch.arange(8.0).reshape(2, 2, 2)
    assert torch.equal(reduce_loss(loss, "flatmean"), torch.tensor([1.5, 5.5]))


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(
        LossInputError, match=r"unknown reduction 'avg'.*none, mean, sum, batchmean"
    ):
        reduce_loss(LOSS, "avg")


def test_elementwise_weight_broadcasts():
    # weight [[1], [0]] keeps the first row: (1 + 3) / 4 elements = 1
    weight = torch.tensor([[1.0], [0.0]])
    assert weight_reduce_loss(LOSS, weight=weight).item() == 1.0


def test_weight_that_does_not_broadcast_names_both_shapes():
    with pytest.raises(LossInputError, match=r"\(3,\).*\(2, 2\)"):
        weight_reduce_loss(LOSS, weight=torch.ones(3))


def test_avg_factor_with_mean_divides_the_sum():
    # 16 / 8 = 2
    assert weight_reduce_loss(LOSS, reduction="mean", avg_factor=8).item() == 2.0


def test_avg_factor_is_ignored_by_none():
    assert torch.equal(weight_reduce_loss(LOSS, reduction="none", avg_factor=8), LOSS)


@pytest.mark.parametrize("mode", ["sum", "batchmean", "flatmean"])
def test_avg_factor_refused_with_the_actual_mode_named(mode):
    with pytest.raises(LossInputError, match=f"reduction='{mode}'"):
        weight_reduce_loss(LOSS, reduction=mode, avg_factor=2)


def test_avg_factor_with_unknown_mode_says_unknown():
    with pytest.raises(LossInputError, match="unknown reduction"):
        weight_reduce_loss(LOSS, reduction="bogus", avg_factor=2)


def test_weighted_loss_decorator_adds_keyword_only_arguments():
    @weighted_loss
    def l1(pred, target):
        return (pred - target).abs()

    pred, target = torch.tensor([1.0, -2.0]), torch.zeros(2)
    assert l1(pred, target).item() == 1.5  # (1 + 2) / 2
    assert l1(pred, target, reduction="sum").item() == 3.0
    assert l1(pred, target, weight=torch.tensor([2.0, 0.0]), reduction="sum").item() == 2.0
    with pytest.raises(TypeError):
        l1(pred, target, torch.ones(2))  # a weight can never be positional


def test_a_weight_that_would_enlarge_the_loss_is_refused():
    # [1, 2] * [[1], [0]] broadcasts to a (2, 2) product whose mean, 0.75, is not
    # the weighted mean of the two elements; the weight must fit inside the loss.
    from ganlosscore import LossInputError, weight_reduce_loss

    with pytest.raises(LossInputError, match=r"weight of shape \(2, 1\) does not broadcast"):
        weight_reduce_loss(torch.tensor([1.0, 2.0]), weight=torch.tensor([[1.0], [0.0]]))
    # a weight that broadcasts into the loss's shape is fine: mean([1*1, 2*0]) = 0.5 per row
    loss = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert weight_reduce_loss(loss, weight=torch.tensor([1.0, 0.0])).item() == 1.0  # (1+3)/4

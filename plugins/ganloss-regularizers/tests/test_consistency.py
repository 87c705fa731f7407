from __future__ import annotations

import pytest
import torch
from _regularizer_nets import PerSampleLinearDisc
from ganloss_regularizers import BalancedConsistencyLoss

from ganlosscore import ConfigError, LossInputError


def shift_by_one(x):
    return x + 1


DATA_INFO = {
    "discriminator": "disc",
    "augment": "augment",
    "real_data": "real_imgs",
    "fake_data": "fake_imgs",
}

# PerSampleLinearDisc: D(x)_n = sum(W * x_n) with sum(W) = 3 + 4 = 7, so
# D(x) - D(x + 1) = -7 for every sample: squared 49 per term.


def test_bcr_by_hand(linear_data):
    # 10 * 49 + 10 * 49 = 980 with the paper's lambdas.
    bcr = BalancedConsistencyLoss(data_info=DATA_INFO)
    outputs = {
        "disc": PerSampleLinearDisc(),
        "augment": shift_by_one,
        "real_imgs": linear_data,
        "fake_imgs": 2 * linear_data,
    }
    assert bcr(outputs).item() == pytest.approx(980.0)


def test_bcr_lambdas_weight_each_term(linear_data):
    # 2 * 49 + 0.5 * 49 = 122.5
    bcr = BalancedConsistencyLoss(lambda_real=2.0, lambda_fake=0.5)
    value = bcr(PerSampleLinearDisc(), shift_by_one, real_data=linear_data, fake_data=linear_data)
    assert value.item() == pytest.approx(122.5)


def test_bcr_uses_precomputed_predictions(linear_data):
    # A given disc_pred_real stands for D(x): with D(x) + 1 the gap is -6, 10 * 36 = 360.
    disc = PerSampleLinearDisc()
    bcr = BalancedConsistencyLoss(lambda_fake=0.0)
    value = bcr(disc, shift_by_one, real_data=linear_data, disc_pred_real=disc(linear_data) + 1)
    assert value.item() == pytest.approx(360.0)


def test_bcr_gradient_reaches_discriminator(linear_data):
    # lambda_real * mean((-sum W)^2) = 10 (sum W)^2; d/dW = 20 sum(W) = 140 everywhere.
    disc = PerSampleLinearDisc()
    BalancedConsistencyLoss(lambda_fake=0.0)(disc, shift_by_one, real_data=linear_data).backward()
    torch.testing.assert_close(disc.weight.grad, torch.full_like(disc.weight, 140.0))


def test_real_only_cr_needs_no_fake_data(linear_data):
    bcr = BalancedConsistencyLoss(
        lambda_fake=0.0,
        data_info={"discriminator": "disc", "augment": "augment", "real_data": "real_imgs"},
    )
    outputs = {"disc": PerSampleLinearDisc(), "augment": shift_by_one, "real_imgs": linear_data}
    assert bcr(outputs).item() == pytest.approx(490.0)


def test_missing_data_for_a_weighted_term():
    with pytest.raises(ConfigError, match="does not map 'fake_data'"):
        BalancedConsistencyLoss(
            data_info={"discriminator": "disc", "augment": "aug", "real_data": "real_imgs"}
        )
    with pytest.raises(LossInputError, match="needs fake_data"):
        BalancedConsistencyLoss()(PerSampleLinearDisc(), shift_by_one, real_data=torch.ones(1))


def test_bad_lambdas():
    with pytest.raises(ConfigError, match="both 0"):
        BalancedConsistencyLoss(lambda_real=0.0, lambda_fake=0.0)
    with pytest.raises(ConfigError, match="BalancedConsistencyLoss.lambda_real"):
        BalancedConsistencyLoss(lambda_real=-1.0)

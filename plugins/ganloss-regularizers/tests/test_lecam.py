from __future__ import annotations

import pytest
import torch
from ganloss_regularizers import LeCamRegularizer, lecam_regularization

from ganlosscore import ConfigError

DATA_INFO = {"disc_pred_real": "disc_pred_real", "disc_pred_fake": "disc_pred_fake"}


def outputs(real, fake):
    return {"disc_pred_real": torch.tensor(real), "disc_pred_fake": torch.tensor(fake)}


def test_ema_buffers_are_in_state_dict():
    state = LeCamRegularizer(data_info=DATA_INFO).state_dict()
    assert set(state) == {"ema_real", "ema_fake", "num_updates"}


def test_two_steps_by_hand():
    lecam = LeCamRegularizer(data_info=DATA_INFO)  # decay 0.99, ema_start 1
    # step 1 (decay 0 while num_updates < ema_start): ema_real = mean(1, 3) = 2,
    # ema_fake = mean(-1, -3) = -2.
    #   relu(D(x) + 2)   = (3, 5) -> mean(9, 25) = 17
    #   relu(2 - D(G(z))) = (3, 5) -> 17;  total 34
    assert lecam(outputs([1.0, 3.0], [-1.0, -3.0])).item() == pytest.approx(34.0)
    assert (lecam.ema_real.item(), lecam.ema_fake.item()) == (2.0, -2.0)
    # step 2, batch means 0: ema_real = 0.99 * 2 = 1.98, ema_fake = -1.98.
    #   relu(0 + 1.98)^2 + relu(1.98 - 0)^2 = 2 * 3.9204 = 7.8408
    assert lecam(outputs([0.0], [0.0])).item() == pytest.approx(7.8408)
    assert lecam.ema_real.item() == pytest.approx(1.98)
    assert lecam.ema_fake.item() == pytest.approx(-1.98)
    assert lecam.num_updates.item() == 2


def test_state_dict_round_trip_continues_the_average():
    lecam = LeCamRegularizer(data_info=DATA_INFO)
    lecam(outputs([1.0, 3.0], [-1.0, -3.0]))
    restored = LeCamRegularizer(data_info=DATA_INFO)
    restored.load_state_dict(lecam.state_dict())
    assert restored(outputs([0.0], [0.0])).item() == pytest.approx(7.8408)


def test_ema_start_zero_starts_from_zero():
    # ema_start 0: the first update already decays from 0: 0.99 * 0 + 0.01 * 2 = 0.02.
    lecam = LeCamRegularizer(ema_start=0, data_info=DATA_INFO)
    lecam(outputs([2.0], [-2.0]))
    assert lecam.ema_real.item() == pytest.approx(0.02)
    assert lecam.ema_fake.item() == pytest.approx(-0.02)


def test_relu_variant_versus_plain_squares():
    # anchors ema_real = 1, ema_fake = 1; D(x) = -1 lies below ema_fake, D(G(z)) = 3 above
    # ema_real: relu(-1 - 1) = 0 and relu(1 - 3) = 0, so 0; plain squares 4 + 4 = 8.
    real, fake = torch.tensor([-1.0]), torch.tensor([3.0])
    assert lecam_regularization(real, fake, 1.0, 1.0).item() == 0.0
    assert lecam_regularization(real, fake, 1.0, 1.0, relu=False).item() == 8.0


def test_eval_mode_keeps_the_averages():
    lecam = LeCamRegularizer(data_info=DATA_INFO)
    lecam(outputs([1.0], [-1.0]))
    lecam.eval()
    # anchors stay (1, -1): relu(5 + 1)^2 + relu(1 - (-5))^2 = 72
    assert lecam(outputs([5.0], [-5.0])).item() == 72.0
    assert (lecam.ema_real.item(), lecam.num_updates.item()) == (1.0, 1)


def test_gradients_flow_to_predictions_not_anchors():
    real = torch.tensor([3.0], requires_grad=True)
    fake = torch.tensor([-3.0], requires_grad=True)
    lecam = LeCamRegularizer()
    # anchors become (3, -3): relu(3 + 3)^2 + relu(3 + 3)^2; d/dreal = 2 * 6 = 12, d/dfake = -12
    lecam(real, fake).backward()
    assert (real.grad.item(), fake.grad.item()) == (12.0, -12.0)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [({"decay": 1.0}, "decay"), ({"ema_start": -1}, "ema_start"), ({"relu": 1}, "relu")],
)
def test_bad_hyperparameters(kwargs, where):
    with pytest.raises(ConfigError, match=f"LeCamRegularizer.{where}"):
        LeCamRegularizer(**kwargs)

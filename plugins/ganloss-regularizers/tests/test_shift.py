from __future__ import annotations

import pytest
import torch
from ganloss_regularizers import DiscShiftLoss


def test_disc_shift_by_hand():
    # mean(pred^2) = (1 + 4 + 9 + 16) / 4 = 7.5; loss_weight 0.001 -> 0.0075
    pred = torch.tensor([[1.0], [-2.0], [3.0], [-4.0]])
    assert DiscShiftLoss()(pred).item() == pytest.approx(7.5)
    loss = DiscShiftLoss(loss_weight=0.001, data_info={"pred": "disc_pred_real"})
    assert loss({"disc_pred_real": pred}).item() == pytest.approx(0.0075)
    assert loss.loss_name() == "loss_disc_shift"


def test_disc_shift_gradient():
    # d mean(p^2) / dp = 2 p / N = p / 2 for N = 4
    pred = torch.tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
    DiscShiftLoss()(pred).backward()
    torch.testing.assert_close(pred.grad, pred.detach() / 2)

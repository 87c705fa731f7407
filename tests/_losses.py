"""Small loss classes shared by the core's tests."""

from __future__ import annotations

import torch

from ganlosscore import LossModule


class ShiftLoss(LossModule):
    """PGGAN's drift penalty, mean(pred ** 2): the seed tutorial's DiscShiftLoss."""

    default_loss_name = "loss_disc_shift"

    def compute(self, pred):
        return (pred**2).mean()


class PairLoss(LossModule):
    """mean(a - b) * scale, with an optional mask: two inputs and a hyperparameter."""

    default_loss_name = "loss_pair"

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def compute(self, a, b, mask=None):
        diff = a - b
        if mask is not None:
            diff = diff * mask
        return diff.mean() * self.scale


class RunningMeanLoss(LossModule):
    """mean(pred ** 2) / (1 + running), with `running` an EMA of the batch mean, in a buffer."""

    default_loss_name = "loss_running"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.register_buffer("running", torch.zeros(()))

    def compute(self, pred):
        value = (pred**2).mean() / (1 + self.running.abs())
        self.running.mul_(0.9).add_(0.1 * pred.detach().mean().to(self.running.dtype))
        return value

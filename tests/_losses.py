"""Small loss classes shared by the core's tests."""

from __future__ import annotations

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

"""PGGAN's drift penalty on the discriminator's output."""

from __future__ import annotations

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossModule

__all__ = ["DiscShiftLoss", "disc_shift_loss"]


def disc_shift_loss(pred: Tensor) -> Tensor:
    """``mean(pred ** 2)``: see :class:`DiscShiftLoss`."""
    return pred.pow(2).mean()


class DiscShiftLoss(LossModule):
    r"""Drift penalty of the discriminator's output.

    .. math::
        L = \mathrm{mean}\big(D(x)^2\big)

    Proposed in Karras et al., *Progressive Growing of GANs for Improved
    Quality, Stability, and Variation*, ICLR 2018 (the :math:`\epsilon_{drift}`
    term, weight 0.001). Mirrors MMGeneration's ``DiscShiftLoss``
    (``disc_shift_loss`` with mean reduction); usually added twice, once on
    ``disc_pred_real`` and once on ``disc_pred_fake``, the two merged under
    one name.

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        pred: ``(N, *)``, the discriminator's output.
        Output: scalar.

    Examples:
        >>> loss = DiscShiftLoss(loss_weight=0.001, data_info={"pred": "disc_pred_real"})
        >>> loss({"disc_pred_real": torch.tensor([[2.0], [0.0]])})  # 0.001 * (4 + 0) / 2
        tensor(0.0020)
    """

    default_loss_name = "loss_disc_shift"

    def compute(self, pred: Tensor) -> Tensor:
        return disc_shift_loss(pred)

"""LeCam regularization of the discriminator's outputs towards moving anchors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlosscore import LossModule, is_distributed, sum_over_ranks
from ganlosscore.checks import check_bool, check_int, check_number

from ._buffers import FullPrecisionBuffers

__all__ = ["LeCamRegularizer", "lecam_regularization"]


def lecam_regularization(
    disc_pred_real: Tensor,
    disc_pred_fake: Tensor,
    ema_real: Tensor | float,
    ema_fake: Tensor | float,
    *,
    relu: bool = True,
) -> Tensor:
    """The loss at given anchors (``relu=False``: plain squares): see :class:`LeCamRegularizer`.

    Example:
        >>> real, fake = torch.tensor([3.0, -1.0]), torch.tensor([0.0, 2.0])
        >>> lecam_regularization(real, fake, ema_real=1.0, ema_fake=1.0)  # (4 + 0)/2 + (0 + 1)/2
        tensor(2.5000)
    """
    real_gap = disc_pred_real - ema_fake
    fake_gap = ema_real - disc_pred_fake
    if relu:
        real_gap, fake_gap = F.relu(real_gap), F.relu(fake_gap)
    return real_gap.pow(2).mean() + fake_gap.pow(2).mean()


class LeCamRegularizer(FullPrecisionBuffers, LossModule):
    r"""LeCam regularization: pull D's outputs towards the other side's moving average.

    .. math::
        L = \mathbb{E}_x \lVert D(x) - \alpha_F \rVert^2
          + \mathbb{E}_z \lVert D(G(z)) - \alpha_R \rVert^2

    where :math:`\alpha_R`, :math:`\alpha_F` are exponential moving averages of
    the mean real and fake predictions. From Tseng et al., *Regularizing
    Generative Adversarial Networks under Limited Data*, CVPR 2021 (weight
    :math:`\lambda`, here ``loss_weight``, 0.3 in most of their experiments).
    By default the ReLU variant of the authors' code,
    :math:`\mathrm{relu}(D(x) - \alpha_F)^2 + \mathrm{relu}(\alpha_R - D(G(z)))^2`.
    MMGeneration has no LeCam loss.

    The averages are buffers ``ema_real`` and ``ema_fake`` (with the counter
    ``num_updates``), so they travel in ``state_dict``. Each call in training
    mode first updates them with the detached batch means,
    :math:`\alpha \leftarrow \mathrm{decay}\,\alpha + (1 - \mathrm{decay})\,\bar D`
    (decay 0 during the first ``ema_start`` updates, like the code's
    ``start_itr``), then computes the loss with the updated values, as the
    authors' code does. Half precision, ``interval > 1`` (the averages count
    updates, not iterations) and DDP (``sync_averages``): see the package
    README, *LeCamRegularizer*.

    Args:
        decay: the averages' decay (0.99).
        ema_start: number of first updates that use decay 0 (1).
        relu: the authors' ReLU variant (True) or the paper's plain squares (False).
        sync_averages: update the averages with the means over all ranks when
            ``torch.distributed`` is initialised (False).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        disc_pred_real: ``(N, *)``, D's output on real data.
        disc_pred_fake: ``(M, *)``, D's output on generated data.
        Output: scalar.

    Examples:
        >>> lecam = LeCamRegularizer(data_info={"disc_pred_real": "real", "disc_pred_fake": "fake"})
        >>> lecam({"real": torch.tensor([2.0]), "fake": torch.tensor([-2.0])})  # relu(2-(-2))^2*2
        tensor(32.)
        >>> lecam.ema_real, lecam.ema_fake
        (tensor(2.), tensor(-2.))
    """

    default_loss_name = "loss_lecam"
    full_precision_buffers = ("ema_real", "ema_fake")

    ema_real: Tensor
    ema_fake: Tensor
    num_updates: Tensor

    def __init__(
        self,
        decay: float = 0.99,
        ema_start: int = 1,
        relu: bool = True,
        sync_averages: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.decay = check_number(decay, where=f"{label}.decay", low=0, high=1, high_open=True)
        self.ema_start = check_int(ema_start, where=f"{label}.ema_start", low=0)
        self.relu = check_bool(relu, where=f"{label}.relu")
        self.sync_averages = check_bool(sync_averages, where=f"{label}.sync_averages")
        self.register_buffer("ema_real", torch.tensor(0.0))
        self.register_buffer("ema_fake", torch.tensor(0.0))
        self.register_buffer("num_updates", torch.tensor(0, dtype=torch.long))

    @torch.no_grad()
    def update_averages(self, disc_pred_real: Tensor, disc_pred_fake: Tensor) -> None:
        """Move the averages towards the batch means (called by ``compute`` in training).

        With ``sync_averages`` under ``torch.distributed``, the means over all
        ranks' predictions (one all-reduce of their sums and counts).
        """
        # decay 0 (weight 1) during the first ema_start updates, chosen on the device: reading
        # num_updates on the host would wait for the GPU at every step
        weight = torch.where(self.num_updates < self.ema_start, 1.0, 1.0 - self.decay)
        weight = weight.to(self.ema_real)
        real_mean = disc_pred_real.detach().mean()
        fake_mean = disc_pred_fake.detach().mean()
        if self.sync_averages and is_distributed():
            real_mean, fake_mean = _means_over_ranks(disc_pred_real, disc_pred_fake)
        self.ema_real.lerp_(real_mean.to(self.ema_real), weight)
        self.ema_fake.lerp_(fake_mean.to(self.ema_fake), weight)
        self.num_updates += 1

    def on_interval_skip(self, outputs: Mapping[str, Any]) -> None:
        if self.training and self.sync_averages and is_distributed():
            # meet the collective of the ranks that did update their averages, with nothing
            sum_over_ranks(torch.zeros(4, device=self.ema_real.device))

    def compute(self, disc_pred_real: Tensor, disc_pred_fake: Tensor) -> Tensor:
        if self.training:
            self.update_averages(disc_pred_real, disc_pred_fake)
        dtype = torch.promote_types(disc_pred_real.dtype, disc_pred_fake.dtype)
        return lecam_regularization(
            disc_pred_real,
            disc_pred_fake,
            self.ema_real.to(dtype),
            self.ema_fake.to(dtype),
            relu=self.relu,
        )

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, decay={self.decay}, ema_start={self.ema_start}, "
            f"relu={self.relu}, sync_averages={self.sync_averages}"
        )


def _means_over_ranks(real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    """The means of ``real`` and ``fake`` over every rank's elements, from one all-reduce."""
    dtype = torch.float64  # every rank sends the same dtype, whatever its predictions' precision
    stats = torch.stack(
        [
            real.detach().sum(dtype=dtype),
            torch.tensor(real.numel(), dtype=dtype, device=real.device),
            fake.detach().sum(dtype=dtype).to(real.device),
            torch.tensor(fake.numel(), dtype=dtype, device=real.device),
        ]
    )
    stats = sum_over_ranks(stats)
    return stats[0] / stats[1], stats[2] / stats[3]

"""Gradient penalties at interpolates of real and fake data, beyond WGAN-GP: WGAN-div, MaxGP.

Both draw ``x_hat = alpha * x_real + (1 - alpha) * x_fake`` with one
``alpha ~ U[0, 1)`` per sample, as :class:`GradientPenaltyLoss` does (the same
draws for the same seed), and penalise the per-sample gradient norm
``||g_i|| = ||d D(x_hat) / d x_hat_i||_2`` taken over every non-batch dimension.
"""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossModule
from ganlosscore.checks import check_number

from ._autograd import LossScaler, graph_break
from .gradient_penalty import interpolate_gradient

__all__ = [
    "MaxGradientPenalty",
    "WGANDivPenalty",
    "max_gradient_penalty",
    "wgan_div_penalty",
]


def wgan_div_penalty(sq_norms: Tensor, k: float = 2.0, p: float = 6.0) -> Tensor:
    """``k * mean(||g_i||^p)`` from squared norms; see :class:`WGANDivPenalty`.

    Example:
        >>> wgan_div_penalty(torch.tensor([1.0, 4.0]))  # 2 * mean(1^6, 2^6)
        tensor(65.)
    """
    return k * sq_norms.pow(p / 2).mean()


def max_gradient_penalty(sq_norms: Tensor) -> Tensor:
    """``max_i ||g_i||^2``; see :class:`MaxGradientPenalty`.

    Example:
        >>> max_gradient_penalty(torch.tensor([1.0, 4.0]))
        tensor(4.)
    """
    return sq_norms.amax()


class _InterpolatePenalty(LossModule):
    """What both losses share: the squared gradient norms at interpolates, then ``penalty``.

    The squared norms, ``(N,)``, are in at least ``float32`` (see ``input_gradient``).
    """

    @graph_break  # autograd.grad(create_graph=True), see _autograd
    def compute(
        self,
        discriminator: Any,
        real_data: Tensor,
        fake_data: Tensor,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        grad = interpolate_gradient(
            discriminator, real_data, fake_data, loss_scaler=loss_scaler, where=self.loss_name()
        )
        return self.penalty(grad.pow(2).flatten(1).sum(dim=1))

    def penalty(self, sq_norms: Tensor) -> Tensor:
        raise NotImplementedError


class WGANDivPenalty(_InterpolatePenalty):
    """WGAN-div's gradient penalty: ``k * mean_i(||d D(x_hat) / d x_hat_i||_2 ** p)``.

    ``x_hat = alpha * x_real + (1 - alpha) * x_fake``, ``alpha ~ U[0, 1)`` per
    sample; the norm is over every non-batch dimension, computed as
    ``(sum g**2) ** (p / 2)``, smooth at a zero gradient. Wu et al. 2018,
    "Wasserstein Divergence for GANs" (ECCV), whose recommended ``k = 2`` and
    ``p = 6`` are the defaults. Unlike WGAN-GP's ``(||g|| - 1)**2`` it pulls the
    gradient towards zero, and needs no Lipschitz constraint: added to the
    ``wgan`` critic loss it gives the Wasserstein divergence (W-div). The
    paper's ``k`` is kept apart from ``loss_weight``, which multiplies the
    whole.

    Args:
        k: The coefficient, ``>= 0`` (2).
        p: The power of the norm, ``> 0`` (6).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_wgan_div``), ``interval``.

    Shape:
        discriminator: a callable ``(N, *) -> (N, *)``, differentiable in its input.
        real_data, fake_data: ``(N, *)``, the same shape.
        loss_scaler: optional ``torch.amp.GradScaler`` (see ``R1GradientPenalty``).
        Output: scalar, in at least ``float32``.

    Examples:
        >>> disc = lambda x: (x * torch.tensor([3.0, 4.0])).sum()  # gradient [3, 4], norm 5
        >>> WGANDivPenalty()(disc, torch.zeros(2, 2), torch.ones(2, 2))  # 2 * 5^6
        tensor(31250.)
    """

    default_loss_name = "loss_wgan_div"

    def __init__(self, k: float = 2.0, p: float = 6.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.k = check_number(k, where=f"{label}.k", low=0.0)
        self.p = check_number(p, where=f"{label}.p", low=0.0, low_open=True)

    def penalty(self, sq_norms: Tensor) -> Tensor:
        return wgan_div_penalty(sq_norms, self.k, self.p)

    def extra_repr(self) -> str:
        return f"k={self.k}, p={self.p}, {super().extra_repr()}"


class MaxGradientPenalty(_InterpolatePenalty):
    """MaxGP: the largest squared gradient norm of the batch, at interpolates.

    ``loss = max_i ||d D(x_hat) / d x_hat_i||_2 ** 2``, with
    ``x_hat = alpha * x_real + (1 - alpha) * x_fake``, ``alpha ~ U[0, 1)`` per
    sample and the norm over every non-batch dimension: a penalty on the
    discriminator's Lipschitz constant along the interpolates rather than on
    its average slope. Zhou et al. 2019, "Lipschitz Generative Adversarial
    Nets" (ICML), the maximum gradient penalty; PyTorch-StudioGAN's
    ``cal_maxgrad_penalty`` (``src/utils/losses.py``, ``apply_maxgp``), whose
    ``maxgp_lambda`` is ``loss_weight``. Only the sample with the largest norm
    receives a gradient.

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_max_gp``), ``interval``.

    Shape:
        As :class:`WGANDivPenalty`.

    Examples:
        >>> disc = lambda x: (x * torch.tensor([3.0, 4.0])).sum()  # gradient [3, 4], norm 5
        >>> MaxGradientPenalty()(disc, torch.zeros(2, 2), torch.ones(2, 2))
        tensor(25.)
    """

    default_loss_name = "loss_max_gp"

    def penalty(self, sq_norms: Tensor) -> Tensor:
        return max_gradient_penalty(sq_norms)

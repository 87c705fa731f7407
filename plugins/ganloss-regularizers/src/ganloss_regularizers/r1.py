"""Zero-centred gradient penalties on real (R1) or fake (R2) samples."""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossModule
from ganlosscore.checks import check_choice

from ._autograd import LossScaler, check_no_apex, gradient_at, graph_break
from .gradient_penalty import NORM_MODES

__all__ = ["R1GradientPenalty", "R2GradientPenalty", "squared_gradient_penalty"]


def squared_gradient_penalty(
    grad: Tensor, *, norm_mode: str = "pixel", mask: Tensor | None = None
) -> Tensor:
    r"""The mean squared gradient norm, per pixel or per sample.

    ``pixel``: :math:`\mathrm{mean}_{n,h,w} \sum_c g_{nchw}^2`;
    ``HWC``: :math:`\mathrm{mean}_n \sum_{c,h,w} g_{nchw}^2`.
    With a ``mask`` the gradient is multiplied by it first and the result
    divided by ``mean(mask)`` (MMGeneration's convention).

    Input: ``grad`` ``(N, C, *)``; ``mask`` broadcastable to it. Output: a scalar.

    Example:
        >>> g = torch.tensor([[[[3.0, 0.0]], [[4.0, 0.0]]]])  # (1, 2, 1, 2)
        >>> squared_gradient_penalty(g, norm_mode="pixel")  # (25 + 0) / 2
        tensor(12.5000)
        >>> squared_gradient_penalty(g, norm_mode="HWC")
        tensor(25.)
    """
    if mask is not None:
        grad = grad * mask
    squares = grad.pow(2)
    if norm_mode == "pixel":
        penalty = squares.sum(dim=1).mean()
    else:
        penalty = squares.reshape(grad.shape[0], -1).sum(dim=1).mean()
    if mask is not None:
        penalty = penalty / mask.mean()
    return penalty


@graph_break  # autograd.grad(create_graph=True), see _autograd
def _sample_gradient_penalty(
    loss: _ZeroCentredPenalty,
    discriminator: Any,
    data: Tensor,
    mask: Tensor | None,
    loss_scaler: LossScaler | None,
) -> Tensor:
    grad = gradient_at(discriminator, data, loss_scaler=loss_scaler, where=loss.loss_name())
    return squared_gradient_penalty(grad, norm_mode=loss.norm_mode, mask=mask)


class _ZeroCentredPenalty(LossModule):
    """R1 and R2: one penalty, at the data their ``compute`` names."""

    def __init__(self, norm_mode: str = "pixel", use_apex_amp: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.norm_mode = check_choice(norm_mode, NORM_MODES, where=f"{label}.norm_mode")
        check_no_apex(use_apex_amp, where=f"{label}.use_apex_amp")

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, norm_mode={self.norm_mode!r}"


class R1GradientPenalty(_ZeroCentredPenalty):
    r"""R1: the squared gradient norm of the discriminator at real samples.

    .. math::
        L = \mathbb{E}_{x \sim P_{real}} \lVert \nabla_x D(x) \rVert_2^2

    with the norm per pixel (``pixel``: mean over samples and pixels of the
    sum over channels of :math:`g^2`) or per sample (``HWC``: mean over samples
    of the sum over C, H, W of :math:`g^2`, the paper's form). From Mescheder
    et al., *Which Training Methods for GANs do actually Converge?*, ICML
    2018, whose :math:`\gamma/2` is ``loss_weight``. Mirrors MMGeneration's
    ``r1_gradient_penalty_loss`` / ``R1GradientPenalty`` (default
    ``norm_mode='pixel'``, ``loss_weight=1``); ``norm_mode`` is honoured on both
    call paths. Lazy regularization (StyleGAN2) is the common ``interval``.
    Mixed precision (``loss_scaler``, in place of apex) and DDP: see the
    package README, *R1GradientPenalty and R2GradientPenalty*.

    Args:
        norm_mode: ``"pixel"`` (default) or ``"HWC"``.
        use_apex_amp: MMGeneration's keyword, accepted so its configs build
            unchanged; only ``False`` (use ``loss_scaler`` instead).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        discriminator: a callable, ``(N, C, H, W) -> (N, *)``.
        real_data: ``(N, C, H, W)`` (any ``(N, C, *)``).
        mask: optional, broadcastable to ``real_data``.
        loss_scaler: optional ``torch.amp.GradScaler``.
        Output: scalar (``float32`` for half-precision data).

    Examples:
        >>> disc = lambda x: 0.5 * (x**2).sum()  # gradient x
        >>> R1GradientPenalty(norm_mode="HWC")(disc, torch.ones(2, 3, 4, 4)).item()  # 3*4*4
        48.0
    """

    default_loss_name = "loss_r1_gp"

    def compute(
        self,
        discriminator: Any,
        real_data: Tensor,
        mask: Tensor | None = None,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        return _sample_gradient_penalty(self, discriminator, real_data, mask, loss_scaler)


class R2GradientPenalty(_ZeroCentredPenalty):
    r"""R2: the squared gradient norm of the discriminator at fake samples.

    .. math::
        L = \mathbb{E}_{x \sim P_{fake}} \lVert \nabla_x D(x) \rVert_2^2

    The R2 regularizer of Mescheder et al., ICML 2018; everything else
    (``norm_mode``, ``use_apex_amp``, ``mask``, ``loss_scaler``, ``interval``) as in
    :class:`R1GradientPenalty`. MMGeneration has no R2 loss. R3GAN (Huang et
    al. 2024) uses R1 and R2 together, each with ``loss_weight = gamma / 2``
    and ``norm_mode="HWC"`` (the config is in ganloss-adversarial's README).

    Args:
        norm_mode, use_apex_amp, **kwargs: as for :class:`R1GradientPenalty`.

    Shape:
        discriminator: a callable, ``(N, C, H, W) -> (N, *)``.
        fake_data: ``(N, C, H, W)`` (any ``(N, C, *)``); pass it detached in
            the discriminator step, or gradients also reach the generator.
        mask, loss_scaler: as for :class:`R1GradientPenalty`.
        Output: scalar.

    Examples:
        >>> disc = lambda x: 0.5 * (x**2).sum()
        >>> R2GradientPenalty()(disc, torch.ones(2, 3, 4, 4)).item()  # pixel: 3 channels of 1
        3.0
    """

    default_loss_name = "loss_r2_gp"

    def compute(
        self,
        discriminator: Any,
        fake_data: Tensor,
        mask: Tensor | None = None,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        return _sample_gradient_penalty(self, discriminator, fake_data, mask, loss_scaler)

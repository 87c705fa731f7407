"""Pixel-wise reconstruction losses: L1, MSE, Charbonnier and MMagic's gradient,
masked total-variation and PSNR losses.

How they differ from MMGeneration's and MMagic's losses of the same name is
written down once, in the package's README ("Differences").
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ganlosscore import ConfigError, LossModule, weight_reduce_loss
from ganlosscore.checks import REDUCTIONS, check_bool, check_choice, check_number

from . import functional as F

__all__ = ["CharbonnierLoss", "GradientLoss", "L1Loss", "MSELoss", "MaskedTVLoss", "PSNRLoss"]


class _ReducedLoss(LossModule):
    """A loss whose element-wise value is weighted and reduced (``reduction``, ``avg_factor``).

    Subclasses call :meth:`reduce` on their element-wise loss. Shared by this
    package's pixel-wise and Gaussian losses.
    """

    def __init__(
        self, *, reduction: str = "mean", avg_factor: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.reduction = check_choice(reduction, REDUCTIONS, where=f"{label}.reduction")
        self.avg_factor = (
            None
            if avg_factor is None
            else check_number(avg_factor, where=f"{label}.avg_factor", low=0, low_open=True)
        )
        if self.avg_factor is not None and self.reduction not in ("mean", "none"):
            raise ConfigError(
                "avg_factor applies only to reduction='mean' (sum / avg_factor) and is ignored "
                f"by 'none'; it cannot be combined with reduction={self.reduction!r}",
                where=f"{label}.avg_factor",
            )

    def reduce(self, loss: Tensor, weight: Tensor | None = None) -> Tensor:
        return weight_reduce_loss(
            loss, weight=weight, reduction=self.reduction, avg_factor=self.avg_factor
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), f"reduction={self.reduction!r}"]
        if self.avg_factor is not None:
            parts.append(f"avg_factor={self.avg_factor}")
        return ", ".join(parts)


class _PixelwiseLoss(_ReducedLoss):
    """An element-wise loss of ``pred`` and ``target``; subclasses define :meth:`elementwise`."""

    def __init__(self, *, sample_wise: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.sample_wise = check_bool(sample_wise, where=f"{label}.sample_wise")
        if self.sample_wise and (self.reduction != "mean" or self.avg_factor is not None):
            raise ConfigError(
                "sample_wise=True averages each sample's weighted mean, so it needs "
                f"reduction='mean' without avg_factor; got reduction={self.reduction!r}, "
                f"avg_factor={self.avg_factor}",
                where=f"{label}.sample_wise",
            )

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def compute(self, pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        loss = self.elementwise(pred, target)
        if self.sample_wise and weight is not None:
            return F.sample_wise_mean(loss, weight)
        return self.reduce(loss, weight)


_COMMON_ARGS = """
        reduction: ``none|mean|sum|batchmean|flatmean``. Default ``'mean'``.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (ignored by ``'none'``, refused by the other modes). Default ``None``.
        sample_wise: MMagic's per-sample mean of a weighted loss (see
            :class:`L1Loss`); needs ``reduction='mean'`` without ``avg_factor``.
            Default ``False``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'{name}'``), ``interval``."""

_PIXEL_SHAPE = """
        pred, target: ``(N, *)``, the same shape.
        weight: optional; broadcastable to ``(N, *)`` without enlarging it.
        Output: a scalar; ``(N, *)`` with ``'none'``, ``(N,)`` with ``'flatmean'``."""


class L1Loss(_PixelwiseLoss):
    r"""L1 (mean absolute error) loss.

    .. math::
        \ell = \operatorname{reduce}\big(w \odot |\hat y - y|\big)

    :math:`w` is the optional ``weight`` input and ``reduce`` the ``reduction``
    (``'mean'`` with ``avg_factor`` is ``sum / avg_factor``). With
    ``sample_wise=True`` and a weight, the mean is MMagic's per-sample one,

    .. math::
        \ell = \frac1N \sum_n \frac{\sum_i w_{ni}\,\ell_{ni}}{\sum_i w_{ni} + 10^{-12}}

    with :math:`w` broadcast to the loss's shape first (``mask_reduce_loss`` of
    ``mmagic/models/losses/loss_wrapper.py``); without a weight it is the plain
    mean. MMGeneration's and MMagic's ``L1Loss``; the differences are listed in
    the package README.

    Args:{args}

    Shape:{shape}

    Examples:
        >>> loss = L1Loss(data_info=dict(pred="fake_imgs", target="real_imgs"))
        >>> loss(dict(fake_imgs=torch.ones(2, 3), real_imgs=torch.zeros(2, 3)))
        tensor(1.)
    """

    default_loss_name = "loss_l1"

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(pred, target)


class MSELoss(_PixelwiseLoss):
    r"""MSE (mean squared error) loss, MMGeneration's and MMagic's ``MSELoss``.

    .. math::
        \ell = \operatorname{reduce}\big(w \odot (\hat y - y)^2\big)

    with :math:`w`, ``reduce`` and ``sample_wise`` as in :class:`L1Loss`.

    Args:{args}

    Shape:{shape}

    Examples:
        >>> loss = MSELoss(loss_weight=0.5, data_info=dict(pred="fake_imgs", target="real_imgs"))
        >>> loss(dict(fake_imgs=torch.full((2, 2), 2.0), real_imgs=torch.zeros(2, 2)))  # 0.5 * 4
        tensor(2.)
        >>> MSELoss(reduction="sum")(torch.full((2, 2), 2.0), torch.zeros(2, 2))  # 4 * 4
        tensor(16.)
    """

    default_loss_name = "loss_mse"

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(pred, target)


class CharbonnierLoss(_PixelwiseLoss):
    r"""Charbonnier loss, a smooth L1.

    .. math::
        \ell = \operatorname{reduce}\big(w \odot \sqrt{(\hat y - y)^2 + \epsilon}\big)

    with :math:`w`, ``reduce`` and ``sample_wise`` as in :class:`L1Loss`.
    Charbonnier et al., "Two deterministic half-quadratic regularization
    algorithms for computed imaging" (ICIP 1994), as used by LapSRN (Lai et
    al., CVPR 2017); MMagic's (and BasicSR's) ``CharbonnierLoss``.

    Args:
        eps: :math:`\epsilon`. Default ``1e-12``, as MMagic and BasicSR.{args}

    Shape:{shape}

    Examples:
        >>> CharbonnierLoss(eps=16.0)(torch.tensor([3.0]), torch.tensor([0.0]))
        tensor(5.)
    """

    default_loss_name = "loss_charbonnier"

    def __init__(self, *, eps: float = 1e-12, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.eps = check_number(eps, where=f"{type(self).__name__}.eps", low=0.0)

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.charbonnier_loss(pred, target, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}"


class GradientLoss(_PixelwiseLoss):
    r"""L1 distance of the Sobel gradients of prediction and target (MMagic's ``GradientLoss``).

    .. math::
        \ell = \operatorname{reduce}\big(w \odot (|S_x * (\hat y - y)|
            + |S_y * (\hat y - y)|)\big),\quad
        S_x = \begin{pmatrix}1 & 0 & -1\\ 2 & 0 & -2\\ 1 & 0 & -1\end{pmatrix},\
        S_y = S_x^\top

    where :math:`*` is a cross-correlation with zero padding of 1, applied to
    each channel alone, and :math:`w`, ``reduce`` and ``sample_wise`` are as in
    :class:`L1Loss`. MMagic (``mmagic/models/losses/gradient_loss.py``) sums
    the two reduced L1 terms of :math:`S_x` and :math:`S_y`; every reduction is
    linear, so that is this value.

    Args:{args}

    Shape:
        pred, target: ``(N, C, H, W)``, the same shape.
        weight: optional; broadcastable to ``(N, C, H, W)``.
        Output: a scalar; ``(N, C, H, W)`` with ``'none'``, ``(N,)`` with ``'flatmean'``.

    Examples:
        >>> pred = torch.zeros(1, 1, 3, 3)
        >>> pred[0, 0, 1, 1] = 1.0  # an impulse: each Sobel map is the flipped kernel
        >>> GradientLoss(reduction="sum")(pred, torch.zeros(1, 1, 3, 3))  # 8 + 8
        tensor(16.)
    """

    default_loss_name = "loss_gradient"

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.gradient_loss(pred, target)


# The Args and Shape shared by the four classes above, written once.
for _cls in (L1Loss, MSELoss, CharbonnierLoss, GradientLoss):
    _args = _COMMON_ARGS.replace("{name}", str(_cls.default_loss_name))
    _cls.__doc__ = (_cls.__doc__ or "").replace("{args}", _args).replace("{shape}", _PIXEL_SHAPE)


class MaskedTVLoss(LossModule):
    r"""Masked total variation: the masked mean absolute difference of neighbouring pixels.

    .. math::
        \ell = \frac{\sum m^{y}\,|\hat y_{h+1,w} - \hat y_{h,w}|}{\sum m^{y} + 10^{-12}}
            + \frac{\sum m^{x}\,|\hat y_{h,w+1} - \hat y_{h,w}|}{\sum m^{x} + 10^{-12}}

    summed over the batch, channels and positions, where :math:`m^{y}` is the
    ``mask`` without its last row and :math:`m^{x}` without its last column,
    both broadcast over the channels. Without a mask each term is the plain
    mean. MMagic's ``MaskedTVLoss`` (``mmagic/models/losses/pixelwise_loss.py``:
    its masked ``L1Loss`` of the shifted images).

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_masked_tv'``), ``interval``.

    Shape:
        pred: ``(N, C, H, W)``.
        mask: optional; ``(N, 1, H, W)`` or ``(N, C, H, W)``.
        Output: a scalar.

    Examples:
        >>> pred = torch.tensor([[[[0.0, 1.0], [3.0, 5.0]]]])
        >>> MaskedTVLoss()(pred, torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]]))  # |3 - 0| + |1 - 0|
        tensor(4.)
    """

    default_loss_name = "loss_masked_tv"

    def compute(self, pred: Tensor, mask: Tensor | None = None) -> Tensor:
        return F.masked_tv_loss(pred, mask)


class PSNRLoss(LossModule):
    r"""The negative PSNR of each sample, averaged: HINet's ``PSNRLoss``.

    .. math::
        \ell = \frac1N \sum_n \frac{10}{\ln 10}
            \ln\Big(\frac1D \sum_i (\hat y_{ni} - y_{ni})^2 + 10^{-8}\Big)

    that is :math:`-\mathrm{PSNR}` of images with peak 1, up to the
    :math:`10^{-8}`. With ``toY=True``, RGB images in ``[0, 1]`` are first
    turned into their luma :math:`Y = (65.481 R + 128.553 G + 24.966 B + 16) / 255`
    (ITU-R BT.601). Chen et al., "HINet: Half Instance Normalization Network
    for Image Restoration" (CVPRW 2021); MMagic's ``PSNRLoss``, which accepts
    ``toY`` but does not apply it.

    Args:
        toY: Compare the Y channel of RGB images instead of every channel.
            Default ``False``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_psnr'``), ``interval``.

    Shape:
        pred, target: ``(N, *)``, the same shape; ``(N, 3, *)`` with ``toY``.
        Output: a scalar.

    Examples:
        >>> pred, target = torch.full((2, 1, 2, 2), 0.1), torch.zeros(2, 1, 2, 2)
        >>> pred[1] = 1.0  # per-sample MSE 0.01 and 1: 10 log10 of them, -20 and 0
        >>> PSNRLoss()(pred, target)
        tensor(-10.0000)
    """

    default_loss_name = "loss_psnr"

    def __init__(self, *, toY: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.toY = check_bool(toY, where=f"{type(self).__name__}.toY")

    def compute(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.psnr_loss(pred, target, self.toY).mean()

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, toY={self.toY}"

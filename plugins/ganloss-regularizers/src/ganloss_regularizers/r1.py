"""Zero-centred gradient penalties on real (R1) or fake (R2) samples."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganlosscore import LossModule

from ._autograd import LossScaler, input_gradient
from ._validation import check_no_apex, check_norm_mode

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


def _differentiable_alias(data: Tensor) -> Tensor:
    """``data`` as a point to differentiate the discriminator at, without copying it.

    Data that requires grad is used as it is, so it stays in the caller's graph
    and the penalty's gradient reaches it (a non-detached ``fake_data`` passes
    it on to the generator). Other data becomes ``data.detach().requires_grad_()``,
    a new leaf on the same storage: the caller's tensor is left untouched and
    no batch-sized copy is made.

    Input: ``(N, *)``. Output: the same shape, sharing ``data``'s storage.

    Example:
        >>> x = torch.ones(2, 3)
        >>> p = _differentiable_alias(x)
        >>> p.requires_grad, x.requires_grad, p.data_ptr() == x.data_ptr()
        (True, False, True)
    """
    return data if data.requires_grad else data.detach().requires_grad_()


@torch.compiler.disable  # autograd.grad(create_graph=True): a graph break, see _autograd
def _sample_gradient_penalty(
    loss: LossModule,
    discriminator: Any,
    data: Tensor,
    mask: Tensor | None,
    loss_scaler: LossScaler | None,
    norm_mode: str,
) -> Tensor:
    points = _differentiable_alias(data)
    grad = input_gradient(
        discriminator(points), points, loss_scaler=loss_scaler, where=loss.loss_name()
    )
    return squared_gradient_penalty(grad, norm_mode=norm_mode, mask=mask)


class R1GradientPenalty(LossModule):
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
    call paths.

    Lazy regularization (StyleGAN2) is the common ``interval`` keyword, which
    the core handles; scale ``loss_weight`` by the interval yourself if you
    want StyleGAN2's compensation.

    Mixed precision (in place of MMGeneration's apex): with a ``loss_scaler``
    (a ``torch.amp.GradScaler`` in the outputs dict, mapped by
    ``data_info={..., "loss_scaler": "loss_scaler"}``), the discriminator's
    output is scaled, ``scaler.scale(D(x))``, before the gradient is taken, and
    the gradient unscaled after, ``/ scaler.get_scale()``, so fp16 gradients
    do not underflow; a disabled scaler changes nothing. The unscaled gradient
    and the penalty are in ``float32`` for ``float16``/``bfloat16`` data (the
    squares of small gradients underflow in ``float16``), so the penalty of
    half-precision data is a ``float32`` value. The gradient is taken with
    ``create_graph=True`` so the penalty is differentiable with respect to
    D's parameters; it also works under ``torch.autocast`` and inside
    ``DistributedDataParallel`` (each rank averages over its own batch, DDP
    averages the gradients, which equals the penalty on the whole batch when
    ranks hold equal batch sizes). DDP needs every parameter to get a gradient
    in each backward, and one that only shifts D's output (a final bias) gets
    none from the penalty: back-propagate the penalty together with the GAN
    loss, or add ``0 * D(x).sum()`` as StyleGAN2 implementations do.

    Args:
        norm_mode: ``"pixel"`` (default) or ``"HWC"``.
        use_apex_amp: MMGeneration's keyword, accepted so its configs build
            unchanged; only ``False``: apex is not supported, and ``True`` is a
            ``ConfigError`` (use ``loss_scaler`` instead).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Inputs:
        discriminator: callable, ``(N, C, H, W) -> (N, *)``.
        real_data: ``(N, C, H, W)`` (any ``(N, C, *)``).
        mask: optional, broadcastable to ``real_data``.
        loss_scaler: optional ``torch.amp.GradScaler`` (``scale``/``get_scale``).

    Returns a scalar.

    Example:
        >>> disc = lambda x: 0.5 * (x**2).sum()  # gradient x
        >>> R1GradientPenalty(norm_mode="HWC")(disc, torch.ones(2, 3, 4, 4)).item()  # 3*4*4
        48.0
    """

    default_loss_name = "loss_r1_gp"

    def __init__(self, norm_mode: str = "pixel", use_apex_amp: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.norm_mode = check_norm_mode(norm_mode, f"{label}.norm_mode")
        check_no_apex(use_apex_amp, f"{label}.use_apex_amp")

    def compute(
        self,
        discriminator: Any,
        real_data: Tensor,
        mask: Tensor | None = None,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        return _sample_gradient_penalty(
            self, discriminator, real_data, mask, loss_scaler, self.norm_mode
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, norm_mode={self.norm_mode!r}"


class R2GradientPenalty(LossModule):
    r"""R2: the squared gradient norm of the discriminator at fake samples.

    .. math::
        L = \mathbb{E}_{x \sim P_{fake}} \lVert \nabla_x D(x) \rVert_2^2

    The R2 regularizer of Mescheder et al., ICML 2018; everything else
    (``norm_mode``, ``use_apex_amp``, ``mask``, ``loss_scaler``, ``interval``) as in
    :class:`R1GradientPenalty`. MMGeneration has no R2 loss.

    Inputs:
        discriminator: callable, ``(N, C, H, W) -> (N, *)``.
        fake_data: ``(N, C, H, W)`` (any ``(N, C, *)``); pass it detached in the
            discriminator step, or gradients also reach the generator.
        mask, loss_scaler: as in :class:`R1GradientPenalty`.

    Returns a scalar.

    Example:
        >>> disc = lambda x: 0.5 * (x**2).sum()
        >>> R2GradientPenalty()(disc, torch.ones(2, 3, 4, 4)).item()  # pixel: 3 channels of 1
        3.0
    """

    default_loss_name = "loss_r2_gp"

    def __init__(self, norm_mode: str = "pixel", use_apex_amp: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.norm_mode = check_norm_mode(norm_mode, f"{label}.norm_mode")
        check_no_apex(use_apex_amp, f"{label}.use_apex_amp")

    def compute(
        self,
        discriminator: Any,
        fake_data: Tensor,
        mask: Tensor | None = None,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        return _sample_gradient_penalty(
            self, discriminator, fake_data, mask, loss_scaler, self.norm_mode
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, norm_mode={self.norm_mode!r}"

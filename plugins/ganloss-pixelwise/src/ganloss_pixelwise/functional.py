"""The math of this package, as small pure functions (``torch.nn.functional`` style).

Every function here is element-wise (it returns a tensor of the broadcast input
shape) unless said otherwise; weighting and reduction are the job of
``ganlosscore.weight_reduce_loss``, applied by the loss modules. A function
that computes a loss class's term states the formula only in that class's
docstring (the one home of each formula) and refers to it.

**Reduced precision.** Values come back in the inputs' dtype. The functions
whose arithmetic cancels or underflows in ``float16``/``bfloat16``
(:func:`charbonnier_loss`, :func:`gaussian_kld`,
:func:`discretized_gaussian_log_likelihood`) compute in ``float32`` for such
inputs, as ``torch.autocast`` runs its numerically sensitive ops, and cast
the result back; :func:`gram_matrix` normalises before it multiplies, so its
sums cannot overflow ``float16``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganlosscore import LossInputError, weight_reduce_loss
from ganlosscore.checks import brief

__all__ = [
    "approx_gaussian_cdf",
    "charbonnier_loss",
    "discretized_gaussian_log_likelihood",
    "gaussian_kld",
    "gradient_loss",
    "gram_matrix",
    "l1_loss",
    "masked_tv_loss",
    "mse_loss",
    "psnr_loss",
    "sample_wise_mean",
]

_LN2 = math.log(2.0)


def _precise(*tensors: Tensor) -> tuple[torch.dtype, list[Tensor]]:
    """The inputs' common dtype, and the inputs in at least ``float32`` to compute in.

    ``float32`` and ``float64`` inputs are returned as they are (no copy);
    ``float16``/``bfloat16`` ones are upcast, so that a difference of nearly
    equal terms, a small constant such as ``eps = 1e-12`` (0 in ``float16``),
    or an ``exp`` beyond 65504 do not lose the result.
    """
    dtype = tensors[0].dtype
    for tensor in tensors[1:]:
        dtype = torch.promote_types(dtype, tensor.dtype)
    work = torch.promote_types(dtype, torch.float32)
    return dtype, [tensor.to(work) for tensor in tensors]


def _check_same_shape(pred: Tensor, target: Tensor, name: str) -> None:
    if pred.shape != target.shape:
        raise LossInputError(
            f"{name} needs pred and target of the same shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}; broadcasting them would silently change the loss"
        )


def _check_images(pred: Tensor, name: str) -> None:
    if pred.ndim != 4:
        raise LossInputError(f"{name} needs images of shape (N, C, H, W), got {tuple(pred.shape)}")


def _in_base(nats: Tensor, base: object, name: str) -> Tensor:
    """``nats`` in the log ``base``: ``'e'`` (nats, as given) or ``'2'`` (bits)."""
    if base == "e" or base == math.e:
        return nats
    if base == "2" or base == 2:
        return nats / _LN2
    raise LossInputError(f"{name}: base must be 'e' (nats) or '2' (bits), got {brief(base)}")


def l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.L1Loss` (see there).

    Example:
        >>> l1_loss(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0]))
        tensor([1., 2.])
    """
    _check_same_shape(pred, target, "l1_loss")
    return (pred - target).abs()


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.MSELoss` (see there).

    Example:
        >>> mse_loss(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0]))
        tensor([1., 4.])
    """
    _check_same_shape(pred, target, "mse_loss")
    return (pred - target) ** 2


def charbonnier_loss(pred: Tensor, target: Tensor, eps: float = 1e-12) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.CharbonnierLoss` (see there).

    Example:
        >>> charbonnier_loss(torch.tensor([3.0]), torch.tensor([0.0]), eps=16.0)
        tensor([5.])
    """
    _check_same_shape(pred, target, "charbonnier_loss")
    dtype, (pred, target) = _precise(pred, target)  # eps=1e-12 is 0 in float16: NaN gradient
    return torch.sqrt((pred - target) ** 2 + eps).to(dtype)


_SOBEL_X = ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0))


def gradient_loss(pred: Tensor, target: Tensor) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.GradientLoss` (see there).

    Input: ``pred`` and ``target`` of the same shape ``(N, C, H, W)``; output the same shape.

    Example:
        >>> gradient_loss(torch.ones(1, 1, 1, 2), torch.zeros(1, 1, 1, 2))  # |-1| + |0| (x, y)
        tensor([[[[2., 2.]]]])
    """
    _check_same_shape(pred, target, "gradient_loss")
    _check_images(pred, "gradient_loss")
    channels = pred.shape[1]
    sobel_x = pred.new_tensor(_SOBEL_X)
    # (2C, 1, 3, 3): S_x and S_y = S_x^T for each channel, applied channel by channel
    kernels = torch.stack((sobel_x, sobel_x.T)).repeat(channels, 1, 1).unsqueeze(1)
    grads = torch.nn.functional.conv2d(pred - target, kernels, padding=1, groups=channels)
    return grads.abs().reshape(pred.shape[0], channels, 2, *pred.shape[2:]).sum(dim=2)


def masked_tv_loss(pred: Tensor, mask: Tensor | None = None) -> Tensor:
    """The value of :class:`~ganloss_pixelwise.MaskedTVLoss` (see there); a 0-d tensor.

    Example:
        >>> masked_tv_loss(torch.tensor([[[[0.0, 1.0], [3.0, 4.0]]]]))  # |3| and |1|
        tensor(4.)
    """
    _check_images(pred, "masked_tv_loss")
    dy = (pred[:, :, 1:, :] - pred[:, :, :-1, :]).abs()
    dx = (pred[:, :, :, 1:] - pred[:, :, :, :-1]).abs()
    if mask is None:
        return dy.mean() + dx.mean()
    return _masked_mean(dy, mask[:, :, :-1, :]) + _masked_mean(dx, mask[:, :, :, :-1])


def _masked_mean(loss: Tensor, weight: Tensor) -> Tensor:
    """``sum(weight * loss) / (sum(weight) + 1e-12)``, the weight broadcast to the loss."""
    weighted = weight_reduce_loss(loss, weight=weight, reduction="sum")  # checks the shape
    return weighted / (weight.expand_as(loss).sum() + 1e-12)


def sample_wise_mean(loss: Tensor, weight: Tensor) -> Tensor:
    """The ``sample_wise=True`` mean of :class:`~ganloss_pixelwise.L1Loss` and its kin (see there).

    Input: ``loss`` ``(N, *)`` and ``weight`` broadcastable to it; output a 0-d tensor.

    Example:
        >>> loss = torch.tensor([[1.0, 3.0], [5.0, 7.0]])
        >>> sample_wise_mean(loss, torch.tensor([[1.0, 0.0], [1.0, 1.0]]))  # (1 / 1 + 12 / 2) / 2
        tensor(3.5000)
    """
    weighted = weight_reduce_loss(loss, weight=weight, reduction="none")  # checks the shape
    weight_sums = weight.expand_as(loss).flatten(1).sum(dim=1)
    return (weighted.flatten(1).sum(dim=1) / (weight_sums + 1e-12)).mean()


# Y of ITU-R BT.601 from RGB in [0, 1], on the 8-bit scale (HINet's PSNRLoss, toY=True)
_RGB_TO_Y = (65.481, 128.553, 24.966)


def psnr_loss(pred: Tensor, target: Tensor, to_y: bool = False) -> Tensor:
    """The per-sample values of :class:`~ganloss_pixelwise.PSNRLoss` (see there), shape ``(N,)``.

    Example:
        >>> psnr_loss(torch.full((1, 1, 2, 2), 0.1), torch.zeros(1, 1, 2, 2))  # 10 log10(0.01)
        tensor([-20.0000])
    """
    _check_same_shape(pred, target, "psnr_loss")
    diff = pred - target
    if to_y:
        if diff.ndim < 2 or diff.shape[1] != 3:
            raise LossInputError(
                f"psnr_loss with toY=True needs RGB images of shape (N, 3, *), got "
                f"{tuple(pred.shape)}; give 3-channel images or set toY=False"
            )
        coef = diff.new_tensor(_RGB_TO_Y).reshape(1, 3, *([1] * (diff.ndim - 2)))
        diff = (diff * coef).sum(dim=1, keepdim=True) / 255.0  # Y's offset 16 cancels
    mse = diff.pow(2).flatten(1).mean(dim=1)
    return (10.0 / math.log(10.0)) * torch.log(mse + 1e-8)


def gaussian_kld(
    mean_target: Tensor,
    mean_pred: Tensor,
    logvar_target: Tensor,
    logvar_pred: Tensor,
    base: str = "e",
) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.GaussianKLDLoss` (see there).

    ``base`` is ``'e'`` (nats) or ``'2'`` (bits). Mirrors MMGeneration's
    ``gaussian_kld`` (same argument order). Input: four tensors broadcastable
    to ``(N, *)``; output the broadcast shape.

    Example:
        >>> zero, one = torch.zeros(1), torch.ones(1)
        >>> gaussian_kld(zero, one, zero, zero)  # unit variances, means 1 apart
        tensor([0.5000])
    """
    # -1 + (v_p - v_t) + e^(v_t - v_p) cancels: in bfloat16 nothing of it would be left
    dtype, (mean_target, mean_pred, logvar_target, logvar_pred) = _precise(
        mean_target, mean_pred, logvar_target, logvar_pred
    )
    kld = 0.5 * (
        -1.0
        + logvar_pred
        - logvar_target
        + torch.exp(logvar_target - logvar_pred)
        + (mean_target - mean_pred) ** 2 * torch.exp(-logvar_pred)
    )
    return _in_base(kld, base, "gaussian_kld").to(dtype)


def approx_gaussian_cdf(x: Tensor) -> Tensor:
    r"""The standard normal CDF by the tanh approximation of Page (1977).

    .. math::
        \Phi(x) \approx \frac12\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)

    (E. Page, "Approximations to the cumulative normal function and its inverse
    for use on a pocket calculator", Applied Statistics 26, 1977.) Mirrors
    MMGeneration's ``approx_gaussian_cdf``. Input: ``(*)``; output the same shape.

    Example:
        >>> approx_gaussian_cdf(torch.tensor([0.0]))
        tensor([0.5000])
    """
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def discretized_gaussian_log_likelihood(
    x: Tensor, mean: Tensor, logvar: Tensor, base: str = "e"
) -> Tensor:
    """The element-wise term of :class:`~ganloss_pixelwise.DiscretizedGaussianLogLikelihoodLoss`.

    The log-likelihood itself (values <= 0), as MMGeneration's
    ``discretized_gaussian_log_likelihood``; see the class for the formula.
    ``base`` is ``'e'`` (nats) or ``'2'`` (bits). Input: ``x``, ``mean``,
    ``logvar`` broadcastable to ``(N, *)``; output the broadcast shape.

    Example:
        >>> ll = discretized_gaussian_log_likelihood(
        ...     torch.tensor([1.0]), torch.tensor([1.0]), torch.tensor([0.0]))
        >>> round(ll.item(), 3)  # log(1 - Phi(-1/255)) = log(0.50157)
        -0.69
    """
    # A bin's probability is a difference of two CDFs ~2/255 apart: float32 at least
    dtype, (x, mean, logvar) = _precise(x, mean, logvar)
    inv_std = torch.exp(-0.5 * logvar)
    centered = x - mean
    cdf_upper = approx_gaussian_cdf((centered + 1.0 / 255.0) * inv_std)
    cdf_lower = approx_gaussian_cdf((centered - 1.0 / 255.0) * inv_std)
    log_cdf_upper = torch.log(cdf_upper.clamp(min=1e-12))
    log_one_minus_cdf_lower = torch.log((1.0 - cdf_lower).clamp(min=1e-12))
    log_cdf_delta = torch.log((cdf_upper - cdf_lower).clamp(min=1e-12))
    log_probs = torch.where(
        x < -0.999,
        log_cdf_upper,
        torch.where(x > 0.999, log_one_minus_cdf_lower, log_cdf_delta),
    )
    return _in_base(log_probs, base, "discretized_gaussian_log_likelihood").to(dtype)


def gram_matrix(features: Tensor) -> Tensor:
    r"""Normalised Gram matrix of feature maps, the style representation of Gatys et al.

    .. math::
        G_{c c'} = \frac{1}{C M}\sum_{m} F_{c m} F_{c' m}

    where ``M`` is the number of spatial positions (Gatys, Ecker & Bethge,
    "Image style transfer using convolutional neural networks", CVPR 2016;
    normalised as in Johnson et al. 2016 and BasicSR's ``_gram_mat``).

    Input: ``(N, C, *)`` with at least one spatial dimension; output ``(N, C, C)``.

    Example:
        >>> gram_matrix(torch.ones(1, 2, 2, 2))  # every entry 4 / (2 * 4)
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])
    """
    if features.ndim < 3:
        raise LossInputError(
            f"gram_matrix needs features of shape (N, C, *spatial), got {tuple(features.shape)}"
        )
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    # Normalised before the product: the raw sums overflow float16 (65504), also under autocast.
    flat = flat / math.sqrt(c * flat.shape[-1])
    return flat @ flat.transpose(1, 2)

"""The math of this package, as small pure functions (``torch.nn.functional`` style).

Every function here is element-wise (it returns a tensor of the broadcast input
shape) unless said otherwise; weighting and reduction are the job of
``ganlosscore.weight_reduce_loss``, applied by the loss modules.

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

from ._validation import PixelwiseInputError, check_base

__all__ = [
    "approx_gaussian_cdf",
    "charbonnier_loss",
    "discretized_gaussian_log_likelihood",
    "gaussian_kld",
    "gram_matrix",
    "l1_loss",
    "mse_loss",
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
        raise PixelwiseInputError(
            f"{name} needs pred and target of the same shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}; broadcasting them would silently change the loss"
        )


def l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    r"""Element-wise absolute error :math:`|\hat y - y|`.

    Input: ``pred`` and ``target`` of the same shape ``(N, *)``; output the same shape.

    Example:
        >>> l1_loss(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0]))
        tensor([1., 2.])
    """
    _check_same_shape(pred, target, "l1_loss")
    return (pred - target).abs()


def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    r"""Element-wise squared error :math:`(\hat y - y)^2`.

    Input: ``pred`` and ``target`` of the same shape ``(N, *)``; output the same shape.

    Example:
        >>> mse_loss(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 0.0]))
        tensor([1., 4.])
    """
    _check_same_shape(pred, target, "mse_loss")
    return (pred - target) ** 2


def charbonnier_loss(pred: Tensor, target: Tensor, eps: float = 1e-12) -> Tensor:
    r"""Element-wise Charbonnier penalty :math:`\sqrt{(\hat y - y)^2 + \epsilon}`.

    A differentiable variant of L1 (Charbonnier et al., "Two deterministic
    half-quadratic regularization algorithms for computed imaging", ICIP 1994;
    used by LapSRN). Mirrors ``charbonnier_loss`` of MMEditing/BasicSR, with the
    same default ``eps = 1e-12``.

    Input: ``pred`` and ``target`` of the same shape ``(N, *)``; output the same shape.

    Example:
        >>> charbonnier_loss(torch.tensor([3.0]), torch.tensor([0.0]), eps=16.0)
        tensor([5.])
    """
    _check_same_shape(pred, target, "charbonnier_loss")
    dtype, (pred, target) = _precise(pred, target)  # eps=1e-12 is 0 in float16: NaN gradient
    return torch.sqrt((pred - target) ** 2 + eps).to(dtype)


def gaussian_kld(
    mean_target: Tensor,
    mean_pred: Tensor,
    logvar_target: Tensor,
    logvar_pred: Tensor,
    base: str = "e",
) -> Tensor:
    r"""Element-wise KL divergence :math:`KL(p \| q)` of two diagonal Gaussians.

    :math:`p = \mathcal N(\mu_1, \sigma_1^2)` is the target and
    :math:`q = \mathcal N(\mu_2, \sigma_2^2)` the prediction:

    .. math::
        KL(p \| q) = \log\frac{\sigma_2}{\sigma_1}
            + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2} - \frac12
        = \frac12\left(-1 + \log\sigma_2^2 - \log\sigma_1^2
            + e^{\log\sigma_1^2 - \log\sigma_2^2} + (\mu_1 - \mu_2)^2 e^{-\log\sigma_2^2}\right)

    in nats (``base='e'``), or divided by :math:`\ln 2` for bits (``base='2'``).
    Mirrors MMGeneration's ``gaussian_kld`` (same argument order), as used by
    Improved DDPM (Nichol & Dhariwal, 2021).

    Input: four tensors broadcastable to ``(N, *)``; output the broadcast shape.

    Example:
        >>> zero, one = torch.zeros(1), torch.ones(1)
        >>> gaussian_kld(zero, one, zero, zero)  # unit variances, means 1 apart
        tensor([0.5000])
    """
    base = check_base(base, "gaussian_kld")
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
    return (kld / _LN2 if base == "2" else kld).to(dtype)


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
    r"""Element-wise log-likelihood of 8-bit data ``x`` in ``[-1, 1]`` under a Gaussian.

    Each value of ``x`` stands for the bin :math:`[x - 1/255, x + 1/255]`; the
    two edge bins extend to :math:`\pm\infty`:

    .. math::
        \log p(x) = \log\left(\Phi\left(\frac{\delta_+(x) - \mu}{\sigma}\right)
            - \Phi\left(\frac{\delta_-(x) - \mu}{\sigma}\right)\right),\quad
        \delta_\pm(x) = \begin{cases}\pm\infty & x = \pm 1\\ x \pm 1/255 & \text{else}\end{cases}

    with :math:`\Phi` from :func:`approx_gaussian_cdf`, probabilities clamped
    at ``1e-12`` before the log, and the edges detected as ``x < -0.999`` and
    ``x > 0.999``. This is the decoder term :math:`L_0` of DDPM (Ho et al.,
    2020, Eq. 13) as written in Improved DDPM and MMGeneration's
    ``discretized_gaussian_log_likelihood``.

    **Sign:** it returns the log-likelihood itself (values <= 0), not its
    negative, as MMGeneration does; a loss to minimise is its negative.

    Input: ``x``, ``mean``, ``logvar`` broadcastable to ``(N, *)``; output the
    broadcast shape, in nats (``base='e'``) or bits (``base='2'``).

    Example:
        >>> ll = discretized_gaussian_log_likelihood(
        ...     torch.tensor([1.0]), torch.tensor([1.0]), torch.tensor([0.0]))
        >>> round(ll.item(), 3)  # log(1 - Phi(-1/255)) = log(0.50157)
        -0.69
    """
    base = check_base(base, "discretized_gaussian_log_likelihood")
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
    return (log_probs / _LN2 if base == "2" else log_probs).to(dtype)


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
        raise PixelwiseInputError(
            f"gram_matrix needs features of shape (N, C, *spatial), got {tuple(features.shape)}"
        )
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    # Normalised before the product: the raw sums overflow float16 (65504), also under autocast.
    flat = flat / math.sqrt(c * flat.shape[-1])
    return flat @ flat.transpose(1, 2)

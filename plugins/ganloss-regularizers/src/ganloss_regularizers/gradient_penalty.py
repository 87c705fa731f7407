"""Gradient-norm penalties at random points: WGAN-GP (interpolates) and DRAGAN (perturbed reals)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganlosscore import LossInputError, LossModule
from ganlosscore.checks import check_choice, check_number

from ._autograd import LossScaler, gradient_at, graph_break

__all__ = [
    "NORM_MODES",
    "DRAGANGradientPenalty",
    "GradientPenaltyLoss",
    "dragan_perturb",
    "gradient_norm",
    "gradient_norm_penalty",
    "interpolate_gradient",
    "random_interpolates",
]


#: The two gradient-norm conventions MMGeneration offers: over the channels at each
#: pixel, or over all of C, H, W per sample.
NORM_MODES: tuple[str, ...] = ("pixel", "HWC")


def gradient_norm(grad: Tensor, norm_mode: str = "pixel") -> Tensor:
    """The L2 norm of a gradient, per pixel or per sample.

    ``pixel``: over the channel dimension at each location, shape ``(N, *spatial)``;
    ``HWC``: over every non-batch dimension, shape ``(N,)``.

    Input: ``grad`` of shape ``(N, C, *)``.

    Example:
        >>> g = torch.tensor([[[[3.0, 0.0]], [[4.0, 0.0]]]])  # (1, 2, 1, 2)
        >>> gradient_norm(g, "pixel"), gradient_norm(g, "HWC")
        (tensor([[[5., 0.]]]), tensor([5.]))
    """
    flat = grad if norm_mode == "pixel" else grad.reshape(grad.shape[0], -1)
    norm: Tensor = torch.linalg.vector_norm(flat, ord=2, dim=1)
    return norm


def gradient_norm_penalty(
    grad: Tensor, *, norm_mode: str = "pixel", target: float = 1.0, mask: Tensor | None = None
) -> Tensor:
    r"""``mean((||grad|| - target) ** 2)``, the norm taken as in :func:`gradient_norm`.

    With a ``mask`` (inpainting), the gradient is multiplied by it before the
    norm and the result divided by ``mean(mask)``, as MMGeneration does (masked
    positions then count as norm 0).

    Input: ``grad`` ``(N, C, *)``; ``mask`` broadcastable to it. Output: a scalar.

    Example:
        >>> g = torch.tensor([[[[3.0, 0.0]], [[4.0, 0.0]]]])
        >>> gradient_norm_penalty(g, norm_mode="pixel")  # ((5-1)^2 + (0-1)^2) / 2
        tensor(8.5000)
    """
    if mask is not None:
        grad = grad * mask
    penalty = (gradient_norm(grad, norm_mode) - target).pow(2).mean()
    if mask is not None:
        penalty = penalty / mask.mean()
    return penalty


def _per_sample_uniform(reference: Tensor) -> Tensor:
    # Drawn in the default dtype and then cast, so float32 and float64 runs
    # with the same seed use the same numbers.
    shape = (reference.shape[0],) + (1,) * (reference.ndim - 1)
    return torch.rand(shape, device=reference.device).to(reference.dtype)


def random_interpolates(real_data: Tensor, fake_data: Tensor) -> Tensor:
    """``alpha * real + (1 - alpha) * fake`` with ``alpha ~ U[0, 1)`` per sample.

    Input: ``real_data`` and ``fake_data`` of the same shape ``(N, *)``.
    """
    alpha = _per_sample_uniform(real_data)
    return alpha * real_data + (1.0 - alpha) * fake_data


def dragan_perturb(real_data: Tensor, perturb_scale: float = 0.5) -> Tensor:
    r"""DRAGAN's perturbed reals, as in the authors' reference code.

    :math:`x_p = x + c \cdot \mathrm{std}(x) \cdot u` with :math:`u \sim U[0,1)`
    element-wise and :math:`\mathrm{std}` the (population) standard deviation
    of the whole batch, then :math:`\hat x = x + \alpha (x_p - x)` with
    :math:`\alpha \sim U[0,1)` per sample. ``c = perturb_scale`` (0.5).

    The draws come from torch's default generator of the data's device (the
    CPU one, seeded by ``torch.manual_seed``, for CPU data), ``u`` first, then
    :math:`\alpha`, each in the default dtype and then cast to the data's (so
    a seed gives the same points in float32 and float64).

    Input: ``real_data`` ``(N, *)``. Output: same shape.
    """
    noise = torch.rand(real_data.shape, device=real_data.device).to(real_data.dtype)
    alpha = _per_sample_uniform(real_data)
    std = real_data.detach().std(correction=0)
    return real_data + alpha * (perturb_scale * std * noise)


def interpolate_gradient(
    discriminator: Any,
    real_data: Tensor,
    fake_data: Tensor,
    *,
    loss_scaler: LossScaler | None = None,
    where: str = "interpolate_gradient",
) -> Tensor:
    """``d sum(D(x_hat)) / d x_hat`` at :func:`random_interpolates`, kept in the graph.

    Input: ``real_data`` and ``fake_data`` of the same shape ``(N, *)`` (else a
    :class:`~ganlosscore.LossInputError`). Output: that shape, in at least ``float32``.
    """
    if real_data.shape != fake_data.shape:
        raise LossInputError(
            f"real_data {tuple(real_data.shape)} and fake_data {tuple(fake_data.shape)} "
            "must have the same shape to be interpolated",
            where=where,
        )
    points = random_interpolates(real_data, fake_data)
    return gradient_at(discriminator, points, loss_scaler=loss_scaler, where=where)


class GradientPenaltyLoss(LossModule):
    r"""WGAN-GP gradient penalty at random interpolates of real and fake data.

    .. math::
        \hat x = \alpha x_{real} + (1 - \alpha) x_{fake},\ \alpha \sim U[0,1)\ \text{per sample};
        \qquad L = \mathbb{E}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big]

    From Gulrajani et al., *Improved Training of Wasserstein GANs*, NeurIPS
    2017 (who use weight :math:`\lambda = 10`, here ``loss_weight``). Mirrors
    MMGeneration's ``gradient_penalty_loss`` / ``GradientPenaltyLoss``
    (default ``norm_mode='pixel'``, ``loss_weight=1``), with two differences:
    ``norm_mode`` is honoured on both call paths (MMGeneration ignores it when
    the module is called directly), and the interpolates stay in the graph, so
    gradients reach ``real_data`` / ``fake_data`` when those require grad
    (MMGeneration detaches them; pass detached fakes in the discriminator step,
    as usual, and nothing changes).

    Args:
        norm_mode: ``"pixel"``: the L2 norm over channels at each pixel, then
            :math:`(\lVert g \rVert - 1)^2` averaged over samples and pixels;
            ``"HWC"``: the L2 norm over C, H, W per sample, averaged over samples.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        discriminator: a callable, ``(N, C, H, W) -> (N, *)``.
        real_data, fake_data: ``(N, C, H, W)`` (any ``(N, C, *)``), the same shape.
        mask: optional, broadcastable to the data (inpainting); the gradient is
            multiplied by it and the penalty divided by ``mean(mask)``.
        loss_scaler: optional ``torch.amp.GradScaler`` (mixed precision: see
            the package README).
        Output: scalar (``float32`` for half-precision data).

    Examples:
        >>> disc = lambda x: (x * torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)).sum()
        >>> gp = GradientPenaltyLoss(norm_mode="HWC")
        >>> gp(disc, torch.zeros(2, 2, 1, 1), torch.ones(2, 2, 1, 1)).item()  # (5 - 1)^2
        16.0
    """

    default_loss_name = "loss_gp"

    def __init__(self, norm_mode: str = "pixel", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"{type(self).__name__}.norm_mode"
        self.norm_mode = check_choice(norm_mode, NORM_MODES, where=where)

    @graph_break  # autograd.grad(create_graph=True), see _autograd
    def compute(
        self,
        discriminator: Any,
        real_data: Tensor,
        fake_data: Tensor,
        mask: Tensor | None = None,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        grad = interpolate_gradient(
            discriminator, real_data, fake_data, loss_scaler=loss_scaler, where=self.loss_name()
        )
        return gradient_norm_penalty(grad, norm_mode=self.norm_mode, target=1.0, mask=mask)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, norm_mode={self.norm_mode!r}"


class DRAGANGradientPenalty(LossModule):
    r"""DRAGAN: a gradient-norm penalty around the real data.

    .. math::
        \hat x = x + \alpha\, c\, \mathrm{std}(x)\, u,\quad u \sim U[0,1)^{d},\
        \alpha \sim U[0,1);\qquad
        L = \mathbb{E}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - k)^2\big]

    From Kodali et al., *On Convergence and Stability of GANs* (DRAGAN), 2017;
    the perturbation follows the authors' reference code (see
    :func:`dragan_perturb`). The paper's :math:`\lambda` (10) is
    ``loss_weight``. MMGeneration has no DRAGAN loss.

    Args:
        k: target gradient norm (1).
        perturb_scale: ``c``, the noise scale relative to the batch's standard
            deviation (0.5).
        norm_mode: ``"HWC"`` (per-sample norm, as in the paper; default) or
            ``"pixel"`` (see :class:`GradientPenaltyLoss`).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        discriminator: a callable, ``(N, C, H, W) -> (N, *)``.
        real_data: ``(N, C, H, W)`` (any ``(N, C, *)``).
        loss_scaler: optional ``torch.amp.GradScaler``.
        Output: scalar (``float32`` for half-precision data).

    Examples:
        >>> disc = lambda x: (x * torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)).sum()
        >>> dragan = DRAGANGradientPenalty(loss_weight=10.0)  # lambda = 10
        >>> dragan(disc, torch.randn(4, 2, 1, 1)).item()  # 10 * (||(3, 4)|| - 1)^2
        160.0
    """

    default_loss_name = "loss_dragan_gp"

    def __init__(
        self, k: float = 1.0, perturb_scale: float = 0.5, norm_mode: str = "HWC", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.k = check_number(k, where=f"{label}.k", low=0.0)
        self.perturb_scale = check_number(perturb_scale, where=f"{label}.perturb_scale", low=0.0)
        self.norm_mode = check_choice(norm_mode, NORM_MODES, where=f"{label}.norm_mode")

    @graph_break  # autograd.grad(create_graph=True), see _autograd
    def compute(
        self,
        discriminator: Any,
        real_data: Tensor,
        loss_scaler: LossScaler | None = None,
    ) -> Tensor:
        points = dragan_perturb(real_data, self.perturb_scale)
        grad = gradient_at(discriminator, points, loss_scaler=loss_scaler, where=self.loss_name())
        return gradient_norm_penalty(grad, norm_mode=self.norm_mode, target=self.k)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, k={self.k}, perturb_scale={self.perturb_scale}, "
            f"norm_mode={self.norm_mode!r}"
        )

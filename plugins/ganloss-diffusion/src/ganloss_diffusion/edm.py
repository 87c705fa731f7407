r"""The training losses of Karras et al., "Elucidating the Design Space of
Diffusion-Based Generative Models" (EDM, NeurIPS 2022), Table 1.

Each draws one noise level :math:`\sigma` per image (:meth:`sample_sigma`),
noises the images, denoises them with the user's denoiser and returns the
reduced :math:`\lambda(\sigma)`-weighted squared error (:meth:`sigma_weight`);
the formula is in :class:`EDMLoss`. How the denoiser is called, the reduction
against the official code's, and mixed precision are described in the
package README (sections "EDMLoss, VPLoss, VELoss" and "Mixed precision").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ganlosscore import ConfigError, LossInputError, LossModule, reduce_loss
from ganlosscore.checks import REDUCTIONS, check_choice, check_number

from . import functional as F

__all__ = ["EDMLoss", "VELoss", "VPLoss"]

Denoiser = Callable[..., Tensor]


class _KarrasLoss(LossModule):
    """The shared denoising loss; subclasses define the noise distribution and weight."""

    #: The names of the subclass's own hyperparameters, shown by ``repr``.
    repr_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, reduction: str = "mean", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reduction = check_choice(
            reduction, REDUCTIONS, where=f"{type(self).__name__}.reduction"
        )

    def sample_sigma(self, images: Tensor) -> Tensor:
        """One noise level per image, shaped ``(N, 1, ..., 1)`` like ``images``."""
        raise NotImplementedError

    def sigma_weight(self, sigma: Tensor) -> Tensor:
        r""":math:`\lambda(\sigma)`."""
        raise NotImplementedError

    def _draw(self, images: Tensor, sampler: Callable[..., Tensor]) -> Tensor:
        """``(N, 1, ..., 1)`` random numbers, drawn in float32 as the official code does
        (so float32 and float64 runs see the same draws), then cast to at least float32."""
        shape = [images.shape[0]] + [1] * (images.ndim - 1)
        dtype = torch.promote_types(images.dtype, torch.float32)
        return sampler(shape, device=images.device).to(dtype)

    def compute(self, denoiser: Denoiser, images: Tensor, labels: Any = None) -> Tensor:
        if not callable(denoiser):
            raise LossInputError(
                f"{type(self).__name__}: denoiser must be callable as denoiser(x_noisy, sigma"
                f"[, labels]), got {type(denoiser).__name__}",
                where=self.loss_name(),
            )
        sigma = self.sample_sigma(images)
        weight = self.sigma_weight(sigma)
        # The noise is drawn like sigma, in at least float32 (the same draws for float32 and
        # half-precision images), and the noisy images handed over in the images' dtype: a
        # float16 / bfloat16 denoiser gets inputs of its own precision.
        dtype = torch.promote_types(images.dtype, torch.float32)
        noise = torch.randn(images.shape, device=images.device, dtype=dtype)
        noisy = (images + noise * sigma).to(images.dtype)
        denoised = denoiser(noisy, sigma) if labels is None else denoiser(noisy, sigma, labels)
        if not isinstance(denoised, Tensor):
            raise LossInputError(
                f"{type(self).__name__}: the denoiser returned {type(denoised).__name__}, "
                "expected a tensor of the images' shape",
                where=self.loss_name(),
            )
        return reduce_loss(
            F.denoising_score_matching_loss(denoised, images, weight), self.reduction
        )

    def extra_repr(self) -> str:
        own = [f"{name}={getattr(self, name)}" for name in self.repr_fields]
        return ", ".join([super().extra_repr(), f"reduction={self.reduction!r}", *own])


class EDMLoss(_KarrasLoss):
    r"""The EDM training loss (Karras et al., 2022, Table 1, "Ours").

    .. math::
        \ell = \operatorname{reduce}\Big(\lambda(\sigma)\,\big(D(y + n; \sigma) - y\big)^2\Big),
        \quad n \sim \mathcal N(0, \sigma^2 I),\quad
        \ln\sigma \sim \mathcal N(P_{mean}, P_{std}^2),\quad
        \lambda(\sigma) = \frac{\sigma^2 + \sigma_{data}^2}{(\sigma\,\sigma_{data})^2}

    with one :math:`\sigma` per image and :math:`D` the ``denoiser``, called
    ``denoiser(y + n, sigma)`` or, with labels, ``denoiser(y + n, sigma,
    labels)`` (NVlabs/edm ``training/loss.py``, ``EDMLoss``). :class:`VPLoss`
    and :class:`VELoss` change only how :math:`\sigma` is drawn and
    :math:`\lambda(\sigma)`. The README of ganloss-diffusion compares the
    reduction with the official code's and describes mixed precision.

    Args:
        P_mean: Mean of :math:`\ln\sigma`. Default -1.2.
        P_std: Standard deviation of :math:`\ln\sigma`. Default 1.2.
        sigma_data: Standard deviation of the data. Default 0.5.
        reduction: ``none|mean|sum|batchmean|flatmean``. Default ``'mean'``, over
            every element; ``'batchmean'`` is the official scale.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_edm'``), ``interval``.

    Shape:
        denoiser: a callable returning a tensor of the images' shape.
        images: ``(N, *)``.
        labels: optional; anything the denoiser takes.
        Output: a scalar; ``(N, *)`` with ``'none'``, ``(N,)`` with ``'flatmean'``.

    Examples:
        >>> images = torch.randn(4, 3, 8, 8)
        >>> EDMLoss()(lambda x, sigma: images, images)  # a perfect denoiser
        tensor(0.)
    """

    default_loss_name = "loss_edm"
    repr_fields = ("P_mean", "P_std", "sigma_data")

    def __init__(
        self,
        *,
        P_mean: float = -1.2,
        P_std: float = 1.2,
        sigma_data: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.P_mean = check_number(P_mean, where="EDMLoss.P_mean")
        self.P_std = check_number(P_std, where="EDMLoss.P_std", low=0, low_open=True)
        self.sigma_data = check_number(sigma_data, where="EDMLoss.sigma_data", low=0, low_open=True)

    def sample_sigma(self, images: Tensor) -> Tensor:
        return F.edm_sigma(self._draw(images, torch.randn), self.P_mean, self.P_std)

    def sigma_weight(self, sigma: Tensor) -> Tensor:
        return F.edm_weight(sigma, self.sigma_data)


class VPLoss(_KarrasLoss):
    r"""The variance-preserving loss of Song et al. (2021), as EDM's Table 1 gives it.

    The loss of :class:`EDMLoss` with

    .. math::
        t \sim \mathcal U(\epsilon_t, 1),\quad
        \sigma = \sqrt{e^{\frac12\beta_d t^2 + \beta_{min} t} - 1},\quad
        \lambda(\sigma) = 1/\sigma^2

    Args:
        beta_d: Default 19.9.
        beta_min: Default 0.1.
        epsilon_t: Smallest :math:`t`, in (0, 1). Default 1e-5.
        reduction: As :class:`EDMLoss`. Default ``'mean'``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_edm_vp'``), ``interval``.

    Shape:
        As :class:`EDMLoss`.

    Examples:
        >>> VPLoss(reduction="sum")(lambda x, sigma: x * 0, torch.zeros(2, 3)).item()
        0.0
    """

    default_loss_name = "loss_edm_vp"
    repr_fields = ("beta_d", "beta_min", "epsilon_t")

    def __init__(
        self,
        *,
        beta_d: float = 19.9,
        beta_min: float = 0.1,
        epsilon_t: float = 1e-5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.beta_d = check_number(beta_d, where="VPLoss.beta_d", low=0)
        self.beta_min = check_number(beta_min, where="VPLoss.beta_min", low=0)
        if self.beta_d == 0 and self.beta_min == 0:
            raise ConfigError(
                "beta_d and beta_min are both 0, so every noise level would be 0; give "
                "either a positive value (the defaults are 19.9 and 0.1)",
                where="VPLoss.beta_d",
            )
        # the smallest diffusion time, in (0, 1)
        self.epsilon_t = check_number(
            epsilon_t, where="VPLoss.epsilon_t", low=0, high=1, low_open=True, high_open=True
        )

    def sample_sigma(self, images: Tensor) -> Tensor:
        t = 1 + self._draw(images, torch.rand) * (self.epsilon_t - 1)
        return F.vp_sigma(t, self.beta_d, self.beta_min)

    def sigma_weight(self, sigma: Tensor) -> Tensor:
        return F.inverse_square_weight(sigma)


class VELoss(_KarrasLoss):
    r"""The variance-exploding loss of Song et al. (2021), as EDM's Table 1 gives it.

    The loss of :class:`EDMLoss` with

    .. math::
        \sigma = \sigma_{min}\,(\sigma_{max}/\sigma_{min})^u,\ u \sim \mathcal U(0, 1),\qquad
        \lambda(\sigma) = 1/\sigma^2

    Args:
        sigma_min: Default 0.02.
        sigma_max: Greater than ``sigma_min``. Default 100.
        reduction: As :class:`EDMLoss`. Default ``'mean'``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_edm_ve'``), ``interval``.

    Shape:
        As :class:`EDMLoss`.

    Examples:
        >>> images = torch.ones(2, 3)
        >>> VELoss()(lambda x, sigma, labels: images, images, torch.tensor([0, 1]))
        tensor(0.)
    """

    default_loss_name = "loss_edm_ve"
    repr_fields = ("sigma_min", "sigma_max")

    def __init__(self, *, sigma_min: float = 0.02, sigma_max: float = 100.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sigma_min = check_number(sigma_min, where="VELoss.sigma_min", low=0, low_open=True)
        self.sigma_max = check_number(
            sigma_max, where="VELoss.sigma_max", low=self.sigma_min, low_open=True
        )

    def sample_sigma(self, images: Tensor) -> Tensor:
        return F.ve_sigma(self._draw(images, torch.rand), self.sigma_min, self.sigma_max)

    def sigma_weight(self, sigma: Tensor) -> Tensor:
        return F.inverse_square_weight(sigma)

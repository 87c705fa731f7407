"""The math of this package, as small pure functions."""

from __future__ import annotations

import torch
from ganloss_pixelwise.functional import discretized_gaussian_log_likelihood, gaussian_kld
from torch import Tensor

from ganlosscore import LossInputError

__all__ = [
    "ddpm_vlb_per_sample",
    "denoising_score_matching_loss",
    "edm_sigma",
    "edm_weight",
    "grouped_sum_and_count",
    "inverse_square_weight",
    "quartile_index",
    "ve_sigma",
    "vp_sigma",
]


def _flatmean(x: Tensor) -> Tensor:
    return x.flatten(1).mean(dim=1) if x.ndim > 1 else x


# -- DDPM ----------------------------------------------------------------------


def ddpm_vlb_per_sample(
    mean_pred: Tensor,
    mean_target: Tensor,
    logvar_pred: Tensor,
    logvar_target: Tensor,
    x: Tensor,
    timesteps: Tensor,
    mean: Tensor | None = None,
    logvar: Tensor | None = None,
) -> Tensor:
    r"""The per-sample terms :math:`L_{t_n}` of :class:`~ganloss_diffusion.DDPMVLBLoss` (see it).

    ``mean`` and ``logvar`` (the model at ``t = 0``) default to ``mean_pred``
    and ``logvar_pred``. Every sample is computed only by the term its
    timestep selects.

    Input: tensors of shape ``(N, *)`` (the ``logvar``\ s may be ``(N, 1, ...)``
    and broadcast), ``timesteps`` of shape ``(N,)``. Output: ``(N,)``, in bits
    per dimension.
    """
    n = timesteps.shape[0]
    mean0 = mean_pred if mean is None else mean
    logvar0 = logvar_pred if logvar is None else logvar
    named = {
        "mean_pred": mean_pred,
        "mean_target": mean_target,
        "logvar_pred": logvar_pred,
        "logvar_target": logvar_target,
        "x": x,
        "mean": mean0,
        "logvar": logvar0,
    }
    for name, tensor in named.items():
        if tensor.ndim == 0 or tensor.shape[0] != n:
            raise LossInputError(
                f"{name} has shape {tuple(tensor.shape)}, but there are {n} timesteps; every "
                "input of the variational bound needs the batch as its first dimension"
            )
    at_zero = timesteps == 0
    later = ~at_zero
    nll = -_flatmean(
        discretized_gaussian_log_likelihood(x[at_zero], mean0[at_zero], logvar0[at_zero], base="2")
    )
    kl = _flatmean(
        gaussian_kld(
            mean_target[later], mean_pred[later], logvar_target[later], logvar_pred[later], base="2"
        )
    )
    loss = logvar_pred.new_zeros(n)
    loss[at_zero] = nll.to(loss.dtype)
    loss[later] = kl.to(loss.dtype)
    return loss


def quartile_index(timesteps: Tensor, total_timesteps: int) -> Tensor:
    r"""Which quarter of the diffusion process each timestep falls in: 0, 1, 2 or 3.

    :math:`q = \lfloor 4t / T \rfloor`, clamped to ``[0, 3]`` (MMGeneration's
    ``quartile_log_collect`` drops out-of-range timesteps from the log; we count
    them in the nearest quartile). Continuous timesteps in ``[0, 1)`` work with
    ``total_timesteps=1``.

    Example:
        >>> quartile_index(torch.tensor([0, 249, 250, 999]), 1000)
        tensor([0, 0, 1, 3])
    """
    quarter = torch.div(timesteps * 4, total_timesteps, rounding_mode="floor")
    return quarter.long().clamp(0, 3)


def grouped_sum_and_count(values: Tensor, groups: Tensor, num_groups: int) -> tuple[Tensor, Tensor]:
    """Per-group sums and counts of ``values`` ``(N,)`` under ``groups`` ``(N,)``.

    No host synchronisation: an empty group has sum 0 and count 0.

    Example:
        >>> grouped_sum_and_count(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0, 0, 2]), 3)
        (tensor([3., 0., 4.]), tensor([2., 0., 1.]))
    """
    sums = values.new_zeros(num_groups).index_add_(0, groups, values)
    counts = values.new_zeros(num_groups).index_add_(0, groups, torch.ones_like(values))
    return sums, counts


# -- EDM (Karras et al., 2022) -------------------------------------------------


def edm_sigma(rnd_normal: Tensor, p_mean: float = -1.2, p_std: float = 1.2) -> Tensor:
    r"""EDM's training noise levels: :math:`\ln\sigma \sim \mathcal N(P_{mean}, P_{std}^2)`.

    :math:`\sigma = \exp(P_{mean} + P_{std}\, n)` for standard normal ``rnd_normal`` ``n``.

    Example:
        >>> edm_sigma(torch.tensor([0.0]), p_mean=0.0)
        tensor([1.])
    """
    return (rnd_normal * p_std + p_mean).exp()


def vp_sigma(t: Tensor, beta_d: float = 19.9, beta_min: float = 0.1) -> Tensor:
    r"""The variance-preserving schedule of Song et al. (2021), as EDM writes it.

    :math:`\sigma(t) = \sqrt{e^{\frac12 \beta_d t^2 + \beta_{min} t} - 1}`.

    Example:
        >>> vp_sigma(torch.tensor([0.0]))
        tensor([0.])
    """
    return ((0.5 * beta_d * t**2 + beta_min * t).exp() - 1).sqrt()


def ve_sigma(rnd_uniform: Tensor, sigma_min: float = 0.02, sigma_max: float = 100.0) -> Tensor:
    r"""The variance-exploding training noise levels: log-uniform in ``[sigma_min, sigma_max]``.

    :math:`\sigma = \sigma_{min} (\sigma_{max} / \sigma_{min})^u` for ``u`` uniform in ``[0, 1)``.

    Example:
        >>> ve_sigma(torch.tensor([0.0, 0.5]), 1.0, 100.0)
        tensor([ 1., 10.])
    """
    return sigma_min * (sigma_max / sigma_min) ** rnd_uniform


def edm_weight(sigma: Tensor, sigma_data: float = 0.5) -> Tensor:
    r"""EDM's loss weight.

    .. math::
        \lambda(\sigma) = \frac{\sigma^2 + \sigma_{data}^2}{(\sigma\,\sigma_{data})^2}

    It equals :math:`1 / c_{out}(\sigma)^2`, so the loss of the raw network
    :math:`F_\theta` has unit weight at every noise level (Karras et al., 2022,
    Section 5 and Table 1).

    Example:
        >>> edm_weight(torch.tensor([0.5]))  # (0.25 + 0.25) / 0.0625
        tensor([8.])
    """
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def inverse_square_weight(sigma: Tensor) -> Tensor:
    r"""The VP and VE loss weight :math:`\lambda(\sigma) = 1 / \sigma^2`.

    Example:
        >>> inverse_square_weight(torch.tensor([2.0]))
        tensor([0.2500])
    """
    return 1 / sigma**2


def denoising_score_matching_loss(denoised: Tensor, images: Tensor, weight: Tensor) -> Tensor:
    r"""Element-wise weighted denoising error :math:`\lambda(\sigma)\,\|D(y + n; \sigma) - y\|^2`.

    Input: ``denoised`` and ``images`` ``(N, *)`` of the same shape, ``weight``
    broadcastable to them (``(N, 1, ..., 1)``). Output ``(N, *)``.

    Example:
        >>> weight = torch.tensor([[3.0]])
        >>> denoising_score_matching_loss(torch.zeros(1, 2), torch.ones(1, 2), weight)
        tensor([[3., 3.]])
    """
    if denoised.shape != images.shape:
        raise LossInputError(
            f"the denoiser returned shape {tuple(denoised.shape)} for images of shape "
            f"{tuple(images.shape)}; it must return a denoised image of the input's shape"
        )
    # The difference in the result's dtype (float32 for half-precision images, whose weight
    # is float32), not rounded to the images' precision first.
    # (dtype promotion, not torch.result_type, which torch.compile cannot trace)
    dtype = torch.promote_types(torch.promote_types(denoised.dtype, images.dtype), weight.dtype)
    return weight * (denoised.to(dtype) - images.to(dtype)) ** 2

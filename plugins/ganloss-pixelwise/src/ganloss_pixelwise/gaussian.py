"""Gaussian KL divergence and discretized Gaussian log-likelihood losses (MMGeneration's).

Both have MMGeneration's default ``data_info`` (the core's
``default_data_info``): a config that leaves it out gets that mapping, and
``data_info=False`` means none, for a direct call with the inputs.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from torch import Tensor

from ganlosscore.checks import check_bool, check_choice

from . import functional as F
from .pixel import _ReducedLoss

__all__ = ["DiscretizedGaussianLogLikelihoodLoss", "GaussianKLDLoss"]


class _GaussianLoss(_ReducedLoss):
    """Adds ``base`` and ``only_update_var`` to ``reduction`` and ``avg_factor``."""

    default_data_info: ClassVar[dict[str, str]] = {}

    def __init__(
        self, *, base: str | float = "e", only_update_var: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        # MMGeneration writes 'e' or '2'; the numbers 2 and math.e are taken too
        named = "2" if base == 2 else "e" if base == math.e else base
        self.base = check_choice(named, ("e", "2"), where=f"{label}.base")
        self.only_update_var = check_bool(only_update_var, where=f"{label}.only_update_var")

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, base={self.base!r}, only_update_var={self.only_update_var}"


_GAUSSIAN_ARGS = """
        reduction: ``none|mean|sum|batchmean|flatmean``. Default ``'mean'``
            (MMGeneration's; its ``DDPMVLBLoss`` uses ``'flatmean'``).
        avg_factor: Divisor replacing the element count under ``'mean'``
            (MMGeneration accepts it but never uses it). Default ``None``.
        base: ``'e'`` (nats) or ``'2'`` (bits). Default ``'e'``."""


class GaussianKLDLoss(_GaussianLoss):
    r"""KL divergence from the predicted to the target diagonal Gaussian, element-wise.

    .. math::
        \ell = \operatorname{reduce}\Big(w \odot KL\big(\mathcal N(\mu_t, e^{v_t})\,\big\|\,
            \mathcal N(\mu_p, e^{v_p})\big)\Big),\quad
        KL = \tfrac12\big(-1 + v_p - v_t + e^{v_t - v_p} + (\mu_t - \mu_p)^2 e^{-v_p}\big)

    in nats, or with ``base='2'`` in bits (divided by :math:`\ln 2`);
    :math:`v` are log-variances and :math:`w` the optional element-wise
    ``weight`` input. The :math:`L_{t-1}` terms of the DDPM variational bound
    (Ho et al., 2020; Nichol & Dhariwal, 2021); MMGeneration's
    ``GaussianKLDLoss`` and ``gaussian_kld``, where a tensor ``loss_weight``
    was the element-wise weight: here that is the ``weight`` input.

    Args:{args}
        only_update_var: Detach ``mean_pred``, so that only ``logvar_pred`` is
            trained (Improved DDPM's :math:`L_{vlb}`). Default ``False``.
        data_info: Default (left out) MMGeneration's mapping, the class's
            ``default_data_info`` (each input from the key of its own name);
            ``False`` for none.
        **kwargs: ``loss_weight``, ``loss_name`` (default ``'loss_GaussianKLD'``),
            ``interval``.

    Shape:
        mean_target, mean_pred, logvar_target, logvar_pred: broadcastable to ``(N, *)``.
        weight: optional; broadcastable to ``(N, *)``.
        Output: a scalar; ``(N, *)`` with ``'none'``, ``(N,)`` with ``'flatmean'``.

    Examples:
        >>> loss = GaussianKLDLoss(data_info=False, base="2")
        >>> zero, one = torch.zeros(4), torch.ones(4)
        >>> loss(zero, one, zero, zero)  # 0.5 nats = 0.5 / ln 2 bits
        tensor(0.7213)
    """

    default_loss_name = "loss_GaussianKLD"
    default_data_info: ClassVar[dict[str, str]] = {
        "mean_pred": "mean_pred",
        "mean_target": "mean_target",
        "logvar_pred": "logvar_pred",
        "logvar_target": "logvar_target",
    }

    def compute(
        self,
        mean_target: Tensor,
        mean_pred: Tensor,
        logvar_target: Tensor,
        logvar_pred: Tensor,
        weight: Tensor | None = None,
    ) -> Tensor:
        if self.only_update_var:
            mean_pred = mean_pred.detach()
        kld = F.gaussian_kld(mean_target, mean_pred, logvar_target, logvar_pred, self.base)
        return self.reduce(kld, weight)


class DiscretizedGaussianLogLikelihoodLoss(_GaussianLoss):
    r"""Log-likelihood of 8-bit data under a Gaussian, per discretization bin.

    .. math::
        \ell = \operatorname{reduce}\big(w \odot \log p(x)\big),\quad
        \log p(x) = \log\Big(\Phi\Big(\frac{\delta_+(x) - \mu}{\sigma}\Big)
            - \Phi\Big(\frac{\delta_-(x) - \mu}{\sigma}\Big)\Big),\quad
        \delta_\pm(x) = \begin{cases}\pm\infty & x = \pm 1\\ x \pm 1/255 & \text{else}\end{cases}

    for data :math:`x \in [-1, 1]` (each value the bin :math:`x \pm 1/255`,
    the edge bins open), :math:`\sigma = e^{v/2}` from the log-variance,
    :math:`\Phi` Page's tanh approximation of the normal CDF
    (:func:`~ganloss_pixelwise.functional.approx_gaussian_cdf`), probabilities
    clamped at ``1e-12`` before the log, the edges detected as ``x < -0.999``
    and ``x > 0.999``, and :math:`w` the optional element-wise ``weight``
    input. The DDPM decoder term :math:`L_0` (Ho et al., 2020, Eq. 13), as
    Improved DDPM and MMGeneration's ``discretized_gaussian_log_likelihood``.

    **Sign (MMGeneration's):** the value is the log-likelihood, <= 0, not its
    negative: train with ``loss_weight=-1.0``, as MMGeneration's
    ``DDPMVLBLoss`` does.

    Args:{args}
        only_update_var: Detach ``mean``, training only ``logvar``. Default ``False``.
        data_info: Default (left out) MMGeneration's mapping, the class's
            ``default_data_info``: ``x`` from ``real_imgs``, ``mean`` from
            ``mean_pred``, ``logvar`` from ``logvar_pred``; ``False`` for none.
        **kwargs: ``loss_weight``, ``loss_name`` (default
            ``'loss_DiscGaussianLogLikelihood'``), ``interval``.

    Shape:
        x, mean, logvar: broadcastable to ``(N, *)``.
        weight: optional; broadcastable to ``(N, *)``.
        Output: a scalar; ``(N, *)`` with ``'none'``, ``(N,)`` with ``'flatmean'``.

    Examples:
        >>> nll = DiscretizedGaussianLogLikelihoodLoss(loss_weight=-1.0)
        >>> value = nll(dict(real_imgs=torch.zeros(2, 3), mean_pred=torch.zeros(2, 3),
        ...                  logvar_pred=torch.zeros(2, 3)))
        >>> round(value.item(), 2)  # -log(2/255 * N(0; 0, 1)) ~ -log(0.00313)
        5.77
    """

    default_loss_name = "loss_DiscGaussianLogLikelihood"
    default_data_info: ClassVar[dict[str, str]] = {
        "x": "real_imgs",
        "mean": "mean_pred",
        "logvar": "logvar_pred",
    }

    def compute(
        self, x: Tensor, mean: Tensor, logvar: Tensor, weight: Tensor | None = None
    ) -> Tensor:
        if self.only_update_var:
            mean = mean.detach()
        log_probs = F.discretized_gaussian_log_likelihood(x, mean, logvar, self.base)
        return self.reduce(log_probs, weight)


for _cls in (GaussianKLDLoss, DiscretizedGaussianLogLikelihoodLoss):
    _cls.__doc__ = (_cls.__doc__ or "").replace("{args}", _GAUSSIAN_ARGS)

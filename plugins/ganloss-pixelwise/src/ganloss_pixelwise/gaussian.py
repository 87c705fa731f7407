"""Gaussian KL divergence and discretized Gaussian log-likelihood losses.

Both default to MMGeneration's ``data_info``. MMGeneration treats
``data_info=None`` as "use the class default"; our core treats ``None`` as "no
mapping, call with the inputs". These losses keep MMGeneration's rule for
configs (leave ``data_info`` out and the default mapping applies) and take
``data_info=False`` to mean "no mapping": the loss is then called with its
inputs directly, ``loss(mean_target, mean_pred, logvar_target, logvar_pred)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from torch import Tensor

from ganlosscore import LossModule, weight_reduce_loss

from . import functional as F
from ._validation import (
    check_avg_factor,
    check_base,
    check_reduction,
    resolve_default_data_info,
)

__all__ = ["DiscretizedGaussianLogLikelihoodLoss", "GaussianKLDLoss"]


class _GaussianLoss(LossModule):
    """Shared hyperparameters: ``reduction``, ``avg_factor``, ``base``, ``only_update_var``."""

    #: The mapping used when the config gives no ``data_info`` (MMGeneration's).
    default_data_info: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        reduction: str = "mean",
        avg_factor: float | None = None,
        base: str = "e",
        only_update_var: bool = False,
        data_info: Mapping[str, str] | bool | None = None,
        **kwargs: Any,
    ) -> None:
        label = type(self).__name__
        super().__init__(
            data_info=resolve_default_data_info(data_info, self.default_data_info, label),
            **kwargs,
        )
        self.reduction = check_reduction(reduction, label)
        self.avg_factor = check_avg_factor(avg_factor, self.reduction, label)
        self.base = check_base(base, label)
        self.only_update_var = bool(only_update_var)

    def _reduce(self, loss: Tensor) -> Tensor:
        return weight_reduce_loss(loss, reduction=self.reduction, avg_factor=self.avg_factor)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, reduction={self.reduction!r}, base={self.base!r}, "
            f"only_update_var={self.only_update_var}"
        )


class GaussianKLDLoss(_GaussianLoss):
    r"""KL divergence from the predicted to the target diagonal Gaussian.

    .. math::
        \ell = \operatorname{reduce}\Big(KL\big(\mathcal N(\mu_t, e^{v_t})\,\big\|\,
            \mathcal N(\mu_p, e^{v_p})\big)\Big)
        = \operatorname{reduce}\Big(\tfrac12\big(-1 + v_p - v_t + e^{v_t - v_p}
            + (\mu_t - \mu_p)^2 e^{-v_p}\big)\Big)

    element-wise (see :func:`ganloss_pixelwise.functional.gaussian_kld`), in nats
    or, with ``base='2'``, bits. Used for the :math:`L_{t-1}` terms of the DDPM
    variational bound (Ho et al., 2020; Nichol & Dhariwal, 2021).

    Args:
        reduction: ``none|mean|sum|batchmean|flatmean``. Default ``'mean'``
            (MMGeneration's default; its ``DDPMVLBLoss`` uses ``'flatmean'``).
            ``'batchmean'`` gives the KL of the whole sample averaged over the batch.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (MMGeneration accepts it but never uses it; we honour it). Default ``None``.
        base: ``'e'`` (nats) or ``'2'`` (bits). Default ``'e'``.
        only_update_var: Detach ``mean_pred`` so that only ``logvar_pred`` is
            trained by this loss (Improved DDPM's :math:`L_{vlb}` with a
            stop-gradient on the mean). Default ``False``.
        data_info: Default (when left out) MMGeneration's
            ``{'mean_pred': 'mean_pred', 'mean_target': 'mean_target',
            'logvar_pred': 'logvar_pred', 'logvar_target': 'logvar_target'}``;
            ``False`` for no mapping (call with the inputs directly).
        **kwargs: ``loss_weight``, ``loss_name`` (default ``'loss_GaussianKLD'``),
            ``interval``.

    Inputs: ``mean_target``, ``mean_pred``, ``logvar_target``, ``logvar_pred``,
    broadcastable to ``(N, *)`` (``logvar`` is the log-variance).

    Mirrors MMGeneration's ``GaussianKLDLoss``; there ``loss_weight`` is passed
    as the element-wise weight and ``avg_factor`` is dropped.

    Example:
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
    ) -> Tensor:
        if self.only_update_var:
            mean_pred = mean_pred.detach()
        kld = F.gaussian_kld(mean_target, mean_pred, logvar_target, logvar_pred, self.base)
        return self._reduce(kld)


class DiscretizedGaussianLogLikelihoodLoss(_GaussianLoss):
    r"""Log-likelihood of 8-bit data under a Gaussian, per discretization bin.

    .. math::
        \ell = \operatorname{reduce}\big(\log p(x \mid \mu, e^{v})\big)

    with :math:`\log p` from
    :func:`ganloss_pixelwise.functional.discretized_gaussian_log_likelihood`
    (bins of width 2/255 over ``[-1, 1]``; the DDPM decoder term :math:`L_0`,
    Ho et al., 2020).

    **Sign convention (MMGeneration's):** the value is the log-likelihood
    itself, which is <= 0, *not* the negative log-likelihood. Minimising it
    would lower the likelihood; to train with it set ``loss_weight=-1.0``, as
    MMGeneration's ``DDPMVLBLoss`` does (``ganloss-diffusion``'s ``DDPMVLBLoss``
    does this for you).

    Args:
        reduction: ``none|mean|sum|batchmean|flatmean``. Default ``'mean'``.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (MMGeneration accepts it but never uses it; we honour it). Default ``None``.
        base: ``'e'`` (nats) or ``'2'`` (bits). Default ``'e'``.
        only_update_var: Detach ``mean``, training only ``logvar``. Default ``False``.
        data_info: Default (when left out) MMGeneration's
            ``{'x': 'real_imgs', 'mean': 'mean_pred', 'logvar': 'logvar_pred'}``;
            ``False`` for no mapping (call with the inputs directly).
        **kwargs: ``loss_weight``, ``loss_name`` (default
            ``'loss_DiscGaussianLogLikelihood'``), ``interval``.

    Inputs: ``x`` (data in ``[-1, 1]``), ``mean``, ``logvar``, broadcastable to ``(N, *)``.

    Mirrors MMGeneration's ``DiscretizedGaussianLogLikelihoodLoss``; there
    ``loss_weight`` is passed as the element-wise weight and ``avg_factor`` is
    dropped.

    Example:
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

    def compute(self, x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
        if self.only_update_var:
            mean = mean.detach()
        log_probs = F.discretized_gaussian_log_likelihood(x, mean, logvar, self.base)
        return self._reduce(log_probs)

"""Pixel-wise reconstruction losses: L1, MSE and Charbonnier.

Differences from MMGeneration's ``L1Loss`` and ``MSELoss``
(``mmgen/models/losses/pixelwise_loss.py``):

* ``reduction``, ``avg_factor`` and an element-wise ``weight`` input are honoured on
  both call paths (MMGeneration's ``L1Loss`` drops ``avg_factor`` when ``data_info``
  is set, and its ``MSELoss`` has neither ``reduction`` nor ``avg_factor`` among its
  options: a config giving them fails, and the loss is always the mean);
* ``loss_weight`` scales the reduced loss; MMGeneration passes it as the element-wise
  ``weight``, so an element-wise weight could not be given with ``data_info``
  (every reduction is linear, so the two give the same value);
* ``pred`` and ``target`` must have the same shape (no silent broadcasting);
* a bad ``reduction``/``avg_factor`` is a ``ConfigError`` at construction.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ganlosscore import LossModule, weight_reduce_loss

from . import functional as F
from ._validation import check_avg_factor, check_number, check_reduction

__all__ = ["CharbonnierLoss", "L1Loss", "MSELoss"]


class _PixelwiseLoss(LossModule):
    """An element-wise loss of ``pred`` and ``target``, weighted and reduced.

    Subclasses define :meth:`elementwise`.
    """

    def __init__(
        self, *, reduction: str = "mean", avg_factor: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.reduction = check_reduction(reduction, label)
        self.avg_factor = check_avg_factor(avg_factor, self.reduction, label)

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def compute(self, pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return weight_reduce_loss(
            self.elementwise(pred, target),
            weight=weight,
            reduction=self.reduction,
            avg_factor=self.avg_factor,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), f"reduction={self.reduction!r}"]
        if self.avg_factor is not None:
            parts.append(f"avg_factor={self.avg_factor}")
        return ", ".join(parts)


class L1Loss(_PixelwiseLoss):
    r"""L1 (mean absolute error) loss.

    .. math::
        \ell = \lambda \operatorname{reduce}\big(w \odot |\hat y - y|\big)

    where :math:`\lambda` is ``loss_weight``, :math:`w` the optional ``weight``
    input, ``reduce`` is ``reduction`` (``none|mean|sum|batchmean|flatmean``), and
    ``mean`` with ``avg_factor`` is ``sum / avg_factor``.

    Args:
        reduction: How to reduce the element-wise loss. Default ``'mean'``.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (ignored by ``'none'``, refused by the other modes). Default ``None``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_l1'``), ``interval``.

    Inputs: ``pred`` ``(N, *)``, ``target`` ``(N, *)``, optional ``weight``
    broadcastable to ``(N, *)``.

    Mirrors MMGeneration's ``L1Loss``; see the module docstring for the differences.

    Example:
        >>> loss = L1Loss(data_info=dict(pred="fake_imgs", target="real_imgs"))
        >>> loss(dict(fake_imgs=torch.ones(2, 3), real_imgs=torch.zeros(2, 3)))
        tensor(1.)
    """

    default_loss_name = "loss_l1"

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(pred, target)


class MSELoss(_PixelwiseLoss):
    r"""MSE (mean squared error) loss.

    .. math::
        \ell = \lambda \operatorname{reduce}\big(w \odot (\hat y - y)^2\big)

    where :math:`\lambda` is ``loss_weight``, :math:`w` the optional ``weight``
    input, ``reduce`` is ``reduction`` (``none|mean|sum|batchmean|flatmean``), and
    ``mean`` with ``avg_factor`` is ``sum / avg_factor``: MMGeneration's
    ``loss_weight * mse_loss(pred, target, weight, reduction, avg_factor)``.

    Args:
        reduction: How to reduce the element-wise loss. Default ``'mean'``.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (ignored by ``'none'``, refused by the other modes). Default ``None``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_mse'``), ``interval``.

    Inputs: ``pred`` ``(N, *)``, ``target`` ``(N, *)``, optional ``weight``
    broadcastable to ``(N, *)``.

    Mirrors MMGeneration's ``MSELoss`` (same ``loss_weight``, ``data_info`` and
    default ``loss_name``; with the defaults, the same value). MMGeneration's
    has no ``reduction`` or ``avg_factor`` option (a config giving either fails
    there, and the loss is always the mean); here both are options, honoured on
    both call paths. See the module docstring for the other differences.

    Example:
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
        \ell = \lambda \operatorname{reduce}\big(w \odot \sqrt{(\hat y - y)^2 + \epsilon}\big)

    with :math:`\lambda`, :math:`w` and ``reduce`` as in :class:`L1Loss`.

    Args:
        eps: :math:`\epsilon`. Default ``1e-12``, as MMEditing/BasicSR's
            ``CharbonnierLoss`` (MMGeneration itself has none).
        reduction: How to reduce the element-wise loss. Default ``'mean'``.
        avg_factor: Divisor replacing the element count under ``'mean'``
            (ignored by ``'none'``, refused by the other modes). Default ``None``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_charbonnier'``), ``interval``.

    Inputs: ``pred`` ``(N, *)``, ``target`` ``(N, *)``, optional ``weight``
    broadcastable to ``(N, *)``.

    Paper: Lai et al., "Deep Laplacian Pyramid Networks for Fast and Accurate
    Super-Resolution" (LapSRN, CVPR 2017).

    Example:
        >>> CharbonnierLoss(eps=16.0)(torch.tensor([3.0]), torch.tensor([0.0]))
        tensor(5.)
    """

    default_loss_name = "loss_charbonnier"

    def __init__(self, *, eps: float = 1e-12, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.eps = check_number(eps, "eps", "CharbonnierLoss", minimum=0.0)

    def elementwise(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.charbonnier_loss(pred, target, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}"

"""Balanced consistency regularization (bCR) of the discriminator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import ConfigError, LossInputError, LossModule
from ganlosscore.checks import check_number

__all__ = ["BalancedConsistencyLoss", "consistency_penalty"]


def consistency_penalty(pred: Tensor, pred_augmented: Tensor) -> Tensor:
    """``mean((D(x) - D(T(x))) ** 2)``: see :class:`BalancedConsistencyLoss`."""
    return (pred - pred_augmented).pow(2).mean()


class BalancedConsistencyLoss(LossModule):
    r"""Balanced consistency regularization (bCR).

    .. math::
        L = \lambda_{real} \lVert D(x) - D(T(x)) \rVert^2
          + \lambda_{fake} \lVert D(G(z)) - D(T(G(z))) \rVert^2

    with :math:`T` a semantics-preserving augmentation and the squared norm
    averaged over the batch (and over D's output elements). From Zhao et al.,
    *Improved Consistency Regularization for GANs*, AAAI 2021 (arXiv 2020),
    with :math:`\lambda_{real} = \lambda_{fake} = 10`; the whole is further
    multiplied by ``loss_weight``. ``lambda_fake=0`` (and no ``fake_data``)
    gives the consistency regularization (CR) of Zhang et al., ICLR 2020.
    MMGeneration has no bCR loss.

    The augmentation is an input, a callable taken from the outputs dict (key
    of your choice, e.g. ``augment``), so the model decides what ``T`` is
    (flips and translations in the paper). Both ``D(x)`` and ``D(T(x))`` get
    gradients. D's outputs on the unaugmented data can be passed in
    (``disc_pred_real`` / ``disc_pred_fake``, the model's usual keys) to save a
    forward pass; they must be D's outputs on exactly ``real_data`` /
    ``fake_data``.

    Args:
        lambda_real: weight of the real term (10).
        lambda_fake: weight of the fake term (10).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.
            With ``data_info``, a term whose lambda is positive must have its
            data mapped (``real_data`` / ``fake_data``); this is checked at
            construction.

    Shape:
        discriminator: a callable, ``(N, C, H, W) -> (N, *)``.
        augment: a callable, ``(N, C, H, W) -> (N, C, H, W)``.
        real_data, fake_data: ``(N, C, H, W)``; optional, see above. Pass
            ``fake_data`` detached in the discriminator step.
        disc_pred_real, disc_pred_fake: optional precomputed ``D(real_data)``,
            ``D(fake_data)``.
        Output: scalar.

    Examples:
        >>> disc = lambda x: x.sum(dim=(1, 2, 3))
        >>> bcr = BalancedConsistencyLoss(lambda_real=10.0, lambda_fake=0.0)
        >>> bcr(disc, lambda x: x + 1, real_data=torch.zeros(2, 1, 2, 2))  # 10 * (0 - 4)^2
        tensor(160.)
    """

    default_loss_name = "loss_bcr"

    def __init__(self, lambda_real: float = 10.0, lambda_fake: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.lambda_real = check_number(lambda_real, where=f"{label}.lambda_real", low=0.0)
        self.lambda_fake = check_number(lambda_fake, where=f"{label}.lambda_fake", low=0.0)
        if self.lambda_real == 0.0 and self.lambda_fake == 0.0:
            raise ConfigError(
                "lambda_real and lambda_fake are both 0, so the loss is always 0; "
                "give at least one a positive weight (the paper uses 10 and 10)",
                where=f"{label}.lambda_real",
            )
        if self.data_info is not None:
            for term, weight in (("real", self.lambda_real), ("fake", self.lambda_fake)):
                if weight > 0.0 and f"{term}_data" not in self.data_info:
                    raise ConfigError(
                        f"lambda_{term}={weight} but data_info does not map '{term}_data'; "
                        f"map it (e.g. {{'{term}_data': '{term}_imgs'}}) or set lambda_{term}=0",
                        where=f"{label}.data_info",
                    )

    def compute(
        self,
        discriminator: Callable[[Tensor], Tensor],
        augment: Callable[[Tensor], Tensor],
        real_data: Tensor | None = None,
        fake_data: Tensor | None = None,
        disc_pred_real: Tensor | None = None,
        disc_pred_fake: Tensor | None = None,
    ) -> Tensor:
        values: list[Tensor] = []
        terms = (
            ("real", self.lambda_real, real_data, disc_pred_real),
            ("fake", self.lambda_fake, fake_data, disc_pred_fake),
        )
        for term, weight, data, pred in terms:
            if weight == 0.0:
                continue
            if data is None:
                raise LossInputError(
                    f"lambda_{term}={weight} needs {term}_data, which was not given; pass it "
                    f"or set lambda_{term}=0",
                    where=self.loss_name(),
                )
            if pred is None:
                pred = discriminator(data)
            values.append(weight * consistency_penalty(pred, discriminator(augment(data))))
        # The constructor refuses two zero weights, so values holds one or two terms.
        return values[0] if len(values) == 1 else values[0] + values[1]

    def extra_repr(self) -> str:
        weights = f"lambda_real={self.lambda_real}, lambda_fake={self.lambda_fake}"
        return f"{super().extra_repr()}, {weights}"

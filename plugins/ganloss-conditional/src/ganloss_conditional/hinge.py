"""MH-GAN's multi-class hinge loss (Crammer-Singer) over K classes and a fake class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import ConfigError, LossInputError, LossModule
from ganlosscore.checks import check_choice

from .functional import class_inputs, class_scores, multi_hinge_loss

__all__ = ["MultiHingeLoss"]

TARGETS = ("label", "fake")


class MultiHingeLoss(LossModule):
    """MH-GAN's multi-class hinge loss: the Crammer-Singer hinge over K + 1 classes.

    ``loss = mean_i relu(1 + max_{k != c_i} x_ik - x_ic_i)``

    where ``x_i`` are the discriminator's ``K + 1`` scores of sample ``i`` (the
    ``K`` classes, then the fake class ``K`` in the last column) and ``c_i``
    is its target class: its label ``y_i`` (``target="label"``) or the fake
    class ``K`` (``target="fake"``). Kavalerov, Czaja & Chellappa 2021, "A
    Multi-Class Hinge Loss for Conditional GANs" (WACV); Crammer & Singer
    2001 for the hinge. As in PyTorch-StudioGAN (``crammer_singer_loss`` in
    ``src/utils/losses.py``, ``adv_loss="MH"``), the discriminator's loss is
    two terms, ``target="label"`` on real samples plus ``target="fake"`` on
    generated ones, and the generator's is ``target="label"`` on its samples
    with the labels they were generated for (StudioGAN's ``mh_lambda`` is
    ``loss_weight``).

    A label equal to ``K`` (the fake class) is not refused: checking label
    values would wait for the device. Out-of-range labels are reported by
    torch's ``gather`` (a ``RuntimeError`` on the CPU, a device-side
    assertion on a GPU).

    Args:
        target: ``"label"`` (map ``labels`` in ``data_info``) or ``"fake"``
            (no ``labels``: every sample's target is the last column).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_mh``), ``interval``.

    Shape:
        logits: ``(N, K + 1)``, the discriminator's class scores, fake class last.
        labels: ``(N,)``, class indices in ``[0, K)``; only with ``target="label"``.
        Output: scalar.

    Examples:
        >>> real = MultiHingeLoss(data_info={"logits": "mh_real", "labels": "y_real"})
        >>> fake = MultiHingeLoss("fake", data_info={"logits": "mh_fake"})
        >>> outputs = {"mh_real": torch.tensor([[2.0, 0.5, -1.0]]), "y_real": torch.tensor([1]),
        ...            "mh_fake": torch.tensor([[2.0, 0.5, -1.0]])}
        >>> real(outputs), fake(outputs)  # relu(1 + 2 - 0.5), relu(1 + 2 - (-1))
        (tensor(2.5000), tensor(4.))
    """

    default_loss_name = "loss_mh"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits"})

    def __init__(self, target: str = "label", **kwargs: Any) -> None:
        target = check_choice(target, TARGETS, where=f"{type(self).__name__}.target")
        data_info = kwargs.get("data_info")
        if isinstance(data_info, Mapping) and ("labels" in data_info) != (target == "label"):
            raise ConfigError(_labels_problem(target), where=f"{type(self).__name__}.data_info")
        super().__init__(**kwargs)
        self.target = target

    def compute(self, logits: Tensor, labels: Tensor | None = None) -> Tensor:
        where = self.loss_name()
        if (labels is None) == (self.target == "label"):
            raise LossInputError(_labels_problem(self.target), where=f"{where}.labels")
        if labels is None:
            return multi_hinge_loss(
                class_scores(logits, where=f"{where}.logits", min_columns=2), None
            )
        return multi_hinge_loss(*class_inputs(logits, labels, where=where))

    def extra_repr(self) -> str:
        return f"target={self.target!r}, {super().extra_repr()}"


def _labels_problem(target: str) -> str:
    if target == "label":
        return (
            "target='label' compares each sample's score for its label with its other "
            "scores, so it needs labels: map them in data_info (e.g. {'logits': 'mh_real', "
            "'labels': 'real_labels'}), or set target='fake' for the discriminator's term on "
            "generated samples"
        )
    return (
        "target='fake' scores every sample against the fake class (the last column) and "
        "reads no labels; leave labels out, or set target='label' to use them"
    )

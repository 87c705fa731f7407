"""Classifier losses of class-conditional GANs: AC-GAN and the two repairs of its bias.

AC-GAN's classifier, trained on generated samples as well, rewards a generator
that makes samples easy to classify, away from the class boundaries (Shu et
al. 2017; Gong et al. 2019). TAC-GAN adds a twin classifier that the generator
must fool; ADC-GAN lets one classifier tell real from generated within each
class. ``CE(logits, y)`` below is ``mean_i(logsumexp_k(logits_ik) - logits_iy_i)``,
torch's ``cross_entropy``.
"""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossInputError, LossModule
from ganlosscore.checks import check_number

from .functional import (
    auxiliary_classifier_loss,
    class_inputs,
    discriminative_classifier_disc_loss,
    discriminative_classifier_gen_loss,
    twin_classifier_disc_loss,
    twin_classifier_gen_loss,
)

__all__ = [
    "AuxiliaryClassifierLoss",
    "DiscDiscriminativeClassifierLoss",
    "DiscTwinClassifierLoss",
    "GenDiscriminativeClassifierLoss",
    "GenTwinClassifierLoss",
]

# The names of (scores, labels) input pairs, for the errors of class_inputs.
REAL = ("logits_real", "labels_real")
FAKE = ("logits_fake", "labels_fake")
TWIN = ("twin_logits", "labels")
TWIN_FAKE = ("twin_logits_fake", "labels_fake")


class AuxiliaryClassifierLoss(LossModule):
    """AC-GAN's auxiliary classification loss: the cross entropy of class logits.

    ``loss = CE(logits, labels) = mean_i(logsumexp_k(logits_ik) - logits_iy_i)``

    Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary
    Classifier GANs" (the class log-likelihood ``L_C``, maximized by both
    networks). Configure one term per use: the discriminator's on real samples
    (and, as in the paper, on generated ones; PyTorch-StudioGAN's AC-GAN uses
    real samples only), the generator's on its samples with the labels they
    were generated for. To repair AC-GAN's bias towards easy-to-classify
    samples, see :class:`DiscTwinClassifierLoss` (TAC-GAN) and
    :class:`DiscDiscriminativeClassifierLoss` (ADC-GAN).

    Labels are checked for dtype and shape when the loss is called (a
    ``LossInputError``); a label outside ``[0, C)`` is reported by torch's
    ``cross_entropy`` (an ``IndexError`` on the CPU, a device-side assertion
    on a GPU), as checking its range would wait for the device every step.

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_ac``), ``interval``.

    Shape:
        logits: ``(N, C)``, the classifier's raw scores for ``C`` classes.
        labels: ``(N,)``, integer class indices in ``[0, C)``.
        Output: scalar.

    Examples:
        >>> loss = AuxiliaryClassifierLoss(data_info={"logits": "cls_real", "labels": "y_real"})
        >>> loss({"cls_real": torch.zeros(2, 4), "y_real": torch.tensor([0, 3])})  # log 4
        tensor(1.3863)
    """

    default_loss_name = "loss_ac"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits"})

    def compute(self, logits: Tensor, labels: Tensor) -> Tensor:
        logits, labels = class_inputs(logits, labels, where=self.loss_name())
        return auxiliary_classifier_loss(logits, labels)


class _TwinWeighted(LossModule):
    """TAC-GAN's two sides: ``twin_weight``, the weight of the twin classifier's term, ``>= 0``."""

    def __init__(self, twin_weight: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"{type(self).__name__}.twin_weight"
        self.twin_weight = check_number(twin_weight, where=where, low=0.0)

    def extra_repr(self) -> str:
        return f"twin_weight={self.twin_weight}, {super().extra_repr()}"


class DiscTwinClassifierLoss(_TwinWeighted):
    """TAC-GAN's classifier terms of the discriminator: the classifier and its twin.

    ``loss = CE(logits_real, labels_real) + twin_weight * CE(twin_logits_fake, labels_fake)``

    The classifier ``C`` learns the classes of real samples; the twin
    classifier ``C_mi`` (a second head) learns the classes of generated
    samples. Gong et al. 2019, "Twin Auxiliary Classifiers GAN" (NeurIPS);
    PyTorch-StudioGAN's ``aux_cls_type="TAC"``, whose
    ``tac_dis_lambda / cond_lambda`` is ``twin_weight`` here and
    ``cond_lambda`` is ``loss_weight``. The generator's side is
    :class:`GenTwinClassifierLoss`.

    Args:
        twin_weight: Weight of the twin classifier's term, ``>= 0``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_disc_tac``), ``interval``.

    Shape:
        logits_real: ``(N, C)``, the classifier on real samples.
        labels_real: ``(N,)``, their class indices.
        twin_logits_fake: ``(M, C)``, the twin classifier on generated samples.
        labels_fake: ``(M,)``, the classes they were generated for.
        Output: scalar.

    Examples:
        >>> loss = DiscTwinClassifierLoss()
        >>> x = torch.zeros(2, 4)
        >>> loss(x, torch.tensor([0, 1]), x, torch.tensor([2, 3]))  # log 4 + log 4
        tensor(2.7726)
    """

    default_loss_name = "loss_disc_tac"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits_real", "twin_logits_fake"})

    def compute(
        self,
        logits_real: Tensor,
        labels_real: Tensor,
        twin_logits_fake: Tensor,
        labels_fake: Tensor,
    ) -> Tensor:
        name = self.loss_name()
        real = class_inputs(logits_real, labels_real, where=name, names=REAL)
        fake = class_inputs(twin_logits_fake, labels_fake, where=name, names=TWIN_FAKE)
        return twin_classifier_disc_loss(*real, *fake, self.twin_weight)


class GenTwinClassifierLoss(_TwinWeighted):
    """TAC-GAN's classifier terms of the generator: be classified as ``y``, fool the twin.

    ``loss = CE(logits, labels) - twin_weight * CE(twin_logits, labels)``

    on generated samples: the classifier ``C`` should find their class, the
    twin classifier ``C_mi`` should not (the generator maximizes its loss),
    which removes AC-GAN's incentive to generate only easily classified
    samples. Gong et al. 2019, "Twin Auxiliary Classifiers GAN" (NeurIPS);
    PyTorch-StudioGAN's ``aux_cls_type="TAC"`` generator loss, with
    ``twin_weight = tac_gen_lambda / cond_lambda``. The value is unbounded
    below (the twin's cross entropy grows without bound); the discriminator's
    side is :class:`DiscTwinClassifierLoss`.

    Args:
        twin_weight: Weight of the twin classifier's term, ``>= 0``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_gen_tac``), ``interval``.

    Shape:
        logits: ``(N, C)``, the classifier on generated samples.
        twin_logits: ``(N, C)``, the twin classifier on the same samples.
        labels: ``(N,)``, the classes they were generated for.
        Output: scalar.

    Examples:
        >>> loss = GenTwinClassifierLoss()
        >>> loss(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2), torch.tensor([0]))
        tensor(-0.3799)
    """

    default_loss_name = "loss_gen_tac"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits", "twin_logits"})

    def compute(self, logits: Tensor, twin_logits: Tensor, labels: Tensor) -> Tensor:
        name = self.loss_name()
        logits, labels = class_inputs(logits, labels, where=name)
        twin_logits, _ = class_inputs(twin_logits, labels, where=name, names=TWIN)
        return twin_classifier_gen_loss(logits, twin_logits, labels, self.twin_weight)


def _paired_columns(logits: Tensor, where: str) -> None:
    """ADC-GAN's classifier scores a real and a fake class for each class: 2K columns."""
    if logits.shape[1] % 2:
        raise LossInputError(
            f"expected 2K columns (real and generated samples of each of K classes), got "
            f"{logits.shape[1]}; column 2k scores 'real, class k', column 2k + 1 "
            "'generated, class k'",
            where=where,
        )


class DiscDiscriminativeClassifierLoss(LossModule):
    """ADC-GAN's classifier loss of the discriminator: real and generated, class by class.

    ``loss = CE(logits_real, 2 * labels_real) + CE(logits_fake, 2 * labels_fake + 1)``

    One discriminative classifier with ``2K`` outputs tells a real sample of
    class ``k`` (column ``2k``) from a generated one (column ``2k + 1``), so a
    generator cannot lower its loss by producing easily classified samples.
    Hou et al. 2022, "Conditional GANs with Auxiliary Discriminative
    Classifier" (ICML), the classifier's objective; the interleaved column
    layout is PyTorch-StudioGAN's ``aux_cls_type="ADC"`` (labels ``2y`` for
    real, ``2y + 1`` for generated samples), whose ``cond_lambda`` is
    ``loss_weight``. The generator's side is
    :class:`GenDiscriminativeClassifierLoss`.

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_disc_adc``), ``interval``.

    Shape:
        logits_real: ``(N, 2K)``, the classifier on real samples.
        labels_real: ``(N,)``, their classes in ``[0, K)``.
        logits_fake: ``(M, 2K)``, the classifier on generated samples.
        labels_fake: ``(M,)``, the classes they were generated for.
        Output: scalar.

    Examples:
        >>> loss = DiscDiscriminativeClassifierLoss()
        >>> x = torch.zeros(2, 4)  # K = 2
        >>> loss(x, torch.tensor([0, 1]), x, torch.tensor([1, 0]))  # log 4 + log 4
        tensor(2.7726)
    """

    default_loss_name = "loss_disc_adc"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits_real", "logits_fake"})

    def compute(
        self, logits_real: Tensor, labels_real: Tensor, logits_fake: Tensor, labels_fake: Tensor
    ) -> Tensor:
        name = self.loss_name()
        real = class_inputs(logits_real, labels_real, where=name, names=REAL)
        fake = class_inputs(logits_fake, labels_fake, where=name, names=FAKE)
        _paired_columns(real[0], f"{name}.logits_real")
        _paired_columns(fake[0], f"{name}.logits_fake")
        return discriminative_classifier_disc_loss(*real, *fake)


class GenDiscriminativeClassifierLoss(LossModule):
    """ADC-GAN's classifier loss of the generator: look like a real sample of class ``y``.

    ``loss = CE(logits, 2 * labels) - CE(logits, 2 * labels + 1)``
    ``= mean_i(logits_i[2 * y_i + 1] - logits_i[2 * y_i])``

    on generated samples, over the ``2K`` columns (column ``2k``: real of class
    ``k``; ``2k + 1``: generated of class ``k``): the log-probability of
    "generated, class y" minus that of "real, class y", whose softmax
    normalizers cancel. Hou et al. 2022, "Conditional GANs with Auxiliary
    Discriminative Classifier" (ICML), the generator's objective;
    PyTorch-StudioGAN's ``aux_cls_type="ADC"`` generator loss. The value is
    unbounded below. The discriminator's side is
    :class:`DiscDiscriminativeClassifierLoss`.

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_gen_adc``), ``interval``.

    Shape:
        logits: ``(N, 2K)``, the classifier on generated samples.
        labels: ``(N,)``, the classes they were generated for, in ``[0, K)``.
        Output: scalar.

    Examples:
        >>> loss = GenDiscriminativeClassifierLoss()
        >>> loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))  # log p(fake) - log p(real) = -1
        tensor(-1.)
    """

    default_loss_name = "loss_gen_adc"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"logits"})

    def compute(self, logits: Tensor, labels: Tensor) -> Tensor:
        logits, labels = class_inputs(logits, labels, where=self.loss_name())
        _paired_columns(logits, f"{self.loss_name()}.logits")
        return discriminative_classifier_gen_loss(logits, labels)

"""Contrastive conditional losses: ContraGAN's 2C loss and ReACGAN's D2D-CE.

Both compare the discriminator's embedding ``e_i`` of each sample with the
embedding ``p_i`` of its label (the "proxy", a learned class embedding) and
with the other samples of the batch, by cosine similarity
``cos(a, b) = a.b / (|a| |b|)``. Both are used by the discriminator on real
samples and by the generator on its samples with the labels they were
generated for; their gradients reach the embeddings and the proxies.

Under ``torch.distributed`` each rank's batch is its own: PyTorch-StudioGAN
gathers the embeddings of every rank first, which makes the batch (and the
value) larger.
"""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossModule
from ganlosscore.checks import check_number

from .functional import (
    contrastive_conditional_loss,
    data_to_data_cross_entropy_loss,
    embedding_inputs,
)

__all__ = ["ContrastiveConditionalLoss", "Data2DataCrossEntropyLoss"]


class ContrastiveConditionalLoss(LossModule):
    """ContraGAN's conditional contrastive (2C) loss.

    ``loss = mean_i -log(P_i / A_i)``, with ``t = temperature`` and

    - ``P_i = exp(cos(e_i, p_i) / t) + sum_{j != i, y_j = y_i} exp(cos(e_i, e_j) / t)``,
    - ``A_i = exp(cos(e_i, p_i) / t) + sum_{j != i} exp(cos(e_i, e_j) / t)``:

    each sample is pulled towards its label's proxy and towards the samples of
    its class, and pushed from the others. Kang & Park 2020, "ContraGAN:
    Contrastive Learning for Conditional Image Generation" (NeurIPS), the 2C
    loss; the sums run over the other samples ``j != i``, as in
    PyTorch-StudioGAN's ``ConditionalContrastiveLoss`` (``src/utils/losses.py``),
    whose value this is. A margin subtracted from every similarity, as in
    StudioGAN's first version, cancels in the ratio, so there is none here.
    Computed as ``logsumexp - logsumexp``, stable at any temperature.

    Args:
        temperature: ``t > 0``; lower values sharpen the softmax.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_2c``), ``interval``.

    Shape:
        embeddings: ``(N, D)``, the discriminator's embedding of each sample.
        proxies: ``(N, D)``, the embedding of each sample's label.
        labels: ``(N,)``, integer class indices (only compared with each other).
        Output: scalar.

    Examples:
        >>> loss = ContrastiveConditionalLoss(temperature=1.0)
        >>> e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> loss(e, e, torch.tensor([0, 1]))  # -log(e / (e + 1))
        tensor(0.3133)
    """

    default_loss_name = "loss_2c"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"embeddings", "proxies"})

    def __init__(self, temperature: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"{type(self).__name__}.temperature"
        self.temperature = check_number(temperature, where=where, low=0.0, low_open=True)

    def compute(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        inputs = embedding_inputs(embeddings, proxies, labels, where=self.loss_name())
        return contrastive_conditional_loss(*inputs, self.temperature)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, {super().extra_repr()}"


class Data2DataCrossEntropyLoss(LossModule):
    """ReACGAN's data-to-data cross-entropy (D2D-CE) loss.

    ``loss = mean_i -log(exp(-a_i) / (exp(-a_i) + sum_{j: y_j != y_i} exp(b_ij)))``, with

    - ``a_i = relu(m_p - cos(e_i, p_i)) / t``, the proxy attraction, zero once
      the similarity reaches the positive margin ``m_p``;
    - ``b_ij = relu(cos(e_i, e_j) - m_n) / t``, the repulsion of samples of
      other classes, zero below the negative margin ``m_n``.

    Samples of the same class are no negatives (the false-negative removal),
    so only classes are contrasted. Kang, Shin & Park 2021, "Rebooting ACGAN:
    Auxiliary Classifier GANs with Stable Training" (NeurIPS), the D2D-CE
    loss. PyTorch-StudioGAN's ``Data2DataCrossEntropyLoss``
    (``src/utils/losses.py``) ties ``m_n = 1 - m_p`` (the defaults here keep
    that) and, "for numerical stability", subtracts each row's detached
    maximum similarity from the negative terms only, which also rescales them
    against the positive term by ``exp(-max_j s_ij)``; this class computes the
    paper's equation exactly, as ``a_i + logsumexp([-a_i, b_ij])``, which is
    stable without a shift, and equals StudioGAN's value wherever that maximum
    is 0.

    Args:
        temperature: ``t > 0``.
        positive_margin: ``m_p`` in ``[-1, 1]``.
        negative_margin: ``m_n`` in ``[-1, 1]``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_d2d_ce``), ``interval``.

    Shape:
        As :class:`ContrastiveConditionalLoss`.

    Examples:
        >>> loss = Data2DataCrossEntropyLoss(temperature=0.5, positive_margin=0.98)
        >>> e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> loss(e, e, torch.tensor([0, 1]))  # a = 0, b = 0: log(1 + 1)
        tensor(0.6931)
    """

    default_loss_name = "loss_d2d_ce"
    #: Inputs the protocol checks are floating-point tensors (the labels are integers).
    floating_inputs = frozenset({"embeddings", "proxies"})

    def __init__(
        self,
        temperature: float = 0.5,
        positive_margin: float = 0.98,
        negative_margin: float = 0.02,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.temperature = check_number(
            temperature, where=f"{label}.temperature", low=0.0, low_open=True
        )
        self.positive_margin = check_number(
            positive_margin, where=f"{label}.positive_margin", low=-1.0, high=1.0
        )
        self.negative_margin = check_number(
            negative_margin, where=f"{label}.negative_margin", low=-1.0, high=1.0
        )

    def compute(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        inputs = embedding_inputs(embeddings, proxies, labels, where=self.loss_name())
        margins = (self.positive_margin, self.negative_margin)
        return data_to_data_cross_entropy_loss(*inputs, self.temperature, *margins)

    def extra_repr(self) -> str:
        settings = (
            f"temperature={self.temperature}, positive_margin={self.positive_margin}, "
            f"negative_margin={self.negative_margin}"
        )
        return f"{settings}, {super().extra_repr()}"

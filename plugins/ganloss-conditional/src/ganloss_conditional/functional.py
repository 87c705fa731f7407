"""Class-conditional GAN losses as pure functions; formulas and papers are in the classes.

Conventions shared by every function:

* ``logits`` are raw class scores of shape ``(N, C)``, never probabilities;
* ``labels`` are class indices, an ``int64`` tensor of shape ``(N,)``;
* ``embeddings`` and ``proxies`` are ``(N, D)``: the discriminator's embedding
  of each sample and the embedding of its label (the "proxy"); both are
  compared by cosine similarity, so their norms do not matter;
* every value is a mean over the batch, to be minimized by the network the
  class that wraps it is named for.

The functions trust their inputs; the classes check them with
:func:`class_inputs` and :func:`embedding_inputs`, which read only dtypes and
shapes (host metadata), so no check waits for the device. A label outside
``[0, C)`` is left to torch: on the CPU the indexing op raises
(``IndexError: Target 7 is out of bounds`` from ``cross_entropy``,
``RuntimeError: index 7 is out of bounds`` from ``gather``); on a GPU it is a
device-side assertion, reported at the next synchronisation. Checking the range
here would cost a host synchronisation on every step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlosscore import LossInputError
from ganlosscore.checks import check_floating_tensor

__all__ = [
    "auxiliary_classifier_loss",
    "class_inputs",
    "class_scores",
    "contrastive_conditional_loss",
    "data_to_data_cross_entropy_loss",
    "discriminative_classifier_disc_loss",
    "discriminative_classifier_gen_loss",
    "embedding_inputs",
    "multi_hinge_loss",
    "twin_classifier_disc_loss",
    "twin_classifier_gen_loss",
]


# -- input checks (dtypes and shapes only: nothing waits for the device) --------------


def _described(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _matrix(value: object, *, where: str, what: str) -> Tensor:
    tensor = check_floating_tensor(value, where=where)
    if tensor.ndim != 2:
        raise LossInputError(
            f"expected {what} of shape (N, C), one row per sample, got {_described(tensor)}",
            where=where,
        )
    return tensor


def _labels(labels: object, batch: int, *, where: str) -> Tensor:
    if (
        isinstance(labels, Tensor)
        and not (labels.is_floating_point() or labels.is_complex())
        and labels.dtype != torch.bool
        and labels.shape == (batch,)
    ):
        return labels if labels.dtype == torch.int64 else labels.long()
    raise LossInputError(
        f"expected class indices, an integer tensor of shape ({batch},) (one per row of the "
        f"scores), got {_described(labels)}; one-hot or soft labels are not supported: pass "
        "labels.argmax(1), or labels.long() for a float tensor of indices",
        where=where,
    )


def class_scores(logits: object, *, where: str, min_columns: int = 1) -> Tensor:
    """``logits`` checked: a floating ``(N, C)`` tensor with ``C >= min_columns``.

    ``where`` names the loss and the input (``loss_mh.logits``).
    """
    scores = _matrix(logits, where=where, what="class scores (logits)")
    if scores.shape[1] < min_columns:
        raise LossInputError(
            f"expected at least {min_columns} columns of class scores, got {_described(scores)}",
            where=where,
        )
    return scores


def class_inputs(
    logits: object,
    labels: object,
    *,
    where: str,
    names: tuple[str, str] = ("logits", "labels"),
) -> tuple[Tensor, Tensor]:
    """``(logits, labels)`` checked: ``(N, C)`` floating scores and ``(N,)`` integer labels.

    ``where`` names the loss, ``names`` the two inputs, so an error reads
    ``loss_ac.labels: expected class indices ...``.
    Integer labels of another dtype (``int32``, ``uint8``) come back as
    ``int64``. The labels' range is not checked (see the module docstring).
    """
    scores = _matrix(logits, where=f"{where}.{names[0]}", what="class scores (logits)")
    return scores, _labels(labels, scores.shape[0], where=f"{where}.{names[1]}")


def embedding_inputs(
    embeddings: object, proxies: object, labels: object, *, where: str
) -> tuple[Tensor, Tensor, Tensor]:
    """``(embeddings, proxies, labels)`` checked: two ``(N, D)`` tensors and ``(N,)`` labels."""
    embed = _matrix(embeddings, where=f"{where}.embeddings", what="sample embeddings")
    proxy = _matrix(proxies, where=f"{where}.proxies", what="label embeddings (proxies)")
    if proxy.shape != embed.shape:
        raise LossInputError(
            f"expected one proxy (the embedding of the sample's label) per sample embedding, "
            f"of shape {tuple(embed.shape)}, got {_described(proxy)}",
            where=f"{where}.proxies",
        )
    return embed, proxy, _labels(labels, embed.shape[0], where=f"{where}.labels")


# -- classifier losses -------------------------------------------------------------


def auxiliary_classifier_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """AC-GAN's classification loss; see :class:`~ganloss_conditional.AuxiliaryClassifierLoss`.

    Example:
        >>> auxiliary_classifier_loss(torch.zeros(2, 4), torch.tensor([0, 3]))  # log 4
        tensor(1.3863)
    """
    return F.cross_entropy(logits, labels)


def twin_classifier_disc_loss(
    logits_real: Tensor,
    labels_real: Tensor,
    twin_logits_fake: Tensor,
    labels_fake: Tensor,
    twin_weight: float = 1.0,
) -> Tensor:
    """TAC-GAN, discriminator side; see :class:`~ganloss_conditional.DiscTwinClassifierLoss`.

    Example:
        >>> x = torch.zeros(2, 4)
        >>> twin_classifier_disc_loss(x, torch.tensor([0, 1]), x, torch.tensor([2, 3]))  # 2 log 4
        tensor(2.7726)
    """
    real = F.cross_entropy(logits_real, labels_real)
    return real + twin_weight * F.cross_entropy(twin_logits_fake, labels_fake)


def twin_classifier_gen_loss(
    logits: Tensor, twin_logits: Tensor, labels: Tensor, twin_weight: float = 1.0
) -> Tensor:
    """TAC-GAN, generator side; see :class:`~ganloss_conditional.GenTwinClassifierLoss`.

    Example:
        >>> x = torch.zeros(2, 4)
        >>> twin_classifier_gen_loss(x, x, torch.tensor([0, 1]))  # log 4 - log 4
        tensor(0.)
    """
    return F.cross_entropy(logits, labels) - twin_weight * F.cross_entropy(twin_logits, labels)


def discriminative_classifier_disc_loss(
    logits_real: Tensor, labels_real: Tensor, logits_fake: Tensor, labels_fake: Tensor
) -> Tensor:
    """ADC-GAN, discriminator side; see the class ``DiscDiscriminativeClassifierLoss``.

    Column ``2k`` scores "real sample of class k", column ``2k + 1`` "generated
    sample of class k".

    Example:
        >>> x = torch.zeros(2, 4)  # K = 2 classes
        >>> discriminative_classifier_disc_loss(x, torch.tensor([0, 1]), x, torch.tensor([1, 0]))
        tensor(2.7726)
    """
    real = F.cross_entropy(logits_real, 2 * labels_real)
    return real + F.cross_entropy(logits_fake, 2 * labels_fake + 1)


def discriminative_classifier_gen_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """ADC-GAN, generator side; see the class ``GenDiscriminativeClassifierLoss``.

    ``CE(logits, 2y) - CE(logits, 2y + 1)``: the log-normalizers cancel, which
    leaves ``mean_i(logits_i[2y_i + 1] - logits_i[2y_i])``.

    Example:
        >>> discriminative_classifier_gen_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
        tensor(-1.)
    """
    index = 2 * labels[:, None]
    return (logits.gather(1, index + 1) - logits.gather(1, index)).mean()


# -- contrastive losses --------------------------------------------------------------


def _cosines(embeddings: Tensor, proxies: Tensor) -> tuple[Tensor, Tensor]:
    """``cos(e_i, p_i)`` of shape (N,) and the matrix ``cos(e_i, e_j)`` of shape (N, N)."""
    e = F.normalize(embeddings, dim=1)
    p = F.normalize(proxies, dim=1)
    return (e * p).sum(dim=1), e @ e.T


def contrastive_conditional_loss(
    embeddings: Tensor, proxies: Tensor, labels: Tensor, temperature: float = 1.0
) -> Tensor:
    """ContraGAN's 2C loss; see :class:`~ganloss_conditional.ContrastiveConditionalLoss`.

    Computed as ``logsumexp(all terms) - logsumexp(positive terms)`` per
    sample, which is stable for any temperature.

    Example:
        >>> e = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> contrastive_conditional_loss(e, e, torch.tensor([0, 0]))  # every term positive
        tensor(0.)
    """
    to_proxy, between = _cosines(embeddings, proxies)
    n = between.shape[0]
    others = ~torch.eye(n, dtype=torch.bool, device=between.device)
    proxy_column = torch.ones(n, 1, dtype=torch.bool, device=between.device)
    scores = torch.cat([to_proxy[:, None], between], dim=1) / temperature
    every = torch.cat([proxy_column, others], dim=1)
    positive = torch.cat([proxy_column, others & (labels[:, None] == labels[None, :])], dim=1)
    denominator = torch.logsumexp(scores.masked_fill(~every, float("-inf")), dim=1)
    numerator = torch.logsumexp(scores.masked_fill(~positive, float("-inf")), dim=1)
    return (denominator - numerator).mean()


def data_to_data_cross_entropy_loss(
    embeddings: Tensor,
    proxies: Tensor,
    labels: Tensor,
    temperature: float = 0.5,
    positive_margin: float = 0.98,
    negative_margin: float = 0.02,
) -> Tensor:
    """ReACGAN's D2D-CE loss; see :class:`~ganloss_conditional.Data2DataCrossEntropyLoss`.

    Computed as ``A_i + logsumexp([-A_i, B_ij over negatives j])`` per sample.

    Example:
        >>> e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> data_to_data_cross_entropy_loss(e, e, torch.tensor([0, 1]))  # log(1 + exp(0))
        tensor(0.6931)
    """
    to_proxy, between = _cosines(embeddings, proxies)
    attraction = F.relu(positive_margin - to_proxy) / temperature
    repulsion = F.relu(between - negative_margin) / temperature
    negative = labels[:, None] != labels[None, :]
    terms = torch.cat([-attraction[:, None], repulsion.masked_fill(~negative, float("-inf"))], 1)
    return (attraction + torch.logsumexp(terms, dim=1)).mean()


# -- multi-class hinge ---------------------------------------------------------------


def multi_hinge_loss(logits: Tensor, labels: Tensor | None) -> Tensor:
    """MH-GAN's Crammer-Singer hinge; see :class:`~ganloss_conditional.MultiHingeLoss`.

    ``labels=None`` targets the last column (the fake class) for every sample.

    Example:
        >>> logits = torch.tensor([[2.0, 0.5, -1.0]])
        >>> multi_hinge_loss(logits, torch.tensor([0]))  # relu(1 + 0.5 - 2)
        tensor(0.)
        >>> multi_hinge_loss(logits, None)  # relu(1 + 2 - (-1))
        tensor(4.)
    """
    if labels is None:
        true, wrong = logits[:, -1], logits[:, :-1].amax(dim=1)
    else:
        index = labels[:, None]
        true = logits.gather(1, index).squeeze(1)
        wrong = logits.scatter(1, index, float("-inf")).amax(dim=1)
    return F.relu(1.0 + wrong - true).mean()

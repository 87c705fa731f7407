"""PyTorch-StudioGAN's published formulas (``src/utils/losses.py``), rewritten from their
description for the tests: the facts of the reference implementation, not its code.

Each follows StudioGAN's steps literally (exp, masks, ratios, ``masked_select``), so a test
comparing one with this package's logsumexp forms checks the algebra, not a copy.
A unique module name, so it cannot collide with other packages' test helpers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def close(value: torch.Tensor, expected: float) -> bool:
    """A scalar tensor equal to a hand-derived value, to float32 precision."""
    return value.shape == () and math.isclose(
        float(value.detach()), expected, rel_tol=1e-6, abs_tol=1e-6
    )


def _cosine_matrix(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cosine_similarity(x.unsqueeze(1), y.unsqueeze(0), dim=-1)


def _without_diagonal(m: torch.Tensor) -> torch.Tensor:
    n = m.shape[0]
    return m[~torch.eye(n, dtype=torch.bool)].view(n, n - 1)


def studiogan_2c(embed, proxy, label, temperature, margin=0.0):
    """ConditionalContrastiveLoss: -mean log(numerator / denominator), exp of the cosines.

    ``margin`` is the first StudioGAN version's: subtracted from every cosine before /t.
    """
    sims = torch.exp((_without_diagonal(_cosine_matrix(embed, embed)) - margin) / temperature)
    same = _without_diagonal((label[:, None] == label[None, :]).to(sims.dtype))
    to_proxy = torch.exp((F.cosine_similarity(embed, proxy, dim=-1) - margin) / temperature)
    numerator = to_proxy + (same * sims).sum(dim=1)
    denominator = to_proxy + sims.sum(dim=1)
    return -torch.log(numerator / denominator).mean()


def studiogan_d2dce(embed, proxy, label, temperature, m_p, shift=True):
    """Data2DataCrossEntropyLoss with StudioGAN's m_n = 1 - m_p.

    ``shift=True`` subtracts each row's detached maximum of the negative-zone similarities
    from the negative terms, as StudioGAN does; ``shift=False`` leaves it out.
    """
    sims = _without_diagonal((_cosine_matrix(embed, embed) + m_p - 1) / temperature)
    row_max = sims.max(dim=1, keepdim=True).values.detach()
    sims = F.relu(sims) - (row_max if shift else 0.0)
    negatives = _without_diagonal((label[:, None] != label[None, :]).to(sims.dtype))
    to_proxy = F.cosine_similarity(embed, proxy, dim=-1)
    attraction = F.relu((m_p - to_proxy) / temperature)
    repulsion = torch.log(torch.exp(-attraction) + (negatives * torch.exp(sims)).sum(dim=1))
    return (attraction + repulsion).mean()


def studiogan_crammer_singer(adv_output, label):
    """crammer_singer_loss: the largest wrong score from masked_select, hinge at margin 1."""
    mask = torch.ones_like(adv_output).scatter(1, label[:, None], 0.0).bool()
    wrongs = torch.masked_select(adv_output, mask).view(adv_output.shape[0], -1)
    target = adv_output.gather(1, label[:, None])
    return F.relu(1 + wrongs.max(dim=1, keepdim=True).values - target).mean()

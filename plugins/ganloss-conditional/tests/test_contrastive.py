"""ContraGAN's 2C loss and ReACGAN's D2D-CE: hand-derived values and StudioGAN's formulas.

The hand cases share three unit embeddings and proxies:
e0 = e1 = [1, 0], e2 = [0.6, 0.8]; labels [0, 0, 1]; proxies p0 = [1, 0], p1 = [0, 1],
p2 = [0.6, 0.8]. Cosines: cos(e0, e1) = 1, cos(e0, e2) = cos(e1, e2) = 0.6;
cos(e0, p0) = 1, cos(e1, p1) = 0, cos(e2, p2) = 1.
"""

from __future__ import annotations

import math

import pytest
import torch
from _conditional_reference import close, studiogan_2c, studiogan_d2dce
from ganloss_conditional import ContrastiveConditionalLoss, Data2DataCrossEntropyLoss

from ganlosscore import LossInputError
from ganlosscore.testing import check_refused

E = math.e
EMBED = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8]])
PROXY = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
LABELS = torch.tensor([0, 0, 1])


def random_batch(seed, n=8, dim=5, classes=3):
    gen = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, dim, generator=gen, dtype=torch.float64),
        torch.randn(n, dim, generator=gen, dtype=torch.float64),
        torch.randint(0, classes, (n,), generator=gen),
    )


def test_2c_value():
    # t = 0.5, so each term is exp(2 cos). -log(P_i / A_i):
    # i=0: P = e^2 (proxy) + e^2 (e1, same class); A = P + e^1.2 (e2).
    # i=1: P = e^0 (proxy) + e^2 (e0); A = P + e^1.2 (e2).
    # i=2: P = e^2 (proxy); A = P + 2 e^1.2 (e0, e1).
    l0 = math.log((2 * E**2 + E**1.2) / (2 * E**2))
    l1 = math.log((1 + E**2 + E**1.2) / (1 + E**2))
    l2 = math.log((E**2 + 2 * E**1.2) / E**2)
    value = ContrastiveConditionalLoss(temperature=0.5)(EMBED, PROXY, LABELS)
    assert close(value, (l0 + l1 + l2) / 3)  # 0.4319780


def test_2c_is_studiogans_value():
    for seed in range(3):
        embed, proxy, labels = random_batch(seed)
        ours = ContrastiveConditionalLoss(temperature=0.3)(embed, proxy, labels)
        torch.testing.assert_close(ours, studiogan_2c(embed, proxy, labels, 0.3))


def test_2c_margin_of_studiogans_first_version_cancels():
    # The docstring's reason for having no margin: it scales numerator and denominator alike.
    embed, proxy, labels = random_batch(3)
    with_margin = studiogan_2c(embed, proxy, labels, 0.5, margin=0.7)
    torch.testing.assert_close(with_margin, studiogan_2c(embed, proxy, labels, 0.5))


def test_2c_is_stable_where_exp_overflows():
    # t = 1e-3: exp(1 / t) overflows float32 in the ratio form; the logsumexp form does not.
    value = ContrastiveConditionalLoss(temperature=1e-3)(EMBED, PROXY, LABELS)
    assert torch.isfinite(value)
    # Row 1 dominates: -log((1 + e^1000) / (1 + e^1000 + e^600)) ~ 0, the others ~ 0: ~0.
    assert float(value) == pytest.approx(0.0, abs=1e-6)


def test_d2dce_value():
    # t = 0.5, m_p = 0.5, m_n = 0.25: a_i = relu(0.5 - cos(e_i, p_i)) / 0.5 = [0, 1, 0];
    # b_ij = relu(cos(e_i, e_j) - 0.25) / 0.5 = 0.7 for every pair of different classes.
    # l_i = a_i + log(exp(-a_i) + sum over other classes exp(b_ij)):
    # l0 = log(1 + e^0.7), l1 = 1 + log(e^-1 + e^0.7), l2 = log(1 + 2 e^0.7).
    l0 = math.log(1 + E**0.7)
    l1 = 1 + math.log(E**-1 + E**0.7)
    l2 = math.log(1 + 2 * E**0.7)
    loss = Data2DataCrossEntropyLoss(temperature=0.5, positive_margin=0.5, negative_margin=0.25)
    assert close(loss(EMBED, PROXY, LABELS), (l0 + l1 + l2) / 3)  # 1.4942428


def test_d2dce_margins_switch_terms_off():
    # m_p = -1: a_i = 0 for any proxy; m_n = 1: b_ij = 0, so l_i = log(1 + #negatives of i):
    # rows 0 and 1 have one negative (e2), row 2 two: (2 log 2 + log 3) / 3.
    loss = Data2DataCrossEntropyLoss(positive_margin=-1.0, negative_margin=1.0)
    assert close(loss(EMBED, PROXY, LABELS), (2 * math.log(2) + math.log(3)) / 3)


def test_d2dce_is_studiogans_formula_without_its_row_shift():
    for seed in range(3):
        embed, proxy, labels = random_batch(seed)
        # StudioGAN's m_n is 1 - m_p.
        loss = Data2DataCrossEntropyLoss(temperature=0.5, positive_margin=0.9, negative_margin=0.1)
        ours = loss(embed, proxy, labels)
        reference = studiogan_d2dce(embed, proxy, labels, 0.5, m_p=0.9, shift=False)
        torch.testing.assert_close(ours, reference)
        # StudioGAN's shift (the detached row maximum, on the negatives only) changes the value.
        shifted = studiogan_d2dce(embed, proxy, labels, 0.5, m_p=0.9, shift=True)
        assert not torch.allclose(ours, shifted)


def test_d2dce_equals_studiogan_where_the_row_maximum_is_zero():
    # Orthonormal embeddings: every cos(e_i, e_j) = 0, and with m_p = 1 (m_n = 1 - m_p = 0) every
    # row maximum (cos - m_n) / t is 0, so StudioGAN's shift is exp(0) = 1.
    embed = torch.eye(4, dtype=torch.float64)
    proxy = torch.randn(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 2])
    loss = Data2DataCrossEntropyLoss(temperature=0.5, positive_margin=1.0, negative_margin=0.0)
    reference = studiogan_d2dce(embed, proxy, labels, 0.5, m_p=1.0, shift=True)
    torch.testing.assert_close(loss(embed, proxy, labels), reference)


def test_gradients_reach_embeddings_and_proxies():
    embed, proxy, labels = random_batch(4)
    embed.requires_grad_(True)
    proxy.requires_grad_(True)
    for loss in (ContrastiveConditionalLoss(), Data2DataCrossEntropyLoss(positive_margin=1.0)):
        embed.grad = proxy.grad = None
        loss(embed, proxy, labels).backward()
        assert embed.grad.abs().sum() > 0 and proxy.grad.abs().sum() > 0
        assert torch.isfinite(embed.grad).all() and torch.isfinite(proxy.grad).all()


def test_a_batch_of_one_class_only_attracts():
    # D2D-CE with every label equal has no negatives: l_i = a_i + log(exp(-a_i)) = 0.
    embed, proxy, _ = random_batch(5)
    same = torch.zeros(8, dtype=torch.long)
    assert close(Data2DataCrossEntropyLoss()(embed, proxy, same), 0.0)
    # 2C: every other sample is a positive, so P_i = A_i and the loss is 0.
    assert close(ContrastiveConditionalLoss()(embed, proxy, same), 0.0)


def test_hyperparameters_are_checked_at_construction():
    check_refused(Data2DataCrossEntropyLoss, positive_margin=1.5, negative_margin="0.1")
    for temperature in (0.0, -1):
        check_refused(Data2DataCrossEntropyLoss, temperature=temperature)
        check_refused(ContrastiveConditionalLoss, temperature=temperature)


def test_inputs_are_checked_when_called():
    loss = ContrastiveConditionalLoss()
    with pytest.raises(LossInputError, match="one proxy") as info:
        loss(torch.zeros(3, 4), torch.zeros(3, 5), LABELS)
    assert info.value.where == "loss_2c.proxies"
    with pytest.raises(LossInputError, match="class indices") as info:
        loss(EMBED, PROXY, LABELS.float())
    assert info.value.where == "loss_2c.labels"
    with pytest.raises(LossInputError, match=r"\(N, C\)") as info:
        loss(EMBED[0], PROXY[0], LABELS[:1])
    assert info.value.where == "loss_2c.embeddings"

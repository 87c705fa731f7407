"""MH-GAN's multi-class hinge: hand-derived values, StudioGAN's crammer_singer_loss, targets."""

from __future__ import annotations

import pytest
import torch
from _conditional_reference import close, studiogan_crammer_singer
from ganloss_conditional import MultiHingeLoss

from ganlosscore import ConfigError, GanLossError, LossInputError, build_loss

# K = 2 classes and the fake class in the last column.
LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]])


def test_values_for_labels():
    # relu(1 + max_{k != c} x_k - x_c): row 0, c = 1: 1 + 2 - 0.5 = 2.5; row 1, c = 1:
    # 1 + max(0, 1) - 3 = -1 -> 0. Mean 1.25.
    assert close(MultiHingeLoss()(LOGITS, torch.tensor([1, 1])), 1.25)
    # row 0, c = 0: 1 + 0.5 - 2 = -0.5 -> 0; row 1, c = 0: 1 + 3 - 0 = 4. Mean 2.
    assert close(MultiHingeLoss()(LOGITS, torch.tensor([0, 0])), 2.0)


def test_value_for_the_fake_class():
    # c = 2 (last column): row 0: 1 + 2 - (-1) = 4; row 1: 1 + 3 - 1 = 3. Mean 3.5.
    assert close(MultiHingeLoss("fake")(LOGITS), 3.5)


def test_is_studiogans_crammer_singer_loss():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 4, (16,), generator=gen)
    torch.testing.assert_close(
        MultiHingeLoss()(logits, labels), studiogan_crammer_singer(logits, labels)
    )
    # The discriminator's fake term: StudioGAN's labels filled with num_classes (the last column).
    fake_class = torch.full((16,), 4)
    torch.testing.assert_close(
        MultiHingeLoss("fake")(logits), studiogan_crammer_singer(logits, fake_class)
    )


def test_gradient_moves_only_the_target_and_the_largest_wrong_score():
    # Row 0 with c = 1: loss = 1 + x_0 - x_1 (active): d/dx = [1, -1, 0] / N (N = 1).
    logits = LOGITS[:1].clone().requires_grad_(True)
    MultiHingeLoss()(logits, torch.tensor([1])).backward()
    assert torch.equal(logits.grad, torch.tensor([[1.0, -1.0, 0.0]]))


def test_discriminator_and_generator_configs_as_in_studiogan():
    outputs = {"mh_real": LOGITS, "mh_fake": LOGITS, "y_real": torch.tensor([1, 1])}
    disc = [
        {"type": "MultiHingeLoss", "data_info": {"logits": "mh_real", "labels": "y_real"}},
        {"type": "MultiHingeLoss", "target": "fake", "data_info": {"logits": "mh_fake"}},
    ]
    real, fake = (build_loss(config) for config in disc)
    assert close(real(outputs) + fake(outputs), 1.25 + 3.5)
    assert "target='fake'" in repr(fake)


def test_labels_must_match_the_target_at_construction():
    with pytest.raises(ConfigError, match="needs labels") as info:
        MultiHingeLoss(data_info={"logits": "mh_real"})
    assert info.value.where == "MultiHingeLoss.data_info"
    with pytest.raises(ConfigError, match="reads no labels"):
        MultiHingeLoss("fake", data_info={"logits": "mh_fake", "labels": "y"})
    with pytest.raises(GanLossError, match="Did you mean 'fake'"):
        build_loss({"type": "MultiHingeLoss", "target": "fak"})


def test_labels_must_match_the_target_when_called_directly():
    with pytest.raises(LossInputError, match="needs labels") as info:
        MultiHingeLoss()(LOGITS)
    assert info.value.where == "loss_mh.labels"
    with pytest.raises(LossInputError, match="reads no labels"):
        MultiHingeLoss("fake")(LOGITS, torch.tensor([0, 1]))


def test_the_fake_target_needs_two_columns():
    with pytest.raises(LossInputError, match="at least 2 columns"):
        MultiHingeLoss("fake")(torch.zeros(3, 1))

"""Shared fixtures: small loss classes used across the core's tests."""

from __future__ import annotations

import pytest
import torch
from _losses import PairLoss, ShiftLoss


@pytest.fixture
def shift_loss_cls():
    return ShiftLoss


@pytest.fixture
def pair_loss_cls():
    return PairLoss


@pytest.fixture
def local_losses(ganloss_registry):
    """ShiftLoss and PairLoss registered by name for one test."""
    ganloss_registry.register(ShiftLoss)
    ganloss_registry.register(PairLoss)
    return ganloss_registry


@pytest.fixture
def outputs():
    return {
        "disc_pred_real": torch.tensor([1.0, 3.0]),  # mean(x**2) = 5
        "disc_pred_fake": torch.tensor([2.0, 2.0]),  # mean(x**2) = 4
        "iteration": 4,
    }

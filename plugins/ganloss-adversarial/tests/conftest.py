from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# The shared constants live in helpers/ (which holds no conftest), under a unique module name.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))


@pytest.fixture
def preds() -> dict[str, torch.Tensor]:
    """Small hand-computable discriminator outputs, in an MMGeneration outputs dict.

    disc_pred_real = [1], disc_pred_fake = [-1, 1] (disc step, mean 0),
    disc_pred_fake_g = [0, 2] (gen step, mean 1, asymmetric so sign errors show).
    """
    return {
        "disc_pred_real": torch.tensor([1.0], requires_grad=True),
        "disc_pred_fake": torch.tensor([-1.0, 1.0], requires_grad=True),
        "disc_pred_fake_g": torch.tensor([0.0, 2.0], requires_grad=True),
    }

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# The helpers (uniquely named modules in helpers/, which holds no conftest) are
# imported by the tests and by spawned DDP workers, which inherit sys.path.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from _regularizer_nets import LinearDisc


@pytest.fixture
def linear_disc() -> LinearDisc:
    return LinearDisc()


@pytest.fixture
def linear_data() -> torch.Tensor:
    """Two samples of shape (2, 1, 2), matching LinearDisc's weight."""
    return torch.randn(2, 2, 1, 2, generator=torch.Generator().manual_seed(0))

"""Hand-derived constants and a comparison shared by the tests (a unique module name, so
it cannot collide with other packages' helpers when every test suite runs in one session)."""

from __future__ import annotations

import math

import torch

# softplus(x) = log(1 + e^x); the hand derivations in the tests use these values.
SP0 = math.log(2.0)  # 0.69314718
SP1 = math.log(1.0 + math.e)  # 1.31326169
SP_1 = math.log(1.0 + 1.0 / math.e)  # softplus(-1) = 0.31326169
SP2 = math.log(1.0 + math.e**2)  # 2.12692801
SP_2 = math.log(1.0 + math.e**-2)  # softplus(-2) = 0.12692801


def close(value: torch.Tensor, expected: float) -> bool:
    """A scalar tensor equal to a hand-derived value, to float32 precision."""
    return value.shape == () and math.isclose(
        float(value.detach()), expected, rel_tol=1e-6, abs_tol=1e-6
    )

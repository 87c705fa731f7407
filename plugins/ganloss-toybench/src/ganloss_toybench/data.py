"""The 2-D Gaussian mixtures of the mode-collapse literature.

``ring``: 8 components at angles :math:`2\\pi k / 8`, :math:`k = 0, \\dots, 7`,
on a circle of radius 2, standard deviation 0.02 (VEEGAN, PacGAN; note that
``linspace(0, 2*pi, 8)`` would put the first and last mode on the same point
and give only 7 distinct modes). ``grid``: 25 components at
:math:`\\{-4, -2, 0, 2, 4\\}^2`, standard deviation 0.05. Every component has
the same weight and an isotropic covariance :math:`\\sigma^2 I`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["DATASETS", "GaussianMixture", "grid", "ring"]


@dataclass(frozen=True)
class GaussianMixture:
    """An equal-weight mixture of isotropic 2-D Gaussians.

    Attributes:
        name: ``ring`` or ``grid``.
        centres: the mode centres, ``((x, y), ...)``.
        std: the standard deviation :math:`\\sigma` of every component.
        scale: the networks see the data divided by ``scale`` (the generator's
            output is multiplied by it), so that both datasets span about
            :math:`[-2, 2]^2` in the networks' space. Metrics are always
            computed in data space.
    """

    name: str
    centres: tuple[tuple[float, float], ...]
    std: float
    scale: float

    @property
    def num_modes(self) -> int:
        return len(self.centres)

    def centre_tensor(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The mode centres, ``(K, 2)``."""
        return torch.tensor(self.centres, dtype=dtype)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples in data space, ``(n, 2)``: a uniform mode plus :math:`\\sigma` noise.

        Example:
            >>> x = ring().sample(4, torch.Generator().manual_seed(0))
            >>> x.shape
            torch.Size([4, 2])
        """
        index = torch.randint(self.num_modes, (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return self.centre_tensor()[index] + self.std * noise


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """Modes at angles :math:`2\\pi k / K`, :math:`k = 0..K-1`, on a circle.

    Example:
        >>> ring().centres[2]  # angle pi/2, up to rounding of cos(pi/2)
        (1.2246467991473532e-16, 2.0)
    """
    angles = [2 * math.pi * k / num_modes for k in range(num_modes)]
    centres = tuple((radius * math.cos(a), radius * math.sin(a)) for a in angles)
    return GaussianMixture("ring", centres, std, scale=1.0)


def grid(
    values: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0), std: float = 0.05
) -> GaussianMixture:
    """Modes on the lattice ``values x values`` (5 x 5 = 25 by default).

    Example:
        >>> grid().num_modes, grid().centres[:2]
        (25, ((-4.0, -4.0), (-4.0, -2.0)))
    """
    centres = tuple((x, y) for x in values for y in values)
    return GaussianMixture("grid", centres, std, scale=2.0)


#: The toybench datasets, by name.
DATASETS: dict[str, GaussianMixture] = {"ring": ring(), "grid": grid()}

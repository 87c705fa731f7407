"""The toybench datasets: 2-D Gaussian mixtures, and digits with 10 or 1,000 modes.

``ring``: 8 components at angles :math:`2\\pi k / 8`, :math:`k = 0, \\dots, 7`,
on a circle of radius 2, standard deviation 0.02 (VEEGAN, PacGAN; note that
``linspace(0, 2*pi, 8)`` would put the first and last mode on the same point
and give only 7 distinct modes). ``grid``: 25 components at
:math:`\\{-4, -2, 0, 2, 4\\}^2`, standard deviation 0.05. Every component has
the same weight and an isotropic covariance :math:`\\sigma^2 I`.

``digits``: the UCI handwritten digits that scikit-learn ships inside its
wheel (``sklearn.datasets.load_digits``: 1,797 images of 8 x 8 pixels, ten
classes, no download), scaled from 0..16 to [-1, 1]. ``stacked-digits``: three
digits drawn independently, one per channel (Stacked MNIST of VEEGAN and
PacGAN, on 8 x 8 digits), so ``10 ** 3 = 1,000`` modes, the mode of an image
being ``100 a + 10 b + c`` for the digits ``a, b, c`` of its channels. Both
draw from the training split; :data:`HELD_OUT` images (36 of each class,
chosen by a fixed permutation) are held out, for the classifier's accuracy and
the real-data reference.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "DATASETS",
    "HELD_OUT",
    "IMAGE_DATASETS",
    "DigitImages",
    "GaussianMixture",
    "digit_arrays",
    "grid",
    "load_dataset",
    "ring",
]


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
        return self.sample_with_modes(n, generator)[0]

    def sample_with_modes(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``n`` samples ``(n, 2)`` and the index of the mode each was drawn from ``(n,)``.

        The same draws as :meth:`sample` (which returns the first of the two):
        the conditional benchmark's labels are these mode indices.

        Example:
            >>> x, modes = ring().sample_with_modes(3, torch.Generator().manual_seed(0))
            >>> bool(((x - ring().centre_tensor()[modes]).norm(dim=1) < 0.2).all())
            True
        """
        index = torch.randint(self.num_modes, (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return self.centre_tensor()[index] + self.std * noise, index


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


#: The image datasets, by name: the number of digits stacked as channels.
IMAGE_DATASETS: dict[str, int] = {"digits": 1, "stacked-digits": 3}
#: Images of each class held out of ``load_digits``' 1,797 (the first of each
#: class in a permutation seeded with 0): no GAN and no classifier trains on them.
HELD_OUT = 36


@functools.lru_cache(maxsize=2)
def digit_arrays(split: str = "train") -> tuple[Tensor, Tensor]:
    """The digits of one split, ``"train"`` or ``"held-out"``: images ``(M, 1, 8, 8)`` in [-1, 1]
    and their labels ``(M,)``. The digits of each split are in ``load_digits``' order.

    Example:
        >>> images, labels = digit_arrays("held-out")
        >>> images.shape, torch.bincount(labels).tolist()
        (torch.Size([360, 1, 8, 8]), [36, 36, 36, 36, 36, 36, 36, 36, 36, 36])
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    held_out = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        held_out[order[labels[order] == digit][:HELD_OUT]] = True
    keep = held_out if split == "held-out" else ~held_out
    return images[keep], labels[keep]


@dataclass(frozen=True, eq=False)
class DigitImages:
    """Images of ``channels`` independently drawn 8 x 8 digits, one per channel.

    Attributes:
        name: ``digits`` (1 channel, 10 modes) or ``stacked-digits`` (3, 1,000).
        channels: digits per image.
        images: the digits drawn from, ``(M, 1, 8, 8)`` in [-1, 1].
        labels: their classes, ``(M,)``.
        scale: 1 (the networks see the pixels as they are).
    """

    name: str
    channels: int
    images: Tensor
    labels: Tensor
    scale: float = 1.0

    @property
    def num_modes(self) -> int:
        return int(10**self.channels)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(channels, 8, 8)``."""
        return (self.channels, *self.images.shape[-2:])

    def sample_with_modes(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``n`` images ``(n, channels, 8, 8)`` and their modes ``(n,)`` in ``[0, 10 ** channels)``.

        Example:
            >>> data = load_dataset("stacked-digits")
            >>> x, modes = data.sample_with_modes(2, torch.Generator().manual_seed(0))
            >>> x.shape, bool(((0 <= modes) & (modes < 1000)).all())
            (torch.Size([2, 3, 8, 8]), True)
        """
        index = torch.randint(len(self.labels), (n, self.channels), generator=generator)
        images = self.images[index].reshape(n, *self.shape)
        digit_value = 10 ** torch.arange(self.channels - 1, -1, -1)
        return images, (self.labels[index] * digit_value).sum(dim=1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` images, ``(n, channels, 8, 8)``."""
        return self.sample_with_modes(n, generator)[0]


def load_dataset(name: str) -> GaussianMixture | DigitImages:
    """The dataset called ``name``: one of :data:`DATASETS` or :data:`IMAGE_DATASETS`."""
    if name in IMAGE_DATASETS:
        images, labels = digit_arrays("train")
        return DigitImages(name, IMAGE_DATASETS[name], images, labels)
    return DATASETS[name]

"""Tiny networks shared by the tests (importable by spawned DDP workers too)."""

from __future__ import annotations

import torch
from ganloss_regularizers import GeneratorPathRegularizer
from torch import nn


class LinearDisc(nn.Module):
    """``D(x) = sum(W * x)`` with ``W`` of shape (1, 2, 1, 2), ``W[:, :, 0, 0] = [3, 4]``.

    Its gradient with respect to every sample is ``W``: at pixel (0, 0) the
    channel vector (3, 4), of norm 5; at pixel (0, 1) zero.
    """

    def __init__(self) -> None:
        super().__init__()
        weight = torch.zeros(1, 2, 1, 2)
        weight[:, :, 0, 0] = torch.tensor([3.0, 4.0])
        self.weight = nn.Parameter(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.weight.to(x.dtype) * x).sum()


class PerSampleLinearDisc(LinearDisc):
    """``D(x)_n = sum(W * x_n)``, one output per sample, shape (N,)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.weight.to(x.dtype) * x).sum(dim=(1, 2, 3))


def quadratic_disc(x: torch.Tensor) -> torch.Tensor:
    """``D(x) = 0.5 * sum(x ** 2)``, whose gradient is ``x``."""
    return 0.5 * x.pow(2).sum()


class ConvDisc(nn.Module):
    """A small non-linear discriminator: conv, softplus, linear head; (N, 3, 8, 8) -> (N, 1).

    With ``head_bias=False`` every parameter changes D's input gradient, so a
    gradient penalty alone gives each one a gradient (as DDP requires).
    """

    def __init__(self, channels: int = 3, head_bias: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.head = nn.Linear(4 * 8 * 8, 1, bias=head_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(nn.functional.softplus(self.conv(x)).flatten(1))


class StyleGenerator(nn.Module):
    """A toy generator with MMGeneration's StyleGAN2 calling convention.

    ``forward(None, num_batches=n, return_latents=True)`` maps the first ``n``
    rows of ``codes`` (a plain attribute, set per rank in DDP tests) through a
    mapping layer to style codes ``w`` of shape (n, 2, 4) and synthesises
    (n, 1, 4, 4) images from them; returns ``{"fake_img", "latent"}``.
    """

    def __init__(self, codes: torch.Tensor) -> None:
        super().__init__()
        self.codes = codes
        self.mapping = nn.Linear(4, 8)
        self.synthesis = nn.Linear(8, 16)
        self.calls: list[int] = []

    def forward(self, z: None, num_batches: int, return_latents: bool) -> dict[str, torch.Tensor]:
        self.calls.append(num_batches)
        w = self.mapping(self.codes[:num_batches]).view(num_batches, 2, 4)
        img = torch.tanh(self.synthesis(w.flatten(1))).view(num_batches, 1, 4, 4)
        return {"fake_img": img, "latent": w}


class DeterministicPathRegularizer(GeneratorPathRegularizer):
    """Projects on a fixed function of each image instead of random directions.

    A batch split over ranks then sees the same directions as the whole batch
    in one process, so their gradients can be compared exactly.
    """

    def projection_noise(self, fake_img: torch.Tensor) -> torch.Tensor:
        return torch.cos(3.0 * fake_img.detach() + 1.0)

"""The toybench networks: small ReLU MLPs for points, small CNNs for 8 x 8 digits."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["ConvDiscriminator", "ConvGenerator", "MLPDiscriminator", "MLPGenerator", "mlp"]


def mlp(in_features: int, hidden: Sequence[int], out_features: int) -> nn.Sequential:
    """``Linear -> ReLU`` for each width in ``hidden``, then a final ``Linear``.

    Example:
        >>> mlp(2, [8, 8], 1)(torch.zeros(3, 2)).shape
        torch.Size([3, 1])
    """
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """``z ~ N(0, I)`` of ``latent_dim`` to a 2-D point, through a ReLU MLP.

    Called as MMGeneration's generators are: ``gen(noise)``, or
    ``gen(None, num_batches=n)`` to draw the noise itself (from torch's global
    generator). ``return_noise=True`` returns ``{"fake_img", "noise_batch"}``;
    ``return_latents=True`` returns ``{"fake_img", "latent"}`` with the noise
    as the latent, requiring grad, which is the call
    ``GeneratorPathRegularizer`` makes.

    Input: ``noise`` ``(N, latent_dim)``. Output: ``(N, 2)``.
    """

    def __init__(self, latent_dim: int = 2, hidden: Sequence[int] = (128, 128, 128)) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(latent_dim, hidden, 2)

    def forward(
        self,
        noise: Tensor | None = None,
        num_batches: int = 0,
        return_noise: bool = False,
        return_latents: bool = False,
    ) -> Tensor | dict[str, Tensor]:
        if noise is None:
            device = next(self.parameters()).device
            noise = torch.randn(max(int(num_batches), 1), self.latent_dim, device=device)
        if return_latents and not noise.requires_grad:
            noise = noise.detach().requires_grad_(True)
        fake: Tensor = self.net(noise)
        if return_latents:
            return {"fake_img": fake, "latent": noise}
        if return_noise:
            return {"fake_img": fake, "noise_batch": noise}
        return fake


class MLPDiscriminator(nn.Module):
    """A 2-D point to one raw score (a logit, or a critic value), through a ReLU MLP.

    Input: ``(N, 2)``. Output: ``(N, 1)``.
    """

    def __init__(self, hidden: Sequence[int] = (128, 128, 128)) -> None:
        super().__init__()
        self.net = mlp(2, hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        score: Tensor = self.net(x)
        return score


class ConvGenerator(nn.Module):
    """``z ~ N(0, I)`` of ``latent_dim`` to a ``(channels, 8, 8)`` image in [-1, 1].

    A linear layer to ``hidden[0]`` channels of 4 x 4, nearest-neighbour
    upsampling to 8 x 8, a 3 x 3 convolution with ``hidden[i]`` output channels
    for each further width, then a 3 x 3 convolution to ``channels`` and
    ``tanh``; LeakyReLU(0.2) between layers. Called as :class:`MLPGenerator`
    (MMGeneration's generator call).

    Input: ``noise`` ``(N, latent_dim)``. Output: ``(N, channels, 8, 8)``.
    """

    def __init__(self, latent_dim: int, hidden: Sequence[int], channels: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = [
            nn.Linear(latent_dim, hidden[0] * 16),
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (hidden[0], 4, 4)),
            nn.Upsample(scale_factor=2.0, mode="nearest"),
        ]
        for width_in, width in itertools.pairwise(hidden):
            layers += [nn.Conv2d(width_in, width, 3, padding=1), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(hidden[-1], channels, 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    forward = MLPGenerator.forward


class ConvDiscriminator(nn.Module):
    """A ``(channels, 8, 8)`` image to one raw score.

    A 3 x 3 convolution to ``hidden[0]`` channels at 8 x 8, a strided one to
    ``hidden[1]`` at 4 x 4, further 3 x 3 convolutions for further widths,
    LeakyReLU(0.2) after each, then a linear layer to the score.

    Input: ``(N, channels, 8, 8)``. Output: ``(N, 1)``.
    """

    def __init__(self, hidden: Sequence[int], channels: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width_in, size = channels, 8
        for index, width in enumerate(hidden):
            stride = 2 if index == 1 else 1
            layers += [nn.Conv2d(width_in, width, 3, stride=stride, padding=1), nn.LeakyReLU(0.2)]
            width_in, size = width, size // stride
        layers += [nn.Flatten(), nn.Linear(width_in * size * size, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        score: Tensor = self.net(x)
        return score

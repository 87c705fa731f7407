"""Small convolutional GAN networks for 3x32x32 images, shared by the benchmarks."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

LATENT = 128


class ConvDiscriminator(nn.Module):
    """DCGAN-style: three stride-2 convolutions (32 -> 4 pixels), then one logit."""

    def __init__(self, channels: int = 64, image: int = 32) -> None:
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(4 * c * (image // 8) ** 2, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # type: ignore[no-any-return]


class ConvGenerator(nn.Module):
    """DCGAN-style: a 4x4 seed, three stride-2 transposed convolutions to 32x32."""

    def __init__(self, channels: int = 64, image: int = 32) -> None:
        super().__init__()
        c = channels
        self.seed = image // 8
        self.project = nn.Linear(LATENT, 4 * c * self.seed**2)
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(c, 3, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        x = self.project(z).view(z.shape[0], -1, self.seed, self.seed)
        return self.net(x)  # type: ignore[no-any-return]


class StyleGenerator(nn.Module):
    """A miniature StyleGAN2 generator, for the path length regularizer.

    A mapping MLP turns ``z`` into ``w``, broadcast to one style per
    synthesis layer, ``(N, L, D)``; each layer upsamples and convolves a
    feature map whose channels are scaled by an affine function of its style.
    Called as MMGeneration's StyleGAN2 is: ``generator(None, num_batches=n,
    return_latents=True)`` returns ``{"fake_img", "latent"}``.
    """

    def __init__(self, channels: int = 64, image: int = 32) -> None:
        super().__init__()
        c = channels
        self.mapping = nn.Sequential(
            nn.Linear(LATENT, LATENT), nn.LeakyReLU(0.2), nn.Linear(LATENT, LATENT)
        )
        self.const = nn.Parameter(torch.randn(1, c, 4, 4))
        self.layers = nn.ModuleList(nn.Conv2d(c, c, 3, padding=1) for _ in range(4))
        self.styles = nn.ModuleList(nn.Linear(LATENT, c) for _ in range(5))
        self.to_rgb = nn.Conv2d(c, 3, 1)
        self.upsample_at = {1, 2, 3}  # 4 -> 8 -> 16 -> 32
        assert image == 32

    @property
    def num_styles(self) -> int:
        return len(self.styles)

    def forward(self, z: Tensor | None, num_batches: int = 1, return_latents: bool = False) -> Any:
        if z is None:
            z = torch.randn(num_batches, LATENT)
        w = self.mapping(z)
        latents = w.unsqueeze(1).repeat(1, self.num_styles, 1)  # (N, L, D)
        x = self.const.expand(z.shape[0], -1, -1, -1)
        for i, conv in enumerate(self.layers):
            if i in self.upsample_at:
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
            scale = self.styles[i](latents[:, i])[:, :, None, None]
            x = nn.functional.leaky_relu(conv(x * (1.0 + scale)), 0.2)
        scale = self.styles[-1](latents[:, -1])[:, :, None, None]
        img = self.to_rgb(x * (1.0 + scale))
        if return_latents:
            return {"fake_img": img, "latent": latents}
        return img

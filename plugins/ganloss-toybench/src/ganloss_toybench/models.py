"""The toybench networks: small ReLU MLPs, with MMGeneration's generator call."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["MLPDiscriminator", "MLPGenerator", "mlp"]


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

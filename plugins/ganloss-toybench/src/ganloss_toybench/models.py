"""The toybench networks: small MLPs for points and for 8 x 8 digits, small CNNs for digits."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "ConditionalMLPGenerator",
    "ConvDiscriminator",
    "ConvGenerator",
    "ImageMLPDiscriminator",
    "ImageMLPGenerator",
    "LabelledDiscriminator",
    "LatentCodes",
    "MLPDiscriminator",
    "MLPGenerator",
    "ProjectionMLPDiscriminator",
    "mlp",
]


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: Callable[[], nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """``Linear -> activation()`` for each width in ``hidden``, then a final ``Linear``.

    Example:
        >>> mlp(2, [8, 8], 1)(torch.zeros(3, 2)).shape
        torch.Size([3, 1])
    """
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class LatentCodes(nn.Module):
    """The noise ``z`` and categorical codes read off it: ``[z, scale * one_hot(c_1), ...]``.

    Code ``i`` is the bin, among ``sizes[i]`` bins of equal probability, that
    the normal CDF of ``z[:, i]`` falls in: ``c_i = floor(Phi(z_i) * sizes[i])``.
    Each code is thus uniform over its categories and the codes are
    independent, and the noise alone still decides the sample (an
    MMGeneration generator call with given noise is repeatable). This is
    InfoGAN's generator input (Chen et al. 2016, "InfoGAN", sec. 5: ``z``
    beside a uniform categorical code of 10 on MNIST) without InfoGAN's
    mutual-information loss: a generator fed only continuous noise must
    spread mass between separated modes (Khayatkhoei et al. 2018,
    "Disconnected Manifold Learning for GANs"), and on the digits those
    in-between samples are the ones the classifier cannot read; the codes
    give it a way to jump. The one-hot parts carry no gradient.

    Input: ``(N, latent_dim)`` with ``latent_dim >= len(sizes)``.
    Output: ``(N, latent_dim + sum(sizes))``.

    Example:
        >>> codes = LatentCodes([4, 2])
        >>> codes(torch.tensor([[0.0, -3.0]])).tolist()  # Phi(0) = 0.5: bin 2 of 4; Phi(-3): bin 0
        [[0.0, -3.0, 0.0, 0.0, 4.0, 0.0, 4.0, 0.0]]
    """

    categories: Tensor

    def __init__(self, sizes: Sequence[int], scale: float = 4.0) -> None:
        super().__init__()
        self.sizes = tuple(sizes)
        self.scale = scale
        self.register_buffer("categories", torch.arange(max(self.sizes)), persistent=False)

    def forward(self, z: Tensor) -> Tensor:
        cdf = torch.special.ndtr(z[:, : len(self.sizes)])
        parts = [z]
        for i, size in enumerate(self.sizes):
            code = (cdf[:, i : i + 1] * size).floor().clamp(max=size - 1)
            parts.append((code == self.categories[:size]).to(z.dtype) * self.scale)
        return torch.cat(parts, dim=1)


def _coded(latent_dim: int, codes: Sequence[int]) -> tuple[list[nn.Module], int]:
    """A generator's first modules (:class:`LatentCodes`, if any codes) and their output width."""
    if not codes:
        return [], latent_dim
    return [LatentCodes(codes)], latent_dim + sum(codes)


class MLPGenerator(nn.Module):
    """``z ~ N(0, I)`` of ``latent_dim`` to a 2-D point, through a ReLU MLP.

    Called as MMGeneration's generators are: ``gen(noise)``, or
    ``gen(None, num_batches=n)`` to draw the noise itself (from torch's global
    generator). ``return_noise=True`` returns ``{"fake_img", "noise_batch"}``;
    ``return_latents=True`` returns ``{"fake_img", "latent"}`` with the noise
    as the latent, requiring grad, which is the call
    ``GeneratorPathRegularizer`` makes. With ``codes``, the MLP reads
    :class:`LatentCodes` of those sizes beside ``z``.

    Input: ``noise`` ``(N, latent_dim)``. Output: ``(N, 2)``.
    """

    def __init__(
        self,
        latent_dim: int = 2,
        hidden: Sequence[int] = (128, 128, 128),
        codes: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        first, width = _coded(latent_dim, codes)
        self.net = nn.Sequential(*first, *mlp(width, hidden, 2))

    def forward(
        self,
        noise: Tensor | None = None,
        num_batches: int = 0,
        return_noise: bool = False,
        return_latents: bool = False,
    ) -> Tensor | dict[str, Tensor]:
        noise = _noise(self, self.latent_dim, noise, num_batches, return_latents)
        return _returned(self.net(noise), noise, return_noise, return_latents)


def _noise(
    gen: nn.Module, latent_dim: int, noise: Tensor | None, num_batches: int, return_latents: bool
) -> Tensor:
    """The noise given, or ``num_batches`` draws; requiring grad for ``return_latents``."""
    if noise is None:
        device = next(gen.parameters()).device
        noise = torch.randn(max(int(num_batches), 1), latent_dim, device=device)
    if return_latents and not noise.requires_grad:
        noise = noise.detach().requires_grad_(True)
    return noise


def _returned(
    fake: Tensor, noise: Tensor, return_noise: bool, return_latents: bool
) -> Tensor | dict[str, Tensor]:
    """What a generator call returns: the samples, or MMGeneration's dict with the noise."""
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


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2)


class ImageMLPGenerator(nn.Module):
    """``z ~ N(0, I)`` of ``latent_dim`` to a ``(channels, 8, 8)`` image in [-1, 1]: a
    LeakyReLU(0.2) MLP to ``channels * 64`` values, ``tanh``, reshaped (the fully connected
    GAN of Goodfellow et al. 2014, as in PacGAN's and VEEGAN's Stacked MNIST MLPs).

    Called as :class:`MLPGenerator` (MMGeneration's generator call). With
    ``codes``, the MLP reads :class:`LatentCodes` of those sizes beside ``z``.

    Input: ``noise`` ``(N, latent_dim)``. Output: ``(N, channels, 8, 8)``.
    """

    def __init__(
        self, latent_dim: int, hidden: Sequence[int], channels: int, codes: Sequence[int] = ()
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        first, width = _coded(latent_dim, codes)
        self.net = nn.Sequential(
            *first,
            mlp(width, hidden, channels * 64, _leaky_relu),
            nn.Tanh(),
            nn.Unflatten(1, (channels, 8, 8)),
        )

    forward = MLPGenerator.forward


class ImageMLPDiscriminator(nn.Module):
    """A ``(channels, 8, 8)`` image, flattened, to one raw score through a LeakyReLU(0.2) MLP.

    Input: ``(N, channels, 8, 8)``. Output: ``(N, 1)``.
    """

    def __init__(self, hidden: Sequence[int], channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), mlp(channels * 64, hidden, 1, _leaky_relu))

    forward = MLPDiscriminator.forward


class ConvGenerator(nn.Module):
    """``z ~ N(0, I)`` of ``latent_dim`` to a ``(channels, 8, 8)`` image in [-1, 1].

    A linear layer to ``hidden[0]`` channels of 4 x 4, nearest-neighbour
    upsampling to 8 x 8, a 3 x 3 convolution with ``hidden[i]`` output channels
    for each further width, then a 3 x 3 convolution to ``channels`` and
    ``tanh``; LeakyReLU(0.2) between layers. Called as :class:`MLPGenerator`
    (MMGeneration's generator call). With ``codes``, the linear layer reads
    :class:`LatentCodes` of those sizes beside ``z``.

    Input: ``noise`` ``(N, latent_dim)``. Output: ``(N, channels, 8, 8)``.
    """

    def __init__(
        self, latent_dim: int, hidden: Sequence[int], channels: int, codes: Sequence[int] = ()
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        first, width = _coded(latent_dim, codes)
        layers: list[nn.Module] = [
            *first,
            nn.Linear(width, hidden[0] * 16),
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


class ConditionalMLPGenerator(nn.Module):
    """``z ~ N(0, I)`` and a class label to a 2-D point: the ReLU MLP of
    :class:`MLPGenerator` on ``[z, one_hot(label)]`` (the conditional GAN of
    Mirza & Osindero 2014).

    Called as :class:`MLPGenerator` with the labels as a second argument,
    ``gen(noise, labels)``; without labels (``gen(None, num_batches=n)``, the
    call of the generator regularizers) it draws them uniformly from torch's
    global generator.

    Input: ``noise`` ``(N, latent_dim)``, ``labels`` ``(N,)`` in ``[0, num_classes)``.
    Output: ``(N, 2)``.
    """

    def __init__(self, latent_dim: int, hidden: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.net = mlp(latent_dim + num_classes, hidden, 2)

    def forward(
        self,
        noise: Tensor | None = None,
        labels: Tensor | None = None,
        num_batches: int = 0,
        return_noise: bool = False,
        return_latents: bool = False,
    ) -> Tensor | dict[str, Tensor]:
        noise = _noise(self, self.latent_dim, noise, num_batches, return_latents)
        if labels is None:
            labels = torch.randint(self.num_classes, (noise.shape[0],), device=noise.device)
        one_hot = nn.functional.one_hot(labels, self.num_classes).to(noise.dtype)
        fake = self.net(torch.cat([noise, one_hot], dim=1))
        return _returned(fake, noise, return_noise, return_latents)


class ProjectionMLPDiscriminator(nn.Module):
    """A 2-D point and its class label to a score, a projection discriminator
    (Miyato & Koyama 2018, "cGANs with Projection Discriminator", eq. 3), with
    the class heads the conditional losses read.

    A LeakyReLU (slope 0.2) MLP ``phi`` gives features ``h = phi(x)`` of width ``hidden[-1]``;
    the score is ``psi(h) + <embed(y), h>`` with a linear ``psi`` and a class
    embedding ``embed``. Linear heads on the same ``h`` give what each loss of
    ganloss-conditional reads:

    ============= ===================== ============================================
    key           shape                 for
    ============= ===================== ============================================
    ``score``     ``(N, 1)``            the adversarial losses
    ``logits``    ``(N, K)``            AC-GAN, TAC-GAN's classifier
    ``twin``      ``(N, K)``            TAC-GAN's twin classifier
    ``adc``       ``(N, 2K)``           ADC-GAN (``2k`` real, ``2k + 1`` generated)
    ``mh``        ``(N, K + 1)``        MH-GAN (the fake class last)
    ``embedding`` ``(N, embedding_dim)`` 2C and D2D-CE: the sample's embedding
    ``proxy``     ``(N, embedding_dim)`` 2C and D2D-CE: its label's embedding
    ============= ===================== ============================================

    ``embedding`` is a linear map of ``h`` and ``proxy`` a second class
    embedding, as in PyTorch-StudioGAN's ContraGAN/ReACGAN discriminators
    (``linear2`` and ``embedding``).

    Input: ``x`` ``(N, 2)``, ``labels`` ``(N,)``. Output: a dict of the keys above.
    """

    def __init__(self, hidden: Sequence[int], num_classes: int, embedding_dim: int = 32) -> None:
        super().__init__()
        width = hidden[-1]
        # LeakyReLU: with ReLUs the score went flat (gradient exactly 0) at every
        # generated sample within 8,000 steps on the ring, and stayed so.
        self.trunk = nn.Sequential(*mlp(2, hidden[:-1], width, _leaky_relu), _leaky_relu())
        self.score = nn.Linear(width, 1)
        self.class_embedding = nn.Embedding(num_classes, width)
        self.logits = nn.Linear(width, num_classes)
        self.twin = nn.Linear(width, num_classes)
        self.adc = nn.Linear(width, 2 * num_classes)
        self.mh = nn.Linear(width, num_classes + 1)
        self.embedding = nn.Linear(width, embedding_dim)
        self.proxy = nn.Embedding(num_classes, embedding_dim)
        # Glorot-uniform class embeddings, as in Miyato & Koyama's code (torch's
        # N(0, 1) makes <embed(y), h> about sqrt(width) times the size of psi(h)).
        nn.init.xavier_uniform_(self.class_embedding.weight)

    def forward(self, x: Tensor, labels: Tensor) -> dict[str, Tensor]:
        h = self.trunk(x)
        projection = (self.class_embedding(labels) * h).sum(dim=1, keepdim=True)
        return {
            "score": self.score(h) + projection,
            "logits": self.logits(h),
            "twin": self.twin(h),
            "adc": self.adc(h),
            "mh": self.mh(h),
            "embedding": self.embedding(h),
            "proxy": self.proxy(labels),
        }


class LabelledDiscriminator(nn.Module):
    """A :class:`ProjectionMLPDiscriminator` with its labels bound: ``x`` to the score.

    What a gradient penalty (R1, R2, WGAN-GP) calls as ``discriminator(x)``:
    the conditional toybench's outputs dict holds one under ``disc``, bound to
    the step's real labels (generated ones in the generator step, and under
    ``disc_fake_labels`` in the discriminator step, for R2).

    Input: ``(N, 2)``. Output: ``(N, 1)``.
    """

    def __init__(self, discriminator: nn.Module, labels: Tensor) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.labels = labels

    def forward(self, x: Tensor) -> Tensor:
        score: Tensor = self.discriminator(x, self.labels)["score"]
        return score

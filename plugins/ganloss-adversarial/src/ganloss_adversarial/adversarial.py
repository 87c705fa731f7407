"""Whole adversarial objectives for ``data_info``: one discriminator loss, one generator loss.

With these, a GAN's adversarial terms are configured like any auxiliary loss,
without model code::

    disc = [{"type": "DiscAdversarialLoss", "gan_type": "ns",
             "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"}}]
    gen = [{"type": "GenAdversarialLoss", "gan_type": "ns",
            "data_info": {"pred_fake": "disc_pred_fake_g"}}]

``gan_type`` names (formulas in :mod:`ganloss_adversarial.functional`):

=========== ================================== ===========================================
``minimax`` Goodfellow 2014, saturating G      D: BCE; G: ``-mean(softplus(x_f))``
``ns``      Goodfellow 2014, non-saturating G  D: BCE; G: ``mean(softplus(-x_f))``
``lsgan``   Mao et al. 2017                    D: ``(x_r-1)^2 + x_f^2``; G: ``(x_f-1)^2``
``wgan``    Arjovsky et al. 2017               D: ``mean(x_f) - mean(x_r)``; G: ``-mean(x_f)``
``hinge``   Lim & Ye 2017; Miyato et al. 2018  D: ``relu(1-x_r) + relu(1+x_f)``; G: ``-mean(x_f)``
``ragan``   Jolicoeur-Martineau 2018 (RaSGAN)  relativistic average, logistic
``ralsgan`` Jolicoeur-Martineau 2018 (RaLSGAN) relativistic average, least squares
``rahinge`` Jolicoeur-Martineau 2018 (RaHinge) relativistic average, hinge
=========== ================================== ===========================================

Every value is one to minimize by the network named in the class; a
discriminator loss is the sum of its real and fake terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import ConfigError, LossModule

from ._checks import check_choice, check_finite_number
from .functional import (
    ADVERSARIAL_TYPES,
    RELATIVISTIC_TYPES,
    SMOOTHABLE_TYPES,
    disc_adversarial_loss,
    gen_adversarial_loss,
)

__all__ = ["DiscAdversarialLoss", "GenAdversarialLoss"]


class DiscAdversarialLoss(LossModule):
    """The discriminator's adversarial loss, real and fake terms together.

    The loss of each ``gan_type``, to be minimized by the discriminator, with
    ``x_r = pred_real`` and ``x_f = pred_fake`` (raw outputs: logits, or critic
    values), ``mean`` over a batch, ``softplus(x) = log(1 + exp(x))`` and
    ``BCE(x, t) = mean(t * softplus(-x) + (1 - t) * softplus(x))``, binary
    cross-entropy with logits:

    - ``minimax``, ``ns``: ``BCE(x_r, real_label) + mean(softplus(x_f))``,
      which for ``real_label = 1`` is
      ``-mean(log(sigmoid(x_r))) - mean(log(1 - sigmoid(x_f)))``.
      Goodfellow et al. 2014, "Generative Adversarial Nets", eq. 1 (the two
      types differ in the generator's loss only).
    - ``lsgan``: ``mean((x_r - real_label)**2) + mean(x_f**2)``. Mao et al.
      2017, "Least Squares Generative Adversarial Networks", eq. 2 with
      ``a = 0``, ``b = real_label = 1``, without the paper's factor 1/2.
    - ``wgan``: ``mean(x_f) - mean(x_r)``. Arjovsky et al. 2017, "Wasserstein
      GAN"; the critic needs a Lipschitz constraint from elsewhere (weight
      clipping, or a gradient penalty loss).
    - ``hinge``: ``mean(relu(1 - x_r)) + mean(relu(1 + x_f))``. Lim & Ye 2017,
      "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization for GANs".
    - ``ragan``: ``mean(softplus(-(x_r - mean(x_f)))) + mean(softplus(x_f - mean(x_r)))``.
      Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element
      missing from standard GAN" (RaSGAN).
    - ``ralsgan``: ``mean((x_r - mean(x_f) - 1)**2) + mean((x_f - mean(x_r) + 1)**2)``.
      Jolicoeur-Martineau 2018 (RaLSGAN).
    - ``rahinge``: ``mean(relu(1 - (x_r - mean(x_f)))) + mean(relu(1 + (x_f - mean(x_r))))``.
      Jolicoeur-Martineau 2018 (RaHingeGAN).

    The relativistic losses are the paper's sum of the two terms (the
    author's code averages them: ``loss_weight=0.5``), with gradients through
    both batch means. **Label smoothing**: ``real_label`` below 1 (e.g. 0.9)
    is one-sided label smoothing, Salimans et al. 2016, "Improved Techniques
    for Training GANs": the real target of ``minimax``, ``ns`` and ``lsgan``
    becomes ``real_label`` while fake targets stay 0.

    Args:
        gan_type: One of ``minimax``, ``ns``, ``lsgan``, ``wgan``, ``hinge``,
            ``ragan``, ``ralsgan``, ``rahinge`` (formulas above).
        real_label: Target of real samples for ``minimax``, ``ns`` (BCE
            target) and ``lsgan`` (least-squares target ``b``), in (0, 1].
            Below 1 it is one-sided label smoothing (Salimans et al. 2016),
            e.g. ``0.9``; fake targets stay 0. Other types have no label to
            smooth, and refuse any value but 1.0.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_disc_adv``), ``interval``.

    Input: ``pred_real`` (N, *) and ``pred_fake`` (M, *), the discriminator's
    raw outputs (logits) on real and generated samples. Output: scalar.

    Mirrors the sum of MMGeneration's two ``GANLoss`` discriminator calls
    (``loss_disc_real + loss_disc_fake``) for ``vanilla`` (= ``ns``),
    ``lsgan``, ``wgan`` and ``hinge``; ``wgan-logistic-ns`` is ``ns`` here.

    Example:
        >>> loss = DiscAdversarialLoss("ns", data_info={"pred_real": "r", "pred_fake": "f"})
        >>> loss({"r": torch.zeros(2), "f": torch.zeros(2)})  # 2 log 2
        tensor(1.3863)
    """

    default_loss_name = "loss_disc_adv"

    def __init__(self, gan_type: str, real_label: float = 1.0, **kwargs: Any) -> None:
        label = type(self).__name__
        gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where=f"{label}.gan_type")
        real_label = check_finite_number(real_label, where=f"{label}.real_label")
        if gan_type in SMOOTHABLE_TYPES:
            if not 0.0 < real_label <= 1.0:
                raise ConfigError(
                    f"real_label must lie in (0, 1] (1.0: no smoothing, 0.9: the usual "
                    f"one-sided smoothing), got {real_label!r}",
                    where=f"{label}.real_label",
                )
        elif real_label != 1.0:
            raise ConfigError(
                f"gan_type {gan_type!r} has no real-sample label to smooth, so "
                f"real_label={real_label!r} would do nothing; label smoothing applies to "
                f"{', '.join(SMOOTHABLE_TYPES)}. Remove real_label",
                where=f"{label}.real_label",
            )
        super().__init__(**kwargs)
        self.gan_type = gan_type
        self.real_label = real_label

    def compute(self, pred_real: Tensor, pred_fake: Tensor) -> Tensor:
        return disc_adversarial_loss(pred_real, pred_fake, self.gan_type, self.real_label)

    def extra_repr(self) -> str:
        smoothing = f", real_label={self.real_label}" if self.real_label != 1.0 else ""
        return f"gan_type={self.gan_type!r}{smoothing}, {super().extra_repr()}"


class GenAdversarialLoss(LossModule):
    """The generator's adversarial loss.

    The loss of each ``gan_type``, to be minimized by the generator, with
    ``x_f = pred_fake`` and ``x_r = pred_real`` (raw discriminator outputs),
    ``mean`` over a batch and ``softplus(x) = log(1 + exp(x))``:

    - ``minimax``: ``-mean(softplus(x_f))``, i.e. ``mean(log(1 - sigmoid(x_f)))``,
      the saturating loss of the minimax game: negative, and its gradient
      vanishes while the discriminator rejects the fakes. Goodfellow et al.
      2014, "Generative Adversarial Nets", eq. 1.
    - ``ns``: ``mean(softplus(-x_f))``, i.e. ``-mean(log(sigmoid(x_f)))``, the
      non-saturating (logistic) loss. Goodfellow et al. 2014, section 3.
    - ``lsgan``: ``mean((x_f - 1)**2)``. Mao et al. 2017, "Least Squares
      Generative Adversarial Networks", eq. 2 with ``c = 1``, without the
      factor 1/2.
    - ``wgan``: ``-mean(x_f)``. Arjovsky et al. 2017, "Wasserstein GAN".
    - ``hinge``: ``-mean(x_f)`` (no hinge on the generator's side). Lim & Ye
      2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization for GANs".
    - ``ragan``: ``mean(softplus(-(x_f - mean(x_r)))) + mean(softplus(x_r - mean(x_f)))``.
      Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element
      missing from standard GAN" (RaSGAN).
    - ``ralsgan``: ``mean((x_f - mean(x_r) - 1)**2) + mean((x_r - mean(x_f) + 1)**2)``.
      Jolicoeur-Martineau 2018 (RaLSGAN).
    - ``rahinge``: ``mean(relu(1 - (x_f - mean(x_r)))) + mean(relu(1 + (x_r - mean(x_f))))``.
      Jolicoeur-Martineau 2018 (RaHingeGAN).

    Each relativistic loss is its discriminator loss with real and fake
    swapped, the paper's sum of the two terms (the author's code averages
    them: ``loss_weight=0.5``). There is no label smoothing on the
    generator's side (its targets are the real label, 1).

    Args:
        gan_type: One of ``minimax``, ``ns``, ``lsgan``, ``wgan``, ``hinge``,
            ``ragan``, ``ralsgan``, ``rahinge`` (formulas above).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_gen_adv``), ``interval``.

    Input: ``pred_fake`` (M, *), the discriminator's raw outputs on generated
    samples (with gradients to the generator); ``pred_real`` (N, *), its
    outputs on real samples, required by the relativistic types only and
    ignored by the others. A relativistic type configured with a ``data_info``
    that does not map ``pred_real`` is a ``ConfigError`` at construction.
    Output: scalar.

    Mirrors MMGeneration's ``GANLoss`` generator call
    (``target_is_real=True, is_disc=False``) for ``vanilla`` (= ``ns``),
    ``lsgan``, ``wgan`` and ``hinge``; ``wgan-logistic-ns`` is ``ns`` here.

    Example:
        >>> loss = GenAdversarialLoss("ns", data_info={"pred_fake": "disc_pred_fake_g"})
        >>> loss({"disc_pred_fake_g": torch.zeros(3)})  # log 2
        tensor(0.6931)
    """

    default_loss_name = "loss_gen_adv"

    def __init__(self, gan_type: str, **kwargs: Any) -> None:
        label = type(self).__name__
        gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where=f"{label}.gan_type")
        data_info = kwargs.get("data_info")
        if (
            gan_type in RELATIVISTIC_TYPES
            and isinstance(data_info, Mapping)
            and "pred_real" not in data_info
        ):
            raise ConfigError(
                f"the relativistic gan_type {gan_type!r} compares fakes with reals, so the "
                "generator loss needs pred_real; add it to data_info, e.g. "
                "{'pred_fake': 'disc_pred_fake_g', 'pred_real': 'disc_pred_real'}",
                where=f"{label}.data_info",
            )
        super().__init__(**kwargs)
        self.gan_type = gan_type

    def compute(self, pred_fake: Tensor, pred_real: Tensor | None = None) -> Tensor:
        if pred_real is None and self.gan_type in RELATIVISTIC_TYPES:
            raise ConfigError(
                f"the relativistic gan_type {self.gan_type!r} needs pred_real (the "
                "discriminator's outputs on real samples) besides pred_fake; call "
                "loss(pred_fake, pred_real) or map pred_real in data_info",
                where=f"{self.loss_name()}.pred_real",
            )
        return gen_adversarial_loss(pred_fake, pred_real, self.gan_type)

    def extra_repr(self) -> str:
        return f"gan_type={self.gan_type!r}, {super().extra_repr()}"

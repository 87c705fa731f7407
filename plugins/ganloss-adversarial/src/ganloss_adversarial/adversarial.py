"""Whole adversarial objectives for ``data_info``: one discriminator loss, one generator loss."""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import ConfigError, LossModule
from ganlosscore.checks import check_choice

from .functional import (
    _GEN,
    ADVERSARIAL_TYPES,
    RELATIVISTIC_TYPES,
    _check_real_label,
    _disc_loss_function,
    _needs_pred_real,
)

__all__ = ["DiscAdversarialLoss", "GenAdversarialLoss"]


class DiscAdversarialLoss(LossModule):
    """The discriminator's adversarial loss, its real and fake terms together.

    With ``x_r = pred_real`` and ``x_f = pred_fake`` (raw outputs: logits, or
    critic values), ``mean`` over a batch, ``softplus(x) = log(1 + exp(x))``
    and ``BCE(x, t) = mean(t * softplus(-x) + (1 - t) * softplus(x))``, the
    loss of each ``gan_type``, to be minimized by the discriminator, is:

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
    - ``rpgan``: ``mean(softplus(-(x_r - x_f)))``, relativistic pairing: each
      real sample against the fake of the same index. Huang et al. 2024, "The
      GAN is dead; long live the GAN! A Modern GAN Baseline" (R3GAN, with R1
      and R2: see the package README).

    The relativistic average losses are the paper's sum of the two terms (the
    author's code averages them: ``loss_weight=0.5``), with gradients through
    both batch means. ``real_label`` below 1 (e.g. 0.9) is
    one-sided label smoothing, Salimans et al. 2016, "Improved Techniques for
    Training GANs".
    Mirrors the sum of MMGeneration's two ``GANLoss`` discriminator calls
    (``loss_disc_real + loss_disc_fake``) for ``vanilla`` (= ``ns``),
    ``lsgan``, ``wgan`` and ``hinge``; ``wgan-logistic-ns`` is ``ns`` here.
    Half precision: see the package README, *Mixed precision*.

    Args:
        gan_type: One of ``minimax``, ``ns``, ``lsgan``, ``wgan``, ``hinge``,
            ``ragan``, ``ralsgan``, ``rahinge``, ``rpgan`` (formulas above).
        real_label: Target of real samples for ``minimax``, ``ns`` and
            ``lsgan``, in (0, 1]; fake targets stay 0. Other types refuse any
            value but 1.0.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_disc_adv``), ``interval``.

    Shape:
        pred_real: ``(N, *)``, the discriminator's raw outputs on real samples.
        pred_fake: ``(M, *)``, on generated samples (``rpgan``: the shape of
            ``pred_real``, paired sample by sample).
        Output: scalar.

    Examples:
        >>> loss = DiscAdversarialLoss("ns", data_info={"pred_real": "r", "pred_fake": "f"})
        >>> loss({"r": torch.zeros(2), "f": torch.zeros(2)})  # softplus(0) + softplus(0)
        tensor(1.3863)
        >>> DiscAdversarialLoss("rpgan")(torch.tensor([2.0]), torch.tensor([2.0]))  # log 2
        tensor(0.6931)
    """

    default_loss_name = "loss_disc_adv"

    def __init__(self, gan_type: str, real_label: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where=f"{label}.gan_type")
        self.real_label = _check_real_label(real_label, self.gan_type, where=f"{label}.real_label")
        self.loss_fn = _disc_loss_function(self.gan_type, self.real_label)

    def compute(self, pred_real: Tensor, pred_fake: Tensor) -> Tensor:
        return self.loss_fn(pred_real, pred_fake)

    def extra_repr(self) -> str:
        smoothing = f", real_label={self.real_label}" if self.real_label != 1.0 else ""
        return f"gan_type={self.gan_type!r}{smoothing}, {super().extra_repr()}"


class GenAdversarialLoss(LossModule):
    """The generator's adversarial loss.

    With ``x_f = pred_fake`` and ``x_r = pred_real`` (raw discriminator
    outputs), ``mean`` over a batch and ``softplus(x) = log(1 + exp(x))``, the
    loss of each ``gan_type``, to be minimized by the generator, is:

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
      Jolicoeur-Martineau 2018 (RaSGAN; the paper's title is under
      :class:`DiscAdversarialLoss`).
    - ``ralsgan``: ``mean((x_f - mean(x_r) - 1)**2) + mean((x_r - mean(x_f) + 1)**2)``.
      Jolicoeur-Martineau 2018 (RaLSGAN).
    - ``rahinge``: ``mean(relu(1 - (x_f - mean(x_r)))) + mean(relu(1 + (x_r - mean(x_f))))``.
      Jolicoeur-Martineau 2018 (RaHingeGAN).
    - ``rpgan``: ``mean(softplus(-(x_f - x_r)))``, relativistic pairing. Huang
      et al. 2024, "The GAN is dead; long live the GAN! A Modern GAN Baseline".

    Each relativistic loss is its discriminator loss with real and fake
    swapped. Mirrors MMGeneration's ``GANLoss`` generator call
    (``target_is_real=True, is_disc=False``) for ``vanilla`` (= ``ns``),
    ``lsgan``, ``wgan`` and ``hinge``.

    Args:
        gan_type: One of the types of :class:`DiscAdversarialLoss` (formulas above).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_gen_adv``), ``interval``. The relativistic types
            (``ragan``, ``ralsgan``, ``rahinge``, ``rpgan``) need ``pred_real``
            mapped in ``data_info``: checked at construction.

    Shape:
        pred_fake: ``(M, *)``, the discriminator's raw outputs on generated
            samples (with gradients to the generator).
        pred_real: ``(N, *)``, its outputs on real samples, for the
            relativistic types only (``rpgan``: the shape of ``pred_fake``).
        Output: scalar.

    Examples:
        >>> loss = GenAdversarialLoss("ns", data_info={"pred_fake": "disc_pred_fake_g"})
        >>> loss({"disc_pred_fake_g": torch.zeros(3)})  # softplus(0) = log 2
        tensor(0.6931)
    """

    default_loss_name = "loss_gen_adv"

    def __init__(self, gan_type: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where=f"{label}.gan_type")
        self.relativistic = self.gan_type in RELATIVISTIC_TYPES
        if self.relativistic and self.data_info and "pred_real" not in self.data_info:
            raise ConfigError(
                f"the relativistic gan_type {gan_type!r} compares fakes with reals, so the "
                "generator loss needs pred_real; add it to data_info, e.g. "
                "{'pred_fake': 'disc_pred_fake_g', 'pred_real': 'disc_pred_real'}",
                where=f"{label}.data_info",
            )
        self.loss_fn = _GEN[self.gan_type]

    def compute(self, pred_fake: Tensor, pred_real: Tensor | None = None) -> Tensor:
        if not self.relativistic:
            return self.loss_fn(pred_fake)
        if pred_real is None:  # a direct call without it (data_info was checked when built)
            raise _needs_pred_real(self.gan_type, f"{self.loss_name()}.pred_real")
        return self.loss_fn(pred_fake, pred_real)

    def extra_repr(self) -> str:
        return f"gan_type={self.gan_type!r}, {super().extra_repr()}"

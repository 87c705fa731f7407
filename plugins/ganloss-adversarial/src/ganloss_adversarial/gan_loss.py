"""MMGeneration's ``GANLoss``, on the ganlosscore protocol."""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import ConfigError, LossModule

from ._checks import check_choice, check_finite_number, check_flag
from .functional import GAN_LOSS_TYPES, gan_loss

__all__ = ["GANLoss"]

#: Types that ignore real_label_val / fake_label_val.
_LABEL_FREE_TYPES = ("wgan", "wgan-logistic-ns", "hinge")


class GANLoss(LossModule):
    """The GAN loss of MMGeneration, one term per call.

    A model calls it once per term, as MMGeneration's ``BaseGAN`` does::

        loss_disc_fake = gan_loss(disc_pred_fake, target_is_real=False, is_disc=True)
        loss_disc_real = gan_loss(disc_pred_real, target_is_real=True, is_disc=True)
        loss_gen = gan_loss(disc_pred_fake_g, target_is_real=True, is_disc=False)

    The formulas per ``gan_type`` are those of
    :func:`ganloss_adversarial.functional.gan_loss`; in short ``vanilla`` is
    BCE with logits against ``real_label_val``/``fake_label_val``, ``lsgan``
    the mean squared error against them, ``wgan`` ``-mean(x)``/``mean(x)``,
    ``wgan-logistic-ns`` ``mean(softplus(-x))``/``mean(softplus(x))``, and
    ``hinge`` ``mean(relu(1 - x))``/``mean(relu(1 + x))`` for the
    discriminator and ``-mean(x)`` for the generator.

    Args:
        gan_type: ``'vanilla'``, ``'lsgan'``, ``'wgan'``, ``'hinge'`` or
            ``'wgan-logistic-ns'``.
        real_label_val: Target of real samples (``vanilla``, ``lsgan``).
        fake_label_val: Target of fake samples (``vanilla``, ``lsgan``).
        loss_weight: Multiplies **generator** terms only (``is_disc=False``);
            discriminator terms are never weighted, as in MMGeneration.
        **kwargs: ``data_info``, ``loss_name`` (default ``loss_gan``), ``interval``.

    Input: ``input`` (N, *) discriminator outputs (logits); ``target_is_real``
    and ``is_disc`` are bools. Output: scalar.

    Mirrors ``mmgen/models/losses/gan_loss.py::GANLoss`` with the same
    constructor (positional order included) and call. Differences: an unknown
    ``gan_type`` is a ``ConfigError`` listing the valid ones (MMGeneration:
    ``NotImplementedError``); labels other than 1.0/0.0 with a type that
    ignores them (``wgan``, ``wgan-logistic-ns``, ``hinge``) are a
    ``ConfigError`` instead of being silently ignored; a non-bool
    ``target_is_real``/``is_disc`` (e.g. the string ``"False"``) is refused;
    the loss has a ``loss_name()``; with ``data_info`` it reads ``input``,
    ``target_is_real`` and ``is_disc`` from an outputs dict.

    Example:
        >>> loss = GANLoss("vanilla", loss_weight=2.0)
        >>> loss(torch.ones(4), target_is_real=True)  # 2 * softplus(-1)
        tensor(0.6265)
        >>> loss(torch.ones(4), target_is_real=True, is_disc=True)  # not weighted
        tensor(0.3133)
    """

    default_loss_name = "loss_gan"

    def __init__(
        self,
        gan_type: str,
        real_label_val: float = 1.0,
        fake_label_val: float = 0.0,
        loss_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        gan_type = check_choice(gan_type, GAN_LOSS_TYPES, where="GANLoss.gan_type")
        real = check_finite_number(real_label_val, where="GANLoss.real_label_val")
        fake = check_finite_number(fake_label_val, where="GANLoss.fake_label_val")
        if gan_type in _LABEL_FREE_TYPES and (real, fake) != (1.0, 0.0):
            raise ConfigError(
                f"gan_type {gan_type!r} does not use real_label_val/fake_label_val "
                f"(got {real_label_val!r}/{fake_label_val!r}; MMGeneration ignores them "
                "silently); leave them at 1.0/0.0, or use 'vanilla' or 'lsgan' for "
                "label targets",
                where="GANLoss.real_label_val",
            )
        super().__init__(loss_weight=loss_weight, **kwargs)
        self.gan_type = gan_type
        self.real_label_val = real
        self.fake_label_val = fake

    def compute(self, input: Tensor, target_is_real: bool, is_disc: bool = False) -> Tensor:
        return gan_loss(
            input,
            check_flag(target_is_real, where=f"{self.loss_name()}.target_is_real"),
            self.gan_type,
            is_disc=check_flag(is_disc, where=f"{self.loss_name()}.is_disc"),
            real_label_val=self.real_label_val,
            fake_label_val=self.fake_label_val,
        )

    def weight_loss(
        self, loss: Tensor, input: Tensor, target_is_real: bool, is_disc: bool = False
    ) -> Tensor:
        """Weight generator terms only: MMGeneration's discriminator weight is always 1."""
        if check_flag(is_disc, where=f"{self.loss_name()}.is_disc"):
            return loss
        return super().weight_loss(loss)

    def extra_repr(self) -> str:
        labels = ""
        if self.gan_type not in _LABEL_FREE_TYPES:
            labels = f", real_label_val={self.real_label_val}, fake_label_val={self.fake_label_val}"
        return f"gan_type={self.gan_type!r}{labels}, {super().extra_repr()}"

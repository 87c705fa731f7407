"""MMGeneration's ``GANLoss``, on the ganlosscore protocol."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganlosscore import ConfigError, LossModule
from ganlosscore.checks import brief, check_choice, check_number

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

    With ``x = input`` (logits) and ``BCEWithLogits`` binary cross-entropy with
    logits, each term is:

    ====================  ====================================  ====================================
    ``gan_type``          ``target_is_real=True``               ``target_is_real=False``
    ====================  ====================================  ====================================
    ``vanilla``           ``BCEWithLogits(x, real_label_val)``  ``BCEWithLogits(x, fake_label_val)``
    ``lsgan``             ``mean((x - real_label_val)^2)``      ``mean((x - fake_label_val)^2)``
    ``wgan``              ``-mean(x)``                          ``mean(x)``
    ``wgan-logistic-ns``  ``mean(softplus(-x))``                ``mean(softplus(x))``
    ``hinge``, disc       ``mean(relu(1 - x))``                 ``mean(relu(1 + x))``
    ``hinge``, gen        ``-mean(x)``                          ``-mean(x)``
    ====================  ====================================  ====================================

    Papers: Goodfellow et al. 2014 (``vanilla``), Mao et al. 2017 (``lsgan``),
    Arjovsky et al. 2017 (``wgan``), Lim & Ye 2017 (``hinge``), Karras et al.
    2019 (StyleGAN, ``wgan-logistic-ns``). Mirrors
    ``mmgen/models/losses/gan_loss.py::GANLoss`` with the same constructor
    (positional order included) and call. Differences: an unknown
    ``gan_type`` is a ``ConfigError`` listing the valid ones (MMGeneration:
    ``NotImplementedError``); labels other than 1.0/0.0 with a type that
    ignores them are a ``ConfigError`` instead of being silently ignored; a
    ``target_is_real``/``is_disc`` that is not a bool (e.g. the string
    ``"False"``) is refused; with ``data_info`` it reads ``input``,
    ``target_is_real`` and ``is_disc`` from an outputs dict.

    Args:
        gan_type: ``'vanilla'``, ``'lsgan'``, ``'wgan'``, ``'hinge'`` or
            ``'wgan-logistic-ns'``.
        real_label_val: Target of real samples (``vanilla``, ``lsgan``).
        fake_label_val: Target of fake samples (``vanilla``, ``lsgan``).
        loss_weight: Multiplies **generator** terms only (``is_disc=False``);
            discriminator terms are never weighted, as in MMGeneration.
        **kwargs: ``data_info``, ``loss_name`` (default ``loss_gan``), ``interval``.

    Shape:
        input: ``(N, *)``, discriminator outputs (logits); ``target_is_real``
            and ``is_disc`` are bools (or one-element tensors holding one).
        Output: scalar.

    Examples:
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
        super().__init__(loss_weight=loss_weight, **kwargs)
        self.gan_type = check_choice(gan_type, GAN_LOSS_TYPES, where="GANLoss.gan_type")
        self.real_label_val = check_number(real_label_val, where="GANLoss.real_label_val")
        self.fake_label_val = check_number(fake_label_val, where="GANLoss.fake_label_val")
        if gan_type in _LABEL_FREE_TYPES and (self.real_label_val, self.fake_label_val) != (1, 0):
            raise ConfigError(
                f"gan_type {gan_type!r} does not use real_label_val/fake_label_val "
                f"(got {brief(real_label_val)}/{brief(fake_label_val)}; MMGeneration ignores "
                "them silently); leave them at 1.0/0.0, or use 'vanilla' or 'lsgan' for "
                "label targets",
                where="GANLoss.real_label_val",
            )

    def compute(self, input: Tensor, target_is_real: bool, is_disc: bool = False) -> Tensor:
        real = _flag(target_is_real, f"{self.loss_name()}.target_is_real")
        disc = _flag(is_disc, f"{self.loss_name()}.is_disc")
        return gan_loss(input, real, self.gan_type, disc, self.real_label_val, self.fake_label_val)

    def weight_loss(
        self, loss: Tensor, input: Tensor, target_is_real: bool, is_disc: bool = False
    ) -> Tensor:
        """Weight generator terms only: MMGeneration's discriminator weight is always 1."""
        return loss if is_disc else super().weight_loss(loss)  # is_disc: checked by compute

    def extra_repr(self) -> str:
        labels = ""
        if self.gan_type not in _LABEL_FREE_TYPES:
            labels = f", real_label_val={self.real_label_val}, fake_label_val={self.fake_label_val}"
        return f"gan_type={self.gan_type!r}{labels}, {super().extra_repr()}"


def _flag(value: Any, where: str) -> bool:
    """``target_is_real`` / ``is_disc``: a bool, 0 or 1, or a one-element tensor of either.

    Anything else (the string ``"False"`` is truthy) is refused rather than read as true.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()  # models sometimes keep flags as tensors
    if isinstance(value, (bool, int, float)) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"must be a bool (True or False), got {brief(value)}", where=where)

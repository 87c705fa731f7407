"""The adversarial losses as pure functions of discriminator outputs.

Each function's formula, paper and shapes are documented once, in the class
that uses it: :class:`~ganloss_adversarial.DiscAdversarialLoss` (``*_disc_loss``),
:class:`~ganloss_adversarial.GenAdversarialLoss` (``*_gen_loss``) and
:class:`~ganloss_adversarial.GANLoss` (:func:`gan_loss`). Inputs are raw
outputs (logits, critic values); every value is one to minimize; a
discriminator loss is the sum of its real and fake terms. Reduced precision:
see the package README, *Mixed precision*.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlosscore import ConfigError, LossInputError
from ganlosscore.checks import brief, check_choice, check_number

__all__ = [
    "ADVERSARIAL_TYPES",
    "GAN_LOSS_TYPES",
    "RELATIVISTIC_TYPES",
    "SMOOTHABLE_TYPES",
    "disc_adversarial_loss",
    "gan_loss",
    "gen_adversarial_loss",
    "hinge_disc_loss",
    "hinge_gen_loss",
    "logistic_disc_loss",
    "lsgan_disc_loss",
    "lsgan_gen_loss",
    "minimax_gen_loss",
    "ns_gen_loss",
    "ragan_disc_loss",
    "ragan_gen_loss",
    "rahinge_disc_loss",
    "rahinge_gen_loss",
    "ralsgan_disc_loss",
    "ralsgan_gen_loss",
    "rpgan_disc_loss",
    "rpgan_gen_loss",
    "wgan_disc_loss",
    "wgan_gen_loss",
]

#: MMGeneration's ``GANLoss`` types, with its names.
GAN_LOSS_TYPES: tuple[str, ...] = ("vanilla", "lsgan", "wgan", "hinge", "wgan-logistic-ns")
#: Types of :func:`disc_adversarial_loss` and :func:`gen_adversarial_loss`.
ADVERSARIAL_TYPES: tuple[str, ...] = (
    "minimax",
    "ns",
    "lsgan",
    "wgan",
    "hinge",
    "ragan",
    "ralsgan",
    "rahinge",
    "rpgan",
)
#: Types whose generator loss also needs ``pred_real``.
RELATIVISTIC_TYPES: tuple[str, ...] = ("ragan", "ralsgan", "rahinge", "rpgan")
#: Types with an absolute real target, where one-sided label smoothing applies.
SMOOTHABLE_TYPES: tuple[str, ...] = ("minimax", "ns", "lsgan")

_HALF = (torch.float16, torch.bfloat16)


def _labelled(pred: Tensor, label: float) -> tuple[Tensor, Tensor]:
    """``pred`` in at least ``float32`` (0.9 is 0.8984 in ``bfloat16``), and its target."""
    if pred.dtype in _HALF:  # a float32/float64 pred passes untouched (the hot path)
        pred = pred.float()
    return pred, torch.full_like(pred, label)


def logistic_disc_loss(pred_real: Tensor, pred_fake: Tensor, real_label: float = 1.0) -> Tensor:
    """``minimax`` and ``ns``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    real = F.binary_cross_entropy_with_logits(*_labelled(pred_real, real_label))
    return real + F.softplus(pred_fake).mean()


def minimax_gen_loss(pred_fake: Tensor) -> Tensor:
    """``minimax``: see :class:`~ganloss_adversarial.GenAdversarialLoss`."""
    return -F.softplus(pred_fake).mean()


def ns_gen_loss(pred_fake: Tensor) -> Tensor:
    """``ns``: see :class:`~ganloss_adversarial.GenAdversarialLoss`."""
    return F.softplus(-pred_fake).mean()


def lsgan_disc_loss(pred_real: Tensor, pred_fake: Tensor, real_label: float = 1.0) -> Tensor:
    """``lsgan``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return F.mse_loss(*_labelled(pred_real, real_label)) + (pred_fake**2).mean()


def lsgan_gen_loss(pred_fake: Tensor) -> Tensor:
    """``lsgan``: see :class:`~ganloss_adversarial.GenAdversarialLoss`."""
    return ((pred_fake - 1) ** 2).mean()


def wgan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``wgan``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return pred_fake.mean() - pred_real.mean()


def wgan_gen_loss(pred_fake: Tensor) -> Tensor:
    """``wgan`` and ``hinge``: see :class:`~ganloss_adversarial.GenAdversarialLoss`."""
    return -pred_fake.mean()


hinge_gen_loss = wgan_gen_loss


def hinge_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``hinge``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return F.relu(1 - pred_real).mean() + F.relu(1 + pred_fake).mean()


def ragan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``ragan``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return (
        F.softplus(-(pred_real - pred_fake.mean())).mean()
        + F.softplus(pred_fake - pred_real.mean()).mean()
    )


def ralsgan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``ralsgan``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return ((pred_real - pred_fake.mean() - 1) ** 2).mean() + (
        (pred_fake - pred_real.mean() + 1) ** 2
    ).mean()


def rahinge_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``rahinge``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    return (
        F.relu(1 - (pred_real - pred_fake.mean())).mean()
        + F.relu(1 + (pred_fake - pred_real.mean())).mean()
    )


def rpgan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    """``rpgan``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`."""
    if pred_real.shape != pred_fake.shape:  # broadcasting would pair every real with every fake
        raise LossInputError(
            f"rpgan pairs real and fake samples one to one, so pred_real "
            f"{tuple(pred_real.shape)} and pred_fake {tuple(pred_fake.shape)} must have the "
            "same shape; give both batches the same size",
            where="rpgan",
        )
    return F.softplus(-(pred_real - pred_fake)).mean()


def _swapped(disc_loss: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """The generator loss of a relativistic type: its discriminator loss, real and fake swapped."""

    def gen_loss(pred_fake: Tensor, pred_real: Tensor) -> Tensor:
        return disc_loss(pred_fake, pred_real)

    gen_loss.__name__ = gen_loss.__qualname__ = disc_loss.__name__.replace("_disc_", "_gen_")
    gen_loss.__doc__ = f"{disc_loss.__doc__} With real and fake swapped (GenAdversarialLoss)."
    return gen_loss


ragan_gen_loss = _swapped(ragan_disc_loss)
ralsgan_gen_loss = _swapped(ralsgan_disc_loss)
rahinge_gen_loss = _swapped(rahinge_disc_loss)
rpgan_gen_loss = _swapped(rpgan_disc_loss)

_DISC: dict[str, Callable[..., Tensor]] = {
    "minimax": logistic_disc_loss,
    "ns": logistic_disc_loss,
    "lsgan": lsgan_disc_loss,
    "wgan": wgan_disc_loss,
    "hinge": hinge_disc_loss,
    "ragan": ragan_disc_loss,
    "ralsgan": ralsgan_disc_loss,
    "rahinge": rahinge_disc_loss,
    "rpgan": rpgan_disc_loss,
}
# f(pred_fake), or f(pred_fake, pred_real) for the RELATIVISTIC_TYPES
_GEN: dict[str, Callable[..., Tensor]] = {
    "minimax": minimax_gen_loss,
    "ns": ns_gen_loss,
    "lsgan": lsgan_gen_loss,
    "wgan": wgan_gen_loss,
    "hinge": hinge_gen_loss,
    "ragan": ragan_gen_loss,
    "ralsgan": ralsgan_gen_loss,
    "rahinge": rahinge_gen_loss,
    "rpgan": rpgan_gen_loss,
}


def _check_real_label(real_label: object, gan_type: str, *, where: str) -> float:
    """``real_label`` in (0, 1] for :data:`SMOOTHABLE_TYPES`; any other type takes only 1.0."""
    if gan_type in SMOOTHABLE_TYPES:
        return check_number(real_label, where=where, low=0.0, low_open=True, high=1.0)
    if check_number(real_label, where=where) != 1.0:
        raise ConfigError(
            f"gan_type {gan_type!r} has no real-sample label to smooth, so "
            f"real_label={brief(real_label)} would do nothing; label smoothing applies to "
            f"{', '.join(SMOOTHABLE_TYPES)}. Remove real_label",
            where=where,
        )
    return 1.0


def _disc_loss_function(gan_type: str, real_label: float = 1.0) -> Callable[..., Tensor]:
    """``f(pred_real, pred_fake)``, the discriminator loss of a checked ``gan_type``."""
    if gan_type in SMOOTHABLE_TYPES:
        return functools.partial(_DISC[gan_type], real_label=real_label)
    return _DISC[gan_type]


def _needs_pred_real(gan_type: str, where: str) -> ConfigError:
    return ConfigError(
        f"the relativistic gan_type {gan_type!r} compares fakes with reals, so its generator "
        "loss needs pred_real (the discriminator's outputs on real samples) besides "
        "pred_fake; call loss(pred_fake, pred_real) or map pred_real in data_info",
        where=where,
    )


def disc_adversarial_loss(
    pred_real: Tensor, pred_fake: Tensor, gan_type: str = "ns", real_label: float = 1.0
) -> Tensor:
    """The loss of ``gan_type``: see :class:`~ganloss_adversarial.DiscAdversarialLoss`.

    Example:
        >>> disc_adversarial_loss(torch.zeros(2), torch.zeros(2), "hinge")  # relu(1) + relu(1)
        tensor(2.)
    """
    gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where="disc_adversarial_loss.gan_type")
    label = _check_real_label(real_label, gan_type, where="disc_adversarial_loss.real_label")
    return _disc_loss_function(gan_type, label)(pred_real, pred_fake)


def gen_adversarial_loss(
    pred_fake: Tensor, pred_real: Tensor | None = None, gan_type: str = "ns"
) -> Tensor:
    """The loss of ``gan_type``: see :class:`~ganloss_adversarial.GenAdversarialLoss`.

    Example:
        >>> gen_adversarial_loss(torch.zeros(2), gan_type="ns")  # softplus(0) = log 2
        tensor(0.6931)
    """
    gan_type = check_choice(gan_type, ADVERSARIAL_TYPES, where="gen_adversarial_loss.gan_type")
    if gan_type not in RELATIVISTIC_TYPES:
        return _GEN[gan_type](pred_fake)
    if pred_real is None:
        raise _needs_pred_real(gan_type, "gen_adversarial_loss.pred_real")
    return _GEN[gan_type](pred_fake, pred_real)


def gan_loss(
    input: Tensor,
    target_is_real: bool,
    gan_type: str,
    is_disc: bool = False,
    real_label_val: float = 1.0,
    fake_label_val: float = 0.0,
) -> Tensor:
    """One unweighted term of MMGeneration's ``GANLoss``: see :class:`~ganloss_adversarial.GANLoss`.

    Example:
        >>> gan_loss(torch.ones(3), False, "hinge", is_disc=True)  # relu(1 + 1)
        tensor(2.)
    """
    if gan_type == "hinge":
        if is_disc:
            return F.relu(1 - input).mean() if target_is_real else F.relu(1 + input).mean()
        return -input.mean()
    if gan_type == "wgan":
        return -input.mean() if target_is_real else input.mean()
    if gan_type == "wgan-logistic-ns":
        return F.softplus(-input).mean() if target_is_real else F.softplus(input).mean()
    pred, target = _labelled(input, real_label_val if target_is_real else fake_label_val)
    if gan_type == "vanilla":
        return F.binary_cross_entropy_with_logits(pred, target)
    if gan_type == "lsgan":
        return F.mse_loss(pred, target)
    check_choice(gan_type, GAN_LOSS_TYPES, where="gan_loss.gan_type")  # an unknown type: raises
    raise AssertionError("unreachable")  # pragma: no cover

r"""Adversarial GAN losses as pure functions of discriminator outputs.

Conventions, the same for every function here:

* Inputs are the *raw* discriminator outputs (logits for the logistic types,
  critic values for ``wgan``), never probabilities: ``x_r = D(x)`` on real
  samples (``pred_real``), ``x_f = D(G(z))`` on generated ones (``pred_fake``),
  each of shape ``(N, *)``; the two batches need not have the same size.
* Every function returns a scalar to **minimize** by the network it is named
  for (``*_disc_loss`` by the discriminator, ``*_gen_loss`` by the
  generator). ``sigmoid``, ``softplus(x) = log(1 + exp(x))`` and
  ``-log(sigmoid(x)) = softplus(-x)``, ``-log(1 - sigmoid(x)) = softplus(x)``
  give every logistic loss in a numerically stable form.
* A discriminator loss is the **sum** of its real and its fake term, each a
  mean over its batch, as in Goodfellow et al.'s objective and in
  MMGeneration's models (``loss_disc_real + loss_disc_fake``). Some reference
  code averages the two terms instead; ``loss_weight=0.5`` gives that.

``gan_loss`` mirrors MMGeneration's ``GANLoss`` (one term per call, selected by
``target_is_real`` and ``is_disc``); the other functions give whole objectives.

**Reduced precision.** A term with a label target (``real_label``,
``real_label_val``, ``fake_label_val``: binary cross-entropy or squared error
against the label) is computed and returned in at least ``float32``, as
``torch.autocast`` runs ``binary_cross_entropy_with_logits`` and ``mse_loss``;
with ``float16``/``bfloat16`` predictions a label such as 0.9 would otherwise
be rounded to their precision (0.8984 in ``bfloat16``), which moves the
discriminator's optimum. Every other term keeps the predictions' dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlosscore import ConfigError

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
)
#: Types whose generator loss also needs ``pred_real``.
RELATIVISTIC_TYPES: tuple[str, ...] = ("ragan", "ralsgan", "rahinge")
#: Types with an absolute real target, where one-sided label smoothing applies.
SMOOTHABLE_TYPES: tuple[str, ...] = ("minimax", "ns", "lsgan")


def _labelled(pred: Tensor, label: float) -> tuple[Tensor, Tensor]:
    """``pred`` in at least ``float32``, and a target of ``label`` like it.

    A label given to a half-precision op is rounded to the op's dtype (0.9
    becomes 0.8984 in ``bfloat16``); in ``float32`` it is exact to 1e-7.
    """
    if pred.dtype in _HALF:  # a float32/float64 pred passes untouched (the hot path)
        pred = pred.float()
    return pred, torch.full_like(pred, label)


_HALF = (torch.float16, torch.bfloat16)


# -- Goodfellow et al. 2014: minimax and non-saturating ----------------------------


def logistic_disc_loss(pred_real: Tensor, pred_fake: Tensor, real_label: float = 1.0) -> Tensor:
    r"""Discriminator loss of the original GAN (the same for ``minimax`` and ``ns``).

    .. math::
        L_D = \mathrm{BCE}(x_r, \ell) + \mathrm{BCE}(x_f, 0)
            = \overline{\ell\,\mathrm{softplus}(-x_r) + (1-\ell)\,\mathrm{softplus}(x_r)}
              + \overline{\mathrm{softplus}(x_f)}

    i.e. ``-mean(log D(x)) - mean(log(1 - D(G(z))))`` with ``D = sigmoid`` and
    real target ``ℓ = real_label``. ``ℓ < 1`` is one-sided label smoothing
    (Salimans et al. 2016, "Improved Techniques for Training GANs"); fake
    targets stay 0.

    Paper: Goodfellow et al. 2014, "Generative Adversarial Nets". Mirrors
    MMGeneration's ``GANLoss('vanilla')`` real call plus fake call.

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *) logits. Output: scalar.

    Example:
        >>> logistic_disc_loss(torch.zeros(2), torch.zeros(3))  # 2 log 2
        tensor(1.3863)
    """
    real = F.binary_cross_entropy_with_logits(*_labelled(pred_real, real_label))
    return real + F.softplus(pred_fake).mean()


def minimax_gen_loss(pred_fake: Tensor) -> Tensor:
    r"""Saturating generator loss of the original minimax game.

    .. math:: L_G = \overline{\log(1 - \sigma(x_f))} = -\overline{\mathrm{softplus}(x_f)}

    The generator minimizes ``log(1 - D(G(z)))``; the loss is negative and
    unbounded below, and its gradient vanishes when ``D`` confidently rejects
    the fakes (``x_f → -∞``), which is why ``ns`` is used in practice.

    Paper: Goodfellow et al. 2014, eq. 1. MMGeneration has no equivalent.

    Input: ``pred_fake`` (N, *) logits. Output: scalar.

    Example:
        >>> minimax_gen_loss(torch.zeros(4))  # -log 2
        tensor(-0.6931)
    """
    return -F.softplus(pred_fake).mean()


def ns_gen_loss(pred_fake: Tensor) -> Tensor:
    r"""Non-saturating (logistic) generator loss.

    .. math:: L_G = -\overline{\log \sigma(x_f)} = \overline{\mathrm{softplus}(-x_f)}

    Paper: Goodfellow et al. 2014, section 3. Equals MMGeneration's
    ``GANLoss('vanilla')`` and ``GANLoss('wgan-logistic-ns')`` generator call
    with ``target_is_real=True``.

    Input: ``pred_fake`` (N, *) logits. Output: scalar.

    Example:
        >>> ns_gen_loss(torch.zeros(4))  # log 2
        tensor(0.6931)
    """
    return F.softplus(-pred_fake).mean()


# -- Mao et al. 2017: least squares ------------------------------------------------


def lsgan_disc_loss(pred_real: Tensor, pred_fake: Tensor, real_label: float = 1.0) -> Tensor:
    r"""Least-squares discriminator loss (targets ``b = real_label``, ``a = 0``).

    .. math:: L_D = \overline{(x_r - b)^2} + \overline{x_f^2}

    Paper: Mao et al. 2017, "Least Squares Generative Adversarial Networks",
    eq. 2 with ``a = 0, b = 1``, without the paper's factor 1/2 (which only
    rescales), to equal MMGeneration's ``GANLoss('lsgan')`` real plus fake call.

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *) raw outputs. Output: scalar.

    Example:
        >>> lsgan_disc_loss(torch.tensor([1.0, 3.0]), torch.tensor([2.0]))  # (0 + 4) / 2 + 4
        tensor(6.)
    """
    return F.mse_loss(*_labelled(pred_real, real_label)) + (pred_fake**2).mean()


def lsgan_gen_loss(pred_fake: Tensor) -> Tensor:
    r"""Least-squares generator loss (target ``c = 1``).

    .. math:: L_G = \overline{(x_f - 1)^2}

    Paper: Mao et al. 2017, eq. 2 (without the factor 1/2). Equals
    MMGeneration's ``GANLoss('lsgan')`` generator call with ``target_is_real=True``.

    Input: ``pred_fake`` (N, *). Output: scalar.

    Example:
        >>> lsgan_gen_loss(torch.tensor([0.0, 3.0]))  # (1 + 4) / 2
        tensor(2.5000)
    """
    return ((pred_fake - 1) ** 2).mean()


# -- Arjovsky et al. 2017: Wasserstein ---------------------------------------------


def wgan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    r"""Wasserstein critic loss.

    .. math:: L_D = \overline{x_f} - \overline{x_r}

    The critic must be kept (approximately) 1-Lipschitz by other means: weight
    clipping or a gradient penalty, which is a separate loss.

    Paper: Arjovsky et al. 2017, "Wasserstein GAN". Equals MMGeneration's
    ``GANLoss('wgan')`` real plus fake call.

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *) critic values. Output: scalar.

    Example:
        >>> wgan_disc_loss(torch.tensor([1.0, 3.0]), torch.tensor([-1.0]))  # -1 - 2
        tensor(-3.)
    """
    return pred_fake.mean() - pred_real.mean()


def wgan_gen_loss(pred_fake: Tensor) -> Tensor:
    r"""Wasserstein generator loss, ``L_G = -mean(x_f)``.

    Paper: Arjovsky et al. 2017. Equals MMGeneration's ``GANLoss('wgan')``
    generator call with ``target_is_real=True``.

    Input: ``pred_fake`` (N, *). Output: scalar.

    Example:
        >>> wgan_gen_loss(torch.tensor([1.0, 3.0]))
        tensor(-2.)
    """
    return -pred_fake.mean()


# -- Lim & Ye 2017, Miyato et al. 2018: hinge --------------------------------------


def hinge_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    r"""Hinge discriminator loss.

    .. math:: L_D = \overline{\max(0, 1 - x_r)} + \overline{\max(0, 1 + x_f)}

    Papers: Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral
    Normalization for GANs". Equals MMGeneration's ``GANLoss('hinge')`` real
    plus fake discriminator call.

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *). Output: scalar.

    Example:
        >>> hinge_disc_loss(torch.tensor([0.0, 2.0]), torch.tensor([0.5]))  # 0.5 + 1.5
        tensor(2.)
    """
    return F.relu(1 - pred_real).mean() + F.relu(1 + pred_fake).mean()


def hinge_gen_loss(pred_fake: Tensor) -> Tensor:
    r"""Hinge generator loss, ``L_G = -mean(x_f)`` (no hinge on the generator side).

    Papers: Lim & Ye 2017; Miyato et al. 2018. Equals MMGeneration's
    ``GANLoss('hinge')`` generator call (which ignores ``target_is_real``).

    Input: ``pred_fake`` (N, *). Output: scalar.

    Example:
        >>> hinge_gen_loss(torch.tensor([1.0, 3.0]))
        tensor(-2.)
    """
    return -pred_fake.mean()


# -- Jolicoeur-Martineau 2018: relativistic average --------------------------------


def ragan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    r"""Relativistic average standard GAN (RaSGAN) discriminator loss.

    With ``r = x_r - mean(x_f)`` and ``f = x_f - mean(x_r)`` (how much more
    real a sample looks than the other batch does on average):

    .. math:: L_D = \overline{\mathrm{softplus}(-r)} + \overline{\mathrm{softplus}(f)}

    Paper: Jolicoeur-Martineau 2018, "The relativistic discriminator: a key
    element missing from standard GAN", RaSGAN. The author's code averages the
    two terms (``/ 2``); this is the paper's sum. Gradients flow through both
    batch means (nothing is detached).

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *) logits. Output: scalar.

    Example:
        >>> ragan_disc_loss(torch.zeros(2), torch.zeros(2))  # 2 softplus(0) = 2 log 2
        tensor(1.3863)
    """
    return (
        F.softplus(-(pred_real - pred_fake.mean())).mean()
        + F.softplus(pred_fake - pred_real.mean()).mean()
    )


def ragan_gen_loss(pred_fake: Tensor, pred_real: Tensor) -> Tensor:
    r"""RaSGAN generator loss: the discriminator loss with real and fake swapped.

    .. math::
        L_G = \overline{\mathrm{softplus}(-(x_f - \overline{x_r}))}
            + \overline{\mathrm{softplus}(x_r - \overline{x_f})}

    Paper: Jolicoeur-Martineau 2018 (sum, not the code's average).

    Input: ``pred_fake`` (M, *), ``pred_real`` (N, *) logits. Output: scalar.

    Example:
        >>> ragan_gen_loss(torch.zeros(2), torch.zeros(2))
        tensor(1.3863)
    """
    return ragan_disc_loss(pred_real=pred_fake, pred_fake=pred_real)


def ralsgan_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    r"""Relativistic average least-squares (RaLSGAN) discriminator loss.

    .. math::
        L_D = \overline{(x_r - \overline{x_f} - 1)^2} + \overline{(x_f - \overline{x_r} + 1)^2}

    Paper: Jolicoeur-Martineau 2018, RaLSGAN (sum, not the code's average).

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *). Output: scalar.

    Example:
        >>> ralsgan_disc_loss(torch.zeros(2), torch.zeros(2))  # 1 + 1
        tensor(2.)
    """
    return ((pred_real - pred_fake.mean() - 1) ** 2).mean() + (
        (pred_fake - pred_real.mean() + 1) ** 2
    ).mean()


def ralsgan_gen_loss(pred_fake: Tensor, pred_real: Tensor) -> Tensor:
    r"""RaLSGAN generator loss: the discriminator loss with real and fake swapped.

    .. math::
        L_G = \overline{(x_f - \overline{x_r} - 1)^2} + \overline{(x_r - \overline{x_f} + 1)^2}

    Input: ``pred_fake`` (M, *), ``pred_real`` (N, *). Output: scalar.

    Example:
        >>> ralsgan_gen_loss(torch.ones(2), torch.zeros(2))  # 0 + 0
        tensor(0.)
    """
    return ralsgan_disc_loss(pred_real=pred_fake, pred_fake=pred_real)


def rahinge_disc_loss(pred_real: Tensor, pred_fake: Tensor) -> Tensor:
    r"""Relativistic average hinge (RaHinge) discriminator loss.

    .. math::
        L_D = \overline{\max(0, 1 - (x_r - \overline{x_f}))}
            + \overline{\max(0, 1 + (x_f - \overline{x_r}))}

    Paper: Jolicoeur-Martineau 2018, RaHingeGAN (sum, not the code's average).

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *). Output: scalar.

    Example:
        >>> rahinge_disc_loss(torch.zeros(2), torch.zeros(2))  # 1 + 1
        tensor(2.)
    """
    return (
        F.relu(1 - (pred_real - pred_fake.mean())).mean()
        + F.relu(1 + (pred_fake - pred_real.mean())).mean()
    )


def rahinge_gen_loss(pred_fake: Tensor, pred_real: Tensor) -> Tensor:
    r"""RaHinge generator loss: the discriminator loss with real and fake swapped.

    .. math::
        L_G = \overline{\max(0, 1 - (x_f - \overline{x_r}))}
            + \overline{\max(0, 1 + (x_r - \overline{x_f}))}

    Input: ``pred_fake`` (M, *), ``pred_real`` (N, *). Output: scalar.

    Example:
        >>> rahinge_gen_loss(torch.ones(2), torch.zeros(2))  # relu(0) + relu(0)
        tensor(0.)
    """
    return rahinge_disc_loss(pred_real=pred_fake, pred_fake=pred_real)


# -- dispatch by type --------------------------------------------------------------

_DISC = {
    "minimax": logistic_disc_loss,
    "ns": logistic_disc_loss,
    "lsgan": lsgan_disc_loss,
    "wgan": wgan_disc_loss,
    "hinge": hinge_disc_loss,
    "ragan": ragan_disc_loss,
    "ralsgan": ralsgan_disc_loss,
    "rahinge": rahinge_disc_loss,
}
_GEN_ABSOLUTE = {
    "minimax": minimax_gen_loss,
    "ns": ns_gen_loss,
    "lsgan": lsgan_gen_loss,
    "wgan": wgan_gen_loss,
    "hinge": hinge_gen_loss,
}
_GEN_RELATIVISTIC = {
    "ragan": ragan_gen_loss,
    "ralsgan": ralsgan_gen_loss,
    "rahinge": rahinge_gen_loss,
}


def _unknown_type(gan_type: object, where: str) -> ConfigError:
    return ConfigError(
        f"unknown gan_type {gan_type!r}; valid types are {', '.join(ADVERSARIAL_TYPES)}",
        where=where,
    )


def disc_adversarial_loss(
    pred_real: Tensor, pred_fake: Tensor, gan_type: str = "ns", real_label: float = 1.0
) -> Tensor:
    """The discriminator loss of ``gan_type`` (one of :data:`ADVERSARIAL_TYPES`).

    ``real_label`` (one-sided label smoothing) applies to ``minimax``, ``ns``
    and ``lsgan`` only; any other value than 1.0 with another type is refused.

    Input: ``pred_real`` (N, *), ``pred_fake`` (M, *). Output: scalar.

    Example:
        >>> disc_adversarial_loss(torch.zeros(2), torch.zeros(2), "hinge")
        tensor(2.)
    """
    try:
        loss_fn = _DISC[gan_type]
    except (KeyError, TypeError):
        raise _unknown_type(gan_type, "disc_adversarial_loss.gan_type") from None
    if gan_type in SMOOTHABLE_TYPES:
        return loss_fn(pred_real, pred_fake, real_label=real_label)  # type: ignore[call-arg]
    if real_label != 1.0:
        raise ConfigError(
            f"real_label={real_label!r} has no meaning for gan_type {gan_type!r}; "
            f"label smoothing applies to {', '.join(SMOOTHABLE_TYPES)}",
            where="disc_adversarial_loss.real_label",
        )
    return loss_fn(pred_real, pred_fake)


def gen_adversarial_loss(
    pred_fake: Tensor, pred_real: Tensor | None = None, gan_type: str = "ns"
) -> Tensor:
    """The generator loss of ``gan_type`` (one of :data:`ADVERSARIAL_TYPES`).

    ``pred_real`` is needed by the relativistic types only, and ignored by the
    others.

    Input: ``pred_fake`` (M, *), ``pred_real`` (N, *) or None. Output: scalar.

    Example:
        >>> gen_adversarial_loss(torch.zeros(2), gan_type="ns")
        tensor(0.6931)
    """
    if gan_type in _GEN_RELATIVISTIC:
        if pred_real is None:
            raise ConfigError(
                f"the relativistic gan_type {gan_type!r} compares fakes with reals, so its "
                "generator loss needs pred_real (the discriminator's output on real "
                "samples); pass pred_real=... or map it in data_info",
                where="gen_adversarial_loss.pred_real",
            )
        return _GEN_RELATIVISTIC[gan_type](pred_fake, pred_real)
    try:
        loss_fn = _GEN_ABSOLUTE[gan_type]
    except (KeyError, TypeError):
        raise _unknown_type(gan_type, "gen_adversarial_loss.gan_type") from None
    return loss_fn(pred_fake)


# -- MMGeneration's GANLoss --------------------------------------------------------


def gan_loss(
    input: Tensor,
    target_is_real: bool,
    gan_type: str,
    is_disc: bool = False,
    real_label_val: float = 1.0,
    fake_label_val: float = 0.0,
) -> Tensor:
    r"""One term of MMGeneration's ``GANLoss``, unweighted.

    ====================  ====================================  =====================
    ``gan_type``          ``target_is_real=True``               ``False``
    ====================  ====================================  =====================
    ``vanilla``           ``BCEWithLogits(x, real_label_val)``  ``BCEWithLogits(x, fake_label_val)``
    ``lsgan``             ``mean((x - real_label_val)^2)``      ``mean((x - fake_label_val)^2)``
    ``wgan``              ``-mean(x)``                          ``mean(x)``
    ``wgan-logistic-ns``  ``mean(softplus(-x))``                ``mean(softplus(x))``
    ``hinge``, disc       ``mean(relu(1 - x))``                 ``mean(relu(1 + x))``
    ``hinge``, gen        ``-mean(x)``                          ``-mean(x)``
    ====================  ====================================  =====================

    ``is_disc`` matters only to ``hinge`` here (and to the weighting, which
    :class:`~ganloss_adversarial.GANLoss` applies). The labels matter only to
    ``vanilla`` and ``lsgan``.

    Mirrors ``mmgen/models/losses/gan_loss.py::GANLoss.forward`` term by term.

    Input: ``input`` (N, *). Output: scalar.

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
    raise ConfigError(
        f"unknown gan_type {gan_type!r}; valid types are {', '.join(GAN_LOSS_TYPES)}",
        where="gan_loss.gan_type",
    )

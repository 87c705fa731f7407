"""Adversarial GAN losses for ganlosscore.

* :class:`GANLoss`: MMGeneration's ``GANLoss`` (``vanilla``, ``lsgan``,
  ``wgan``, ``hinge``, ``wgan-logistic-ns``), called once per term by model code.
* :class:`DiscAdversarialLoss` and :class:`GenAdversarialLoss`: whole
  discriminator and generator objectives read through ``data_info``
  (``minimax``, ``ns``, ``lsgan``, ``wgan``, ``hinge``, ``ragan``,
  ``ralsgan``, ``rahinge``, ``rpgan``), so a GAN's adversarial loss is pure
  configuration.
* :mod:`ganloss_adversarial.functional`: the same math as pure functions.

The losses are found by ganlosscore through the ``ganlosscore.losses`` entry
points; importing this package is only needed to use the classes directly.
"""

from ._version import __version__
from .adversarial import DiscAdversarialLoss, GenAdversarialLoss
from .functional import ADVERSARIAL_TYPES, GAN_LOSS_TYPES, RELATIVISTIC_TYPES, SMOOTHABLE_TYPES
from .gan_loss import GANLoss

__all__ = [
    "ADVERSARIAL_TYPES",
    "GAN_LOSS_TYPES",
    "RELATIVISTIC_TYPES",
    "SMOOTHABLE_TYPES",
    "DiscAdversarialLoss",
    "GANLoss",
    "GenAdversarialLoss",
    "__version__",
]

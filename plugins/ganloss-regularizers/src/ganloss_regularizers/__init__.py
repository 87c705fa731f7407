"""GAN regularizers for ganlosscore.

Discriminator: ``DiscShiftLoss`` (PGGAN drift), ``GradientPenaltyLoss``
(WGAN-GP), ``R1GradientPenalty`` / ``R2GradientPenalty``,
``DRAGANGradientPenalty``, ``LeCamRegularizer``, ``BalancedConsistencyLoss``
(bCR). Generator: ``GeneratorPathRegularizer`` (StyleGAN2 path length).

Installed, they are found by ganlosscore through entry points and built from
configs by name, e.g. ``{"type": "R1GradientPenalty", "loss_weight": 5.0,
"data_info": {"discriminator": "disc", "real_data": "real_imgs"}}``; importing
this package is only needed to use the classes or functions directly.
"""

from ._version import __version__
from .consistency import BalancedConsistencyLoss, consistency_penalty
from .gradient_penalty import (
    DRAGANGradientPenalty,
    GradientPenaltyLoss,
    dragan_perturb,
    gradient_norm,
    gradient_norm_penalty,
    random_interpolates,
)
from .lecam import LeCamRegularizer, lecam_regularization
from .path_regularizer import (
    GeneratorPathRegularizer,
    path_length_noise,
    path_length_penalty,
    path_lengths,
)
from .r1 import R1GradientPenalty, R2GradientPenalty, squared_gradient_penalty
from .shift import DiscShiftLoss, disc_shift_loss

__all__ = [
    "BalancedConsistencyLoss",
    "DRAGANGradientPenalty",
    "DiscShiftLoss",
    "GeneratorPathRegularizer",
    "GradientPenaltyLoss",
    "LeCamRegularizer",
    "R1GradientPenalty",
    "R2GradientPenalty",
    "__version__",
    "consistency_penalty",
    "disc_shift_loss",
    "dragan_perturb",
    "gradient_norm",
    "gradient_norm_penalty",
    "lecam_regularization",
    "path_length_noise",
    "path_length_penalty",
    "path_lengths",
    "random_interpolates",
    "squared_gradient_penalty",
]

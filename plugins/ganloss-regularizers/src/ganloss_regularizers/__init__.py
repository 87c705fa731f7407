"""GAN regularizers for ganlosscore.

Discriminator: ``DiscShiftLoss`` (PGGAN drift), ``GradientPenaltyLoss``
(WGAN-GP), ``R1GradientPenalty`` / ``R2GradientPenalty``,
``DRAGANGradientPenalty``, ``LeCamRegularizer``, ``BalancedConsistencyLoss``
(bCR), ``WGANDivPenalty``, ``MaxGradientPenalty``; both: ``LatentConsistencyLoss``
(zCR), ``InfoGANMutualInformationLoss``. Generator: ``GeneratorPathRegularizer``
(StyleGAN2 path length).

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
from .infogan import InfoGANMutualInformationLoss, categorical_code_nll, continuous_code_nll
from .interpolate_penalties import (
    MaxGradientPenalty,
    WGANDivPenalty,
    max_gradient_penalty,
    wgan_div_penalty,
)
from .latent_consistency import LatentConsistencyLoss
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
    "InfoGANMutualInformationLoss",
    "LatentConsistencyLoss",
    "LeCamRegularizer",
    "MaxGradientPenalty",
    "R1GradientPenalty",
    "R2GradientPenalty",
    "WGANDivPenalty",
    "__version__",
    "categorical_code_nll",
    "consistency_penalty",
    "continuous_code_nll",
    "disc_shift_loss",
    "dragan_perturb",
    "gradient_norm",
    "gradient_norm_penalty",
    "lecam_regularization",
    "max_gradient_penalty",
    "path_length_noise",
    "path_length_penalty",
    "path_lengths",
    "random_interpolates",
    "squared_gradient_penalty",
    "wgan_div_penalty",
]

"""GAN regularizers for ganlosscore.

Discriminator: ``DiscShiftLoss`` (PGGAN drift), ``GradientPenaltyLoss``
(WGAN-GP), ``R1GradientPenalty`` / ``R2GradientPenalty``,
``DRAGANGradientPenalty``, ``LeCamRegularizer``, ``BalancedConsistencyLoss``
(bCR). Generator: ``GeneratorPathRegularizer`` (StyleGAN2 path length).

Installed, they are found by ganlosscore through entry points and built from
configs by name, e.g. ``{"type": "R1GradientPenalty", "loss_weight": 5.0,
"data_info": {"discriminator": "disc", "real_data": "real_imgs"}}``.

Importing this package does not import torch; the names below are resolved
on first access (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._validation import RegularizerInputError
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

# name -> module that defines it; imported on first attribute access.
_LAZY: dict[str, str] = {
    "RegularizerInputError": "_validation",
    "BalancedConsistencyLoss": "consistency",
    "consistency_penalty": "consistency",
    "DRAGANGradientPenalty": "gradient_penalty",
    "GradientPenaltyLoss": "gradient_penalty",
    "dragan_perturb": "gradient_penalty",
    "gradient_norm": "gradient_penalty",
    "gradient_norm_penalty": "gradient_penalty",
    "random_interpolates": "gradient_penalty",
    "LeCamRegularizer": "lecam",
    "lecam_regularization": "lecam",
    "GeneratorPathRegularizer": "path_regularizer",
    "path_length_noise": "path_regularizer",
    "path_length_penalty": "path_regularizer",
    "path_lengths": "path_regularizer",
    "R1GradientPenalty": "r1",
    "R2GradientPenalty": "r1",
    "squared_gradient_penalty": "r1",
    "DiscShiftLoss": "shift",
    "disc_shift_loss": "shift",
}

__all__ = [
    "BalancedConsistencyLoss",
    "DRAGANGradientPenalty",
    "DiscShiftLoss",
    "GeneratorPathRegularizer",
    "GradientPenaltyLoss",
    "LeCamRegularizer",
    "R1GradientPenalty",
    "R2GradientPenalty",
    "RegularizerInputError",
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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganloss_regularizers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

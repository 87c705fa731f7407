"""ganloss-pixelwise: pixel-wise, Gaussian likelihood and feature-space losses for ganlosscore.

Losses (entry points of the group ``ganlosscore.losses``): ``L1Loss``,
``MSELoss``, ``CharbonnierLoss``, ``GradientLoss``, ``MaskedTVLoss``,
``PSNRLoss``, ``GaussianKLDLoss``, ``DiscretizedGaussianLogLikelihoodLoss``,
``PerceptualLoss``, ``FeatureMatchingLoss``. Their math is in
:mod:`ganloss_pixelwise.functional`; inputs they cannot use raise the core's
:class:`ganlosscore.LossInputError`.
"""

from ._version import __version__
from .feature import FeatureMatchingLoss, PerceptualLoss
from .gaussian import DiscretizedGaussianLogLikelihoodLoss, GaussianKLDLoss
from .pixel import CharbonnierLoss, GradientLoss, L1Loss, MaskedTVLoss, MSELoss, PSNRLoss

__all__ = [
    "CharbonnierLoss",
    "DiscretizedGaussianLogLikelihoodLoss",
    "FeatureMatchingLoss",
    "GaussianKLDLoss",
    "GradientLoss",
    "L1Loss",
    "MSELoss",
    "MaskedTVLoss",
    "PSNRLoss",
    "PerceptualLoss",
    "__version__",
]

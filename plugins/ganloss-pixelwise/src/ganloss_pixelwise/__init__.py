"""ganloss-pixelwise: pixel-wise, Gaussian likelihood and feature-space losses for ganlosscore.

Losses (entry points of the group ``ganlosscore.losses``): ``L1Loss``,
``MSELoss``, ``CharbonnierLoss``, ``GaussianKLDLoss``,
``DiscretizedGaussianLogLikelihoodLoss``, ``PerceptualLoss``,
``FeatureMatchingLoss``. Their math is in :mod:`ganloss_pixelwise.functional`.
"""

from ._validation import PixelwiseInputError
from ._version import __version__
from .feature import FeatureMatchingLoss, PerceptualLoss
from .gaussian import DiscretizedGaussianLogLikelihoodLoss, GaussianKLDLoss
from .pixel import CharbonnierLoss, L1Loss, MSELoss

__all__ = [
    "CharbonnierLoss",
    "DiscretizedGaussianLogLikelihoodLoss",
    "FeatureMatchingLoss",
    "GaussianKLDLoss",
    "L1Loss",
    "MSELoss",
    "PerceptualLoss",
    "PixelwiseInputError",
    "__version__",
]

"""ganloss-diffusion: diffusion training losses for ganlosscore.

Losses (entry points of the group ``ganlosscore.losses``): ``DDPMMSELoss`` and
``DDPMVLBLoss`` (MMGeneration's DDPM losses, with per-timestep-quartile
logging through ``extra_log_vars``) and ``EDMLoss``, ``VPLoss``, ``VELoss``
(Karras et al., 2022). Their math is in :mod:`ganloss_diffusion.functional`; inputs they cannot use
raise the core's :class:`ganlosscore.LossInputError`.
"""

from ._version import __version__
from .ddpm import DDPMMSELoss, DDPMVLBLoss
from .edm import EDMLoss, VELoss, VPLoss

__all__ = [
    "DDPMMSELoss",
    "DDPMVLBLoss",
    "EDMLoss",
    "VELoss",
    "VPLoss",
    "__version__",
]

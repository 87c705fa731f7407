"""Class-conditional GAN losses for ganlosscore.

* :class:`AuxiliaryClassifierLoss`: AC-GAN's classification loss (Odena et al. 2017).
* :class:`DiscTwinClassifierLoss`, :class:`GenTwinClassifierLoss`: TAC-GAN (Gong et al. 2019).
* :class:`DiscDiscriminativeClassifierLoss`, :class:`GenDiscriminativeClassifierLoss`:
  ADC-GAN (Hou et al. 2022).
* :class:`ContrastiveConditionalLoss`: ContraGAN's 2C loss (Kang & Park 2020).
* :class:`Data2DataCrossEntropyLoss`: ReACGAN's D2D-CE loss (Kang et al. 2021).
* :class:`MultiHingeLoss`: MH-GAN's multi-class hinge (Kavalerov et al. 2021).
* :mod:`ganloss_conditional.functional`: the same math as pure functions.

ganlosscore finds the losses through the ``ganlosscore.losses`` entry points;
importing this package is only needed to use the classes directly.
"""

from ._version import __version__
from .classifier import (
    AuxiliaryClassifierLoss,
    DiscDiscriminativeClassifierLoss,
    DiscTwinClassifierLoss,
    GenDiscriminativeClassifierLoss,
    GenTwinClassifierLoss,
)
from .contrastive import ContrastiveConditionalLoss, Data2DataCrossEntropyLoss
from .hinge import MultiHingeLoss

__all__ = [
    "AuxiliaryClassifierLoss",
    "ContrastiveConditionalLoss",
    "Data2DataCrossEntropyLoss",
    "DiscDiscriminativeClassifierLoss",
    "DiscTwinClassifierLoss",
    "GenDiscriminativeClassifierLoss",
    "GenTwinClassifierLoss",
    "MultiHingeLoss",
    "__version__",
]

"""Latent consistency regularization (zCR): the discriminator and generator terms."""

from __future__ import annotations

from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
from torch import Tensor

from ganlosscore import LossInputError, LossModule
from ganlosscore.checks import check_choice

from .consistency import consistency_penalty

__all__ = ["LatentConsistencyLoss"]

NETWORKS = ("disc", "gen")


class LatentConsistencyLoss(LossModule):
    """zCR, latent consistency regularization: D steady, G sensitive, under a small change of ``z``.

    With ``z' = z + eps``, ``eps ~ N(0, sigma_noise^2)`` drawn by the model:

    - ``network="disc"``: ``loss = mean((D(G(z)) - D(G(z')))**2)``, inputs the
      discriminator's outputs on the two generated batches: the discriminator
      should not tell them apart;
    - ``network="gen"``: ``loss = -mean((G(z) - G(z'))**2)``, inputs the two
      generated batches: the generator is rewarded for reacting to ``z``,
      against mode collapse (the value is negative).

    Zhao et al. 2021, "Improved Consistency Regularization for GANs" (AAAI),
    zCR, with ``lambda_dis = 5``, ``lambda_gen = 0.5``, ``sigma_noise = 0.03``
    (set ``loss_weight``); the mean is over every element, as
    PyTorch-StudioGAN's ``apply_zcr`` (an ``MSELoss``; its ``d_lambda`` and
    ``g_lambda`` are ``loss_weight``). StudioGAN also adds the same
    discriminator term for class logits or embeddings: configure one more
    ``network="disc"`` term for those.

    Args:
        network: ``"disc"`` or ``"gen"``, the network whose term this is.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_zcr``), ``interval``.

    Shape:
        output: ``(N, *)``, ``D(G(z))`` (disc) or ``G(z)`` (gen).
        output_perturbed: the same shape, at ``z'``.
        Output: scalar.

    Examples:
        >>> d = LatentConsistencyLoss("disc")
        >>> d(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))  # mean(0, 4)
        tensor(2.)
        >>> LatentConsistencyLoss("gen")(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
        tensor(-2.)
    """

    default_loss_name = "loss_zcr"

    def __init__(self, network: str = "disc", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.network = check_choice(network, NETWORKS, where=f"{type(self).__name__}.network")

    def compute(self, output: Tensor, output_perturbed: Tensor) -> Tensor:
        if output.shape != output_perturbed.shape:
            raise LossInputError(
                f"output {tuple(output.shape)} and output_perturbed "
                f"{tuple(output_perturbed.shape)} must have the same shape: the same "
                "network's outputs at z and at z + eps",
                where=self.loss_name(),
            )
        penalty = consistency_penalty(output, output_perturbed)
        return penalty if self.network == "disc" else -penalty

    def extra_repr(self) -> str:
        return f"network={self.network!r}, {super().extra_repr()}"

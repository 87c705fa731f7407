"""Mode-collapse metrics of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

Given generated samples and the mixture's mode centres and :math:`\\sigma`:

* a sample is **high quality** when it lies within :math:`3\\sigma` of its
  nearest mode centre (Euclidean distance :math:`< 3\\sigma`; the modes are
  isotropic with one :math:`\\sigma`, so this is PacGAN's per-axis-scaled
  distance below 3);
* **modes captured** are the modes nearest to at least one high-quality sample;
* **%HQ** is the fraction of all samples that are high quality;
* **reverse KL** compares the histogram of high-quality samples over the modes
  with the uniform distribution over all :math:`K` modes (the true mode
  weights):

  .. math::
      p_k = \\frac{\\#\\{\\text{high-quality samples nearest to mode } k\\}}
                 {\\#\\{\\text{high-quality samples}\\}}, \\qquad
      \\mathrm{KL}(p \\,\\|\\, u) = \\sum_{k:\\, p_k > 0} p_k \\log (K p_k).

  It is 0 when the high-quality samples spread evenly over every mode and
  :math:`\\log(K / m)` when they spread evenly over only :math:`m` modes; it is
  undefined (``None``) when no sample is high quality. PacGAN's paper reports
  "the reverse KL divergence between the generated distribution and the true
  distribution" over modes; its public code
  (``fjxmlzn/PacGAN``, ``synthetic_data_experiments/PacGAN/pacgan/extensions.py``,
  ``MetricLogger``) builds that histogram from the high-quality samples only
  (``detail_of_coverage``) and normalises it by their number, as here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["ModeMetrics", "mode_metrics", "reverse_kl_to_uniform"]


@dataclass(frozen=True)
class ModeMetrics:
    """The metrics of one set of samples (see the module docstring).

    Attributes:
        modes: modes captured.
        num_modes: :math:`K`, the modes of the mixture.
        high_quality: fraction of samples within :math:`3\\sigma` of their nearest mode.
        reverse_kl: :math:`\\mathrm{KL}(p \\| u)`, ``None`` without any high-quality sample.
        counts: high-quality samples per mode, in the order of the centres.
        num_samples: samples evaluated.
    """

    modes: int
    num_modes: int
    high_quality: float
    reverse_kl: float | None
    counts: tuple[int, ...]
    num_samples: int

    def to_dict(self) -> dict[str, object]:
        return {
            "modes": self.modes,
            "num_modes": self.num_modes,
            "high_quality": self.high_quality,
            "reverse_kl": self.reverse_kl,
            "counts": list(self.counts),
            "num_samples": self.num_samples,
        }


def reverse_kl_to_uniform(counts: Tensor) -> float | None:
    """:math:`\\sum_{k: p_k > 0} p_k \\log(K p_k)` with :math:`p = counts / \\sum counts`.

    Input: ``counts`` ``(K,)``, non-negative. Output: a float, ``None`` when
    every count is 0.

    Example:
        >>> reverse_kl_to_uniform(torch.tensor([1, 1, 0, 0]))  # log(4 / 2)
        0.6931471805599453
    """
    counts = counts.to(torch.float64)
    total = float(counts.sum())
    if total <= 0:
        return None
    p = counts[counts > 0] / total
    return float((p * torch.log(p * counts.numel())).sum())


def mode_metrics(
    samples: Tensor, centres: Tensor, std: float, *, threshold: float = 3.0
) -> ModeMetrics:
    """Modes captured, %HQ and reverse KL of ``samples`` (see the module docstring).

    Input: ``samples`` ``(N, 2)`` and ``centres`` ``(K, 2)``, in data space;
    ``std`` the mixture's :math:`\\sigma`; a sample is high quality when its
    distance to the nearest centre is below ``threshold * std``. Computed in
    float64.

    Example:
        >>> centres = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
        >>> samples = torch.tensor([[0.0, 0.0], [0.01, 0.0], [2.0, 0.0]])
        >>> m = mode_metrics(samples, centres, std=0.02)  # third sample is 2 from both
        >>> m.modes, m.high_quality, m.counts
        (1, 0.6666666666666666, (2, 0))
    """
    samples = samples.detach().to(torch.float64)
    centres = centres.detach().to(torch.float64)
    # Exact differences, not the matrix-product shortcut (which is off by ~1e-8).
    pairwise = torch.cdist(samples, centres, compute_mode="donot_use_mm_for_euclid_dist")
    distance, nearest = pairwise.min(dim=1)
    high = distance < threshold * std
    counts = torch.bincount(nearest[high], minlength=centres.shape[0])
    n = samples.shape[0]
    return ModeMetrics(
        modes=int((counts > 0).sum()),
        num_modes=int(centres.shape[0]),
        high_quality=float(high.sum()) / n if n else math.nan,
        reverse_kl=reverse_kl_to_uniform(counts),
        counts=tuple(int(c) for c in counts),
        num_samples=n,
    )

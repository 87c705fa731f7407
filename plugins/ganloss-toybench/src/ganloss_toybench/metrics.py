"""Mode-collapse metrics of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

**2-D mixtures.** Given generated samples and the mixture's mode centres and :math:`\\sigma`:

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

**Conditional runs** (:func:`label_metrics`): each sample was generated for a
label, a mode index. **At label** is the share of samples whose nearest mode
is their label; **high quality at label** the share of the high-quality
samples whose nearest mode is their label (how often a sharp sample is of the
class asked for), and **high quality and at label** the share of all
samples that are both.

**Digits** (:func:`image_metrics`). The classifier of
:mod:`ganloss_toybench.classifier` reads every sample's digits; as in PacGAN's
Stacked MNIST protocol (Table 3, 26,000 samples) a sample's **mode** is the
digits it is read as, **modes captured** the modes read at least once, and
the **reverse KL** that of the histogram of *all* samples over the
:math:`10^C` modes against the uniform one (same formula as above). Sampling
alone costs some KL: :math:`N` uniform samples over :math:`K` modes give
about :math:`(K - 1) / (2N)`, 0.019 for 1,000 modes and 26,000 samples.
**High quality** is the share of samples whose every digit is read with a
softmax probability above 0.9. The **Fréchet distance** (Heusel et al. 2017,
FID's formula) is measured between the generated and the real samples'
feature vectors in the classifier's hidden layer:

.. math::
    \\mathrm{FD} = \\lVert \\mu_g - \\mu_r \\rVert^2
        + \\operatorname{tr}\\bigl(\\Sigma_g + \\Sigma_r - 2 (\\Sigma_g \\Sigma_r)^{1/2}\\bigr).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "CONFIDENCE",
    "ModeMetrics",
    "frechet_distance",
    "histogram_metrics",
    "image_metrics",
    "label_metrics",
    "mode_metrics",
    "reverse_kl_to_uniform",
]

#: A digit is read with confidence when the classifier's softmax probability exceeds this.
CONFIDENCE = 0.9


@dataclass(frozen=True)
class ModeMetrics:
    """The metrics of one set of samples (see the module docstring).

    Attributes:
        modes: modes captured.
        num_modes: :math:`K`, the modes of the mixture.
        high_quality: fraction of samples within :math:`3\\sigma` of their nearest mode.
        reverse_kl: :math:`\\mathrm{KL}(p \\| u)`, ``None`` without any high-quality sample.
        counts: high-quality samples per mode, in the order of the centres
            (for digits: every sample, per mode).
        num_samples: samples evaluated.
        frechet_distance: digits only, the Fréchet distance in the classifier's features.
    """

    modes: int
    num_modes: int
    high_quality: float
    reverse_kl: float | None
    counts: tuple[int, ...]
    num_samples: int
    frechet_distance: float | None = None

    def to_dict(self) -> dict[str, object]:
        extra = {} if self.frechet_distance is None else {"frechet_distance": self.frechet_distance}
        return {
            **extra,
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


def histogram_metrics(modes: Tensor, num_modes: int, high_quality: Tensor) -> ModeMetrics:
    """Modes captured and reverse KL of *all* samples' ``modes`` ``(N,)`` over ``num_modes``,
    and the share of ``high_quality`` ``(N,)`` (bool); the digits' protocol.

    Example:
        >>> m = histogram_metrics(torch.tensor([0, 0, 1, 1]), 4, torch.tensor([1, 1, 1, 0]).bool())
        >>> m.modes, m.high_quality, round(m.reverse_kl, 4)  # log(4 / 2)
        (2, 0.75, 0.6931)
    """
    counts = torch.bincount(modes.reshape(-1), minlength=num_modes)
    n = int(modes.numel())
    return ModeMetrics(
        modes=int((counts > 0).sum()),
        num_modes=num_modes,
        high_quality=float(high_quality.sum()) / n if n else math.nan,
        reverse_kl=reverse_kl_to_uniform(counts),
        counts=tuple(int(c) for c in counts),
        num_samples=n,
    )


def frechet_distance(a: Tensor, b: Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets ``a`` ``(N, D)`` and ``b``
    ``(M, D)`` (formula in the module docstring), in float64.

    :math:`\\operatorname{tr}(\\Sigma_a \\Sigma_b)^{1/2}` is the sum of the square roots of the
    eigenvalues of :math:`\\Sigma_a^{1/2} \\Sigma_b \\Sigma_a^{1/2}` (symmetric, so ``eigvalsh``;
    the same trace as scipy's ``sqrtm`` of the product, without its complex round-off).

    Example:
        >>> a = torch.tensor([[0.0, 0.0], [2.0, 0.0]])  # mean (1, 0), variances (1, 0)
        >>> b = a + torch.tensor([0.0, 3.0])  # the same, moved by 3
        >>> frechet_distance(a, b)  # |(0, 3)|^2 and no covariance term
        9.0
    """
    a, b = a.detach().double(), b.detach().double()
    mean = (a.mean(dim=0) - b.mean(dim=0)).square().sum()
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors * values.clamp(min=0).sqrt() @ vectors.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return float(mean + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross)


def image_metrics(
    modes: Tensor,
    confidence: Tensor,
    features: Tensor,
    real_features: Tensor,
    num_modes: int,
) -> ModeMetrics:
    """The digits' metrics of samples read by the classifier (module docstring).

    Input: the samples' ``modes`` ``(N,)``, their digits' smallest
    ``confidence`` ``(N,)`` and ``features`` ``(N, D)``, the real samples'
    ``real_features`` ``(M, D)``; ``num_modes`` is :math:`10^C`.
    """
    metrics = histogram_metrics(modes, num_modes, confidence > CONFIDENCE)
    return dataclasses.replace(metrics, frechet_distance=frechet_distance(features, real_features))


def label_metrics(
    samples: Tensor, labels: Tensor, centres: Tensor, std: float, *, threshold: float = 3.0
) -> dict[str, float | None]:
    """How often conditional samples land at the mode of their label (module docstring).

    Input: ``samples`` ``(N, 2)`` and ``centres`` ``(K, 2)`` in data space, the
    ``labels`` ``(N,)`` the samples were generated for, ``std`` and
    ``threshold`` as in :func:`mode_metrics`. Output: ``at_label`` (share of all
    samples), ``high_quality_at_label`` (share of the high-quality samples;
    ``None`` without any) and ``high_quality_and_at_label`` (share of all samples).

    Example:
        >>> centres = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
        >>> samples = torch.tensor([[0.0, 0.0], [4.0, 0.0], [3.5, 0.0], [1.5, 0.0]])
        >>> labels = torch.tensor([0, 0, 1, 0])  # right, wrong, right but far, right but far
        >>> label_metrics(samples, labels, centres, std=0.02)
        {'at_label': 0.75, 'high_quality_at_label': 0.5, 'high_quality_and_at_label': 0.25}
    """
    samples = samples.detach().to(torch.float64)
    centres = centres.detach().to(torch.float64)
    pairwise = torch.cdist(samples, centres, compute_mode="donot_use_mm_for_euclid_dist")
    distance, nearest = pairwise.min(dim=1)
    high = distance < threshold * std
    at_label = nearest == labels.reshape(-1)
    n, n_high = samples.shape[0], int(high.sum())
    return {
        "at_label": float(at_label.sum()) / n if n else math.nan,
        "high_quality_at_label": float((at_label & high).sum()) / n_high if n_high else None,
        "high_quality_and_at_label": float((at_label & high).sum()) / n if n else math.nan,
    }

"""ganloss-toybench: does a ganlosscore loss configuration train a GAN?

The ``ganloss toybench`` command (registered through the ``ganlosscore.hooks``
entry point) trains small MLPs on 2-D Gaussian mixtures (``ring``, ``grid``),
or small MLPs (or CNNs) on 8 x 8 digits (``digits``: 10 modes, ``stacked-digits``:
1,000), with the ``disc`` and ``gen`` losses of a config, and reports the
VEEGAN / PacGAN mode metrics (and, on digits, a Fréchet distance in the
features of its digit classifier). From Python::

    from ganloss_toybench import load_run_config, run_toybench

    settings, disc, gen, resolved = load_run_config(None, {"steps": 2000})
    outcome = run_toybench(settings, disc, gen, out_dir=None)
    outcome.metrics.modes, outcome.metrics.high_quality

Importing this package imports no torch: the names below that need it are
loaded on first use (PEP 562), so the ``ganloss`` command stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .classifier import DigitClassifier, load_classifier, read_digits
    from .config import Settings, default_config, resolve_settings
    from .data import DATASETS, DigitImages, GaussianMixture, grid, load_dataset, ring
    from .figure import replot
    from .metrics import (
        ModeMetrics,
        frechet_distance,
        histogram_metrics,
        image_metrics,
        label_metrics,
        mode_metrics,
        reverse_kl_to_uniform,
    )
    from .models import (
        ConvDiscriminator,
        ConvGenerator,
        ImageMLPDiscriminator,
        ImageMLPGenerator,
        MLPDiscriminator,
        MLPGenerator,
    )
    from .runner import RunOutcome, load_run_config, run_distributed, run_toybench
    from .training import TrainResult, train

_LAZY: dict[str, str] = {
    "Settings": "config",
    "default_config": "config",
    "resolve_settings": "config",
    "DigitClassifier": "classifier",
    "load_classifier": "classifier",
    "read_digits": "classifier",
    "DATASETS": "data",
    "DigitImages": "data",
    "GaussianMixture": "data",
    "grid": "data",
    "load_dataset": "data",
    "ring": "data",
    "replot": "figure",
    "ModeMetrics": "metrics",
    "frechet_distance": "metrics",
    "histogram_metrics": "metrics",
    "image_metrics": "metrics",
    "label_metrics": "metrics",
    "mode_metrics": "metrics",
    "reverse_kl_to_uniform": "metrics",
    "ConvDiscriminator": "models",
    "ConvGenerator": "models",
    "ImageMLPDiscriminator": "models",
    "ImageMLPGenerator": "models",
    "MLPDiscriminator": "models",
    "MLPGenerator": "models",
    "RunOutcome": "runner",
    "load_run_config": "runner",
    "run_distributed": "runner",
    "run_toybench": "runner",
    "TrainResult": "training",
    "train": "training",
}

__all__ = [
    "DATASETS",
    "ConvDiscriminator",
    "ConvGenerator",
    "DigitClassifier",
    "DigitImages",
    "GaussianMixture",
    "ImageMLPDiscriminator",
    "ImageMLPGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "ModeMetrics",
    "RunOutcome",
    "Settings",
    "TrainResult",
    "__version__",
    "default_config",
    "frechet_distance",
    "grid",
    "histogram_metrics",
    "image_metrics",
    "label_metrics",
    "load_classifier",
    "load_dataset",
    "load_run_config",
    "mode_metrics",
    "read_digits",
    "replot",
    "resolve_settings",
    "reverse_kl_to_uniform",
    "ring",
    "run_distributed",
    "run_toybench",
    "train",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ganloss_toybench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

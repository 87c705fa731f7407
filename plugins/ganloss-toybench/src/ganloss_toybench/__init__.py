"""ganloss-toybench: does a ganlosscore loss configuration train a GAN?

The ``ganloss toybench`` command (registered through the ``ganlosscore.hooks``
entry point) trains small MLPs on 2-D Gaussian mixtures (``ring``, ``grid``)
with the ``disc`` and ``gen`` losses of a config, and reports the VEEGAN /
PacGAN mode metrics. From Python::

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
    from .config import Settings, default_config, resolve_settings
    from .data import DATASETS, GaussianMixture, grid, ring
    from .metrics import ModeMetrics, mode_metrics, reverse_kl_to_uniform
    from .models import MLPDiscriminator, MLPGenerator
    from .runner import RunOutcome, load_run_config, run_distributed, run_toybench
    from .training import TrainResult, train

_LAZY: dict[str, str] = {
    "Settings": "config",
    "default_config": "config",
    "resolve_settings": "config",
    "DATASETS": "data",
    "GaussianMixture": "data",
    "grid": "data",
    "ring": "data",
    "ModeMetrics": "metrics",
    "mode_metrics": "metrics",
    "reverse_kl_to_uniform": "metrics",
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
    "GaussianMixture",
    "MLPDiscriminator",
    "MLPGenerator",
    "ModeMetrics",
    "RunOutcome",
    "Settings",
    "TrainResult",
    "__version__",
    "default_config",
    "grid",
    "load_run_config",
    "mode_metrics",
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

"""ganlosscore: the loss protocol, discovery and aggregation of GAN losses.

Importing this package imports neither torch nor any plugin: the names that
need torch are resolved on first access (PEP 562), so ``ganloss list`` and the
registry stay fast. Type checkers see every name through the block below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import PROTOCOL_VERSION, __version__
from .errors import (
    CallSignatureError,
    ConfigError,
    DataInfoError,
    DistributedMismatchError,
    GanLossError,
    IncompatiblePluginError,
    LossConflictError,
    LossInputError,
    NonFiniteLossError,
    NotALossError,
    PluginLoadError,
    PluginSelectionWarning,
    UnknownLossError,
)
from .hookspecs import hookimpl, hookspec

if TYPE_CHECKING:
    from .aggregation import LossAggregator, LossResult
    from .config import build_aggregator, build_loss, configure_plugins, load_config
    from .distributed import collective_device, is_distributed, sum_over_ranks
    from .hooks import get_plugin_manager, new_plugin_manager
    from .protocol import LossModule
    from .reduction import WeightedLoss, reduce_loss, weight_reduce_loss, weighted_loss
    from .registry import LossRecord, available_losses, register_loss

# name -> module that defines it; imported on first attribute access.
_LAZY: dict[str, str] = {
    "LossModule": "protocol",
    "weighted_loss": "reduction",
    "WeightedLoss": "reduction",
    "reduce_loss": "reduction",
    "weight_reduce_loss": "reduction",
    "register_loss": "registry",
    "available_losses": "registry",
    "LossRecord": "registry",
    "build_loss": "config",
    "build_aggregator": "config",
    "load_config": "config",
    "configure_plugins": "config",
    "LossAggregator": "aggregation",
    "LossResult": "aggregation",
    "get_plugin_manager": "hooks",
    "collective_device": "distributed",
    "is_distributed": "distributed",
    "sum_over_ranks": "distributed",
    "new_plugin_manager": "hooks",
}

__all__ = [
    "PROTOCOL_VERSION",
    "CallSignatureError",
    "ConfigError",
    "DataInfoError",
    "DistributedMismatchError",
    "GanLossError",
    "IncompatiblePluginError",
    "LossAggregator",
    "LossConflictError",
    "LossInputError",
    "LossModule",
    "LossRecord",
    "LossResult",
    "NonFiniteLossError",
    "NotALossError",
    "PluginLoadError",
    "PluginSelectionWarning",
    "UnknownLossError",
    "WeightedLoss",
    "__version__",
    "available_losses",
    "build_aggregator",
    "build_loss",
    "collective_device",
    "configure_plugins",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "is_distributed",
    "load_config",
    "new_plugin_manager",
    "reduce_loss",
    "register_loss",
    "sum_over_ranks",
    "weight_reduce_loss",
    "weighted_loss",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)

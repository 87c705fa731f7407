"""Every aggregation's log values in TensorBoard, every ``interval`` steps.

A ganlosscore hook plugin in two parts, so that it costs a training step
nothing until it is asked to log:

* :data:`plugin`, the entry point (group ``ganlosscore.hooks``), implements
  only ``ganloss_configure``: it checks the ``[plugins.ganloss-tensorboard]``
  table of the config file and, once given a ``log_dir``, registers a
  :class:`TensorBoardLogger` on the plugin manager being configured (without
  one, it unregisters it);
* :class:`TensorBoardLogger` implements ``ganloss_after_aggregate``: every
  ``interval`` steps it reads the result's log values (the one host
  synchronisation, only then) and writes each as a scalar ``PHASE/NAME``
  (``disc/loss_disc_shift``) with ``torch.utils.tensorboard.SummaryWriter``.

Importing this module imports neither torch nor tensorboard (``ganloss
--help`` loads hook plugins); the writer is made at the first value written.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from typing import Any

from ganlosscore import ConfigError, hookimpl
from ganlosscore.checks import brief, check_int, did_you_mean

from ._version import __version__

__all__ = [
    "LOGGER_NAME",
    "SETTINGS",
    "TensorBoardLogger",
    "TensorBoardPlugin",
    "__version__",
    "flush",
    "plugin",
]

#: The name the logger is registered under on a plugin manager.
LOGGER_NAME = "ganloss-tensorboard:logger"

#: The settings of ``[plugins.ganloss-tensorboard]``, with their defaults
#: (``log_dir`` has none: without it, nothing is logged).
SETTINGS: dict[str, Any] = {"log_dir": None, "interval": 100, "flush_secs": 120}


class TensorBoardLogger:
    """Writes the log values of every ``interval``-th aggregation of each phase.

    Args:
        log_dir: the directory of the event files (made when the first value
            is written), relative to the working directory.
        interval: write the aggregations whose step is a multiple of it.
            The step is ``outputs["iteration"]`` when it is a Python ``int``,
            else this logger's own count of that phase's aggregations.
        flush_secs: how often the writer flushes to disk, in seconds
            (:meth:`flush` and the end of the process flush too).
    """

    def __init__(self, log_dir: str, interval: int = 100, flush_secs: int = 120) -> None:
        self.log_dir = log_dir
        self.interval = interval
        self.flush_secs = flush_secs
        self._writer: Any = None
        self._counts: dict[str, int] = {}

    @hookimpl
    def ganloss_after_aggregate(self, result: Any, aggregator: Any) -> None:
        step = result.step
        if not isinstance(step, int) or isinstance(step, bool):  # None, or a tensor: count
            step = self._counts.get(aggregator.name, 0)
            self._counts[aggregator.name] = step + 1
        if step % self.interval:
            return  # not read: no host synchronisation on this step
        values = result.log_vars  # every rank reads (the mean over ranks is a collective)
        if _rank() != 0:
            return
        writer = self.writer()
        for name, value in values.items():
            writer.add_scalar(f"{aggregator.name}/{name}", value, step)

    def writer(self) -> Any:
        """The ``SummaryWriter``, made on first use (it creates ``log_dir``)."""
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=self.log_dir, flush_secs=self.flush_secs)
            atexit.register(self.close)
        return self._writer

    def flush(self) -> None:
        """Write what is pending to the event file now."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file; a later value opens a new one."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            atexit.unregister(self.close)


class TensorBoardPlugin:
    """The entry point: takes the settings and registers a logger when there is a ``log_dir``."""

    @hookimpl
    def ganloss_configure(
        self, settings: Mapping[str, Any], check_only: bool, plugin_manager: Any
    ) -> None:
        checked = check_settings(settings)
        if check_only:
            return
        old = plugin_manager.get_plugin(LOGGER_NAME)
        if old is not None:
            old.close()
            plugin_manager.unregister(name=LOGGER_NAME)
        if checked["log_dir"] is not None:
            plugin_manager.register(TensorBoardLogger(**checked), name=LOGGER_NAME)


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with their defaults, or a ``ConfigError`` at the first wrong key.

    No settings at all (the config has no table, or an empty one) means: log
    nothing, ``log_dir`` stays ``None``. Any other table needs ``log_dir``.
    """
    for key in settings:
        if key not in SETTINGS:
            raise ConfigError(
                f"ganloss-tensorboard has no setting {brief(key)}."
                f"{did_you_mean(key, SETTINGS) if isinstance(key, str) else ''} "
                f"Its settings are: {', '.join(SETTINGS)}",
                where=str(key),
            )
    checked = {**SETTINGS, **settings}
    if not settings:  # no table (or an empty one): log nothing
        return checked
    log_dir = checked["log_dir"]
    if "log_dir" not in settings:
        raise ConfigError(
            "ganloss-tensorboard needs log_dir, the directory of its event files "
            "(e.g. log_dir = 'runs/gan'); without a table, it logs nothing",
            where="log_dir",
        )
    if not isinstance(log_dir, str) or not log_dir.strip():
        raise ConfigError(
            f"log_dir is a directory path (a non-empty string), got {brief(log_dir)}",
            where="log_dir",
        )
    checked["log_dir"] = os.path.expanduser(log_dir)
    checked["interval"] = check_int(checked["interval"], where="interval")
    checked["flush_secs"] = check_int(checked["flush_secs"], where="flush_secs")
    return checked


def flush(plugin_manager: Any = None) -> None:
    """Flush the logger of ``plugin_manager`` (the process-wide one by default), if any."""
    if plugin_manager is None:
        from ganlosscore import get_plugin_manager

        plugin_manager = get_plugin_manager()
    logger = plugin_manager.get_plugin(LOGGER_NAME)
    if logger is not None:
        logger.flush()


def _rank() -> int:
    """This process's rank under ``torch.distributed`` (only rank 0 writes), else 0."""
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


#: The object the entry point names; register it on a manager of your own to use it there.
plugin = TensorBoardPlugin()

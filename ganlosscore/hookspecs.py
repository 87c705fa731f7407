"""The hooks around loss aggregation, one documented function each.

Every step :class:`~ganlosscore.LossAggregator` takes is one of these hooks,
and the core's own behaviour is a built-in plugin (``ganlosscore.defaults``)
registered like any third party's. A plugin implements a hook by defining a
function of the same name decorated with :data:`hookimpl`; it may take any
subset of the arguments, by name. ``firstresult`` hooks stop at the first
implementation that returns something other than ``None``; pluggy calls the
most recently registered implementation first, so a third-party
implementation runs before the default and can take over by returning a value
(or wrap it with ``hookimpl(wrapper=True)``).

This module imports neither torch nor any plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    import torch

    from .aggregation import LossAggregator, LossResult
    from .protocol import LossModule

PROJECT = "ganlosscore"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "PROJECT",
    "ganloss_after_aggregate",
    "ganloss_compute_loss",
    "ganloss_configure",
    "ganloss_merge_loss",
    "ganloss_parse_losses",
    "ganloss_reduce_log_vars",
    "ganloss_register_commands",
    "hookimpl",
    "hookspec",
]


@hookspec(firstresult=True)
def ganloss_compute_loss(
    loss: LossModule, outputs: Mapping[str, Any], aggregator: LossAggregator
) -> torch.Tensor | None:
    """Compute one loss of an aggregator from the outputs dict.

    :param loss: the loss module about to run.
    :param outputs: the model's outputs dict for this phase.
    :param aggregator: the aggregator running the phase.
    :returns: the weighted loss value, or ``None``: "not mine", pass on.

    When the hook's *result* is ``None`` the aggregator skips the loss this
    step: no term, nothing logged. That happens when the default returns
    ``None``, as ``loss(outputs)`` does for a lazy regularizer off its
    ``interval``. An ordinary implementation cannot skip a loss by returning
    ``None``: under ``firstresult`` pluggy calls the next implementation, and
    in the end the default computes the loss. To skip one, or to change the
    value, wrap the hook (``hookimpl(wrapper=True)``): the wrapper gets the
    value from its ``yield`` (the loss has been computed by then) and what it
    returns, ``None`` included, is the result.

    Default: ``loss(outputs)``.
    """


@hookspec(firstresult=True)
def ganloss_merge_loss(name: str, current: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """Merge two values that share a ``loss_name``.

    :param name: the shared ``loss_name()``.
    :param current: the value collected so far under that name.
    :param new: the value of the loss just computed.
    :returns: the merged value.

    Default: ``current + new``.
    """


@hookspec(firstresult=True)
def ganloss_parse_losses(
    losses: dict[str, torch.Tensor], aggregator: LossAggregator
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Turn the collected losses into the total and the values to log.

    :param losses: ``loss_name() -> value``, after merging.
    :param aggregator: the aggregator running the phase.
    :returns: ``(total, log_vars)`` where ``log_vars`` maps names to detached
        scalar tensors (not yet reduced across ranks) and includes ``loss``.

    Default: the total is the sum of every term whose name contains ``loss``
    (as MMGeneration's ``_parse_losses``); each term is logged by its mean.
    """


@hookspec(firstresult=True)
def ganloss_reduce_log_vars(
    log_vars: dict[str, torch.Tensor], aggregator: LossAggregator, step: int | None
) -> dict[str, float]:
    """Turn the values to log into Python floats, averaged over ranks.

    :param log_vars: name -> detached scalar tensor, from ``ganloss_parse_losses``.
    :param aggregator: the aggregator that produced them.
    :param step: the step they belong to: the outputs' ``iteration``, or under
        ``torch.distributed`` without one the aggregator's count of
        aggregations; ``None`` when neither is known.
    :returns: name -> float.

    Runs when the log values are first read (``result.log_vars``, or
    unpacking ``total, log_vars = result``), not at every aggregation: under
    ``nonfinite="raise"`` or ``"warn"`` that is inside the aggregation, which
    reads them to check them; under ``"defer"`` and ``"ignore"`` a step whose
    log values nobody reads never calls it. Under ``torch.distributed`` every
    rank must therefore read the log values of the same steps.

    Default: one host transfer of all values. Under ``torch.distributed``,
    first a fixed-size header collective (number of values, ``max_log_vars``,
    fingerprints of the keys, ``step``) and then one collective of the values
    (mean over ranks); ranks that disagree on any of those facts raise
    ``DistributedMismatchError`` together.
    """


@hookspec
def ganloss_after_aggregate(
    result: LossResult, outputs: Mapping[str, Any], aggregator: LossAggregator
) -> None:
    """Observe a finished aggregation (logging, guards); every implementation runs.

    :param result: the :class:`~ganlosscore.LossResult` about to be returned;
        reading its ``log_vars`` here costs a host synchronisation (and the
        collectives of ``ganloss_reduce_log_vars``) on a step that would
        otherwise make none.
    :param outputs: the outputs dict of the phase.
    :param aggregator: the aggregator that produced it.

    Default: none.
    """


@hookspec
def ganloss_register_commands(cli: argparse._SubParsersAction[Any]) -> None:
    """Add sub-commands to the ``ganloss`` command.

    :param cli: the sub-parser collection of ``ganloss``; call
        ``cli.add_parser(name, help=...)`` and set ``func`` with
        ``parser.set_defaults(func=...)``; ``func`` receives the parsed
        ``argparse.Namespace`` and returns the exit status.

    Default: the core commands (``list``, ``info``, ``plugins``, ``check``,
    ``new-plugin``).
    """


@hookspec
def ganloss_configure(
    settings: Mapping[str, Any], check_only: bool, plugin_manager: pluggy.PluginManager
) -> None:
    """Take this plugin's settings from a config file's ``plugins`` table.

    :param settings: this plugin's own table of the config, keyed by its
        distribution name (``[plugins.ganloss-tensorboard]`` in TOML, a
        ``plugins:`` mapping in YAML or JSON, ``plugins = dict(...)`` in a
        ``.py`` config); a plugin registered in code is keyed by the name it
        was registered under. An empty mapping when the config has no table
        for it: the plugin goes back to its defaults.
    :param check_only: ``True`` under ``ganloss check``: validate the
        settings and raise, but change nothing (open no file, register
        nothing).
    :param plugin_manager: the manager being configured; a plugin may
        register (or unregister) helpers on it, so that it costs nothing on
        a training step until it is configured.

    Called by :func:`ganlosscore.config.configure_plugins`, which a program
    calls itself, once per config file it reads (``build_aggregator`` sees
    only lists of losses, so it never configures plugins). The core calls
    each implementation on its own with its own table. A key the plugin does
    not know, or a value it cannot use, is a
    :class:`~ganlosscore.ConfigError` whose ``where`` is the key
    (``interval``); the core puts ``plugins.<distribution>.`` in front and
    reports the problems of every plugin together. Check every key before
    changing anything, so that a refused table leaves the plugin as it was.

    Default: none (a plugin without settings does not implement it, and a
    table for it in a config is an error).
    """

"""Provenance: which distributions shaped an aggregator's result.

An aggregator's total depends on the loss classes it holds and on the hook
plugins of its plugin manager. :func:`provenance` names each with its
distribution and version, as a small record that turns into JSON (a
benchmark or a checkpoint can keep it next to its numbers). It is computed on
demand from package metadata and the manager's public API, never on a
training step.

A class or plugin that no installed distribution provides (a class registered
with ``register_loss``, a plugin registered in code) has the distribution
``"<local>"``, as in ``ganloss list``.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

import attrs
import importlib_metadata

from ._version import __version__
from .hooks import AGGREGATION_HOOKS
from .registry import HOOK_GROUP, LOCAL, LOSS_GROUP, distribution_of, plugin_entries

if TYPE_CHECKING:
    import pluggy

    from .aggregation import LossAggregator

__all__ = ["HookOrigin", "LossOrigin", "Provenance", "loss_origin", "provenance"]


@attrs.frozen
class LossOrigin:
    """One loss of an aggregator: its ``loss_name()``, class and distribution."""

    loss_name: str
    type: str  #: ``module:QualifiedName`` of the class
    distribution: str  #: ``"<local>"`` when no installed distribution provides it
    version: str | None


@attrs.frozen
class HookOrigin:
    """One hook plugin on an aggregator's manager: its name there, distribution and hooks."""

    plugin: str  #: its name on the plugin manager (``dist:entry`` for an installed one)
    distribution: str
    version: str | None
    hooks: tuple[str, ...]  #: the aggregation hooks it implements


@attrs.frozen
class Provenance:
    """What shaped an aggregator's result; :meth:`as_dict` gives plain JSON data."""

    aggregator: str
    ganlosscore: str  #: the core's version
    losses: tuple[LossOrigin, ...]
    hook_plugins: tuple[HookOrigin, ...]

    def as_dict(self) -> dict[str, Any]:
        """Lists, strings and ``None`` only: ``json.dumps(p.as_dict())`` works."""
        return {
            "aggregator": self.aggregator,
            "ganlosscore": self.ganlosscore,
            "losses": [attrs.asdict(origin) for origin in self.losses],
            "hook_plugins": [
                {**attrs.asdict(origin), "hooks": list(origin.hooks)}
                for origin in self.hook_plugins
            ],
        }


def provenance(aggregator: LossAggregator) -> Provenance:
    """The :class:`Provenance` of ``aggregator`` (see :meth:`LossAggregator.provenance`)."""
    losses = []
    for loss in aggregator._held():
        cls = type(loss)
        target = f"{cls.__module__}:{cls.__qualname__}"
        losses.append(LossOrigin(loss.loss_name(), target, *loss_origin(cls)))
    return Provenance(
        aggregator.name, __version__, tuple(losses), hook_origins(aggregator.plugin_manager)
    )


def loss_origin(cls: type) -> tuple[str, str | None]:
    """``(distribution, version)`` of a loss class; ``("<local>", None)`` if none provides it.

    A class loaded through the registry knows its distribution; a class
    imported directly is matched to the entry point that names it, or to the
    distribution whose entry points live in the same top-level package; else
    the installed distribution that holds its top-level module.
    """
    distribution = distribution_of(cls)
    entries = plugin_entries(LOSS_GROUP)
    if distribution is None:
        target = f"{cls.__module__}:{cls.__qualname__}"
        distribution = next((e.distribution for e in entries if e.target == target), None)
    if distribution is not None:
        version = next((e.version for e in entries if e.distribution == distribution), None)
        return distribution, version
    return _module_origin(cls.__module__, LOSS_GROUP)


def hook_origins(pm: pluggy.PluginManager) -> tuple[HookOrigin, ...]:
    """The plugins of ``pm`` that implement an aggregation hook, the core's defaults left out."""
    from . import defaults

    entries = {f"{e.distribution}:{e.name}": e for e in plugin_entries(HOOK_GROUP)}
    origins = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or plugin is defaults:  # None: a blocked name
            continue
        callers = pm.get_hookcallers(plugin) or []
        hooks = tuple(sorted(c.name for c in callers if c.name in AGGREGATION_HOOKS))
        if not hooks:  # commands only, say: it does not touch a result
            continue
        entry = entries.get(name)
        if entry is not None:
            distribution, version = entry.distribution, entry.version
        else:
            module = (
                plugin.__name__ if isinstance(plugin, types.ModuleType) else type(plugin).__module__
            )
            distribution, version = _module_origin(module, HOOK_GROUP)
        origins.append(HookOrigin(name, distribution, version, hooks))
    return tuple(origins)


def _module_origin(module: str, group: str) -> tuple[str, str | None]:
    """The distribution of a module: by its plugin entry points, else by installed files."""
    top = module.partition(".")[0]
    for entry in plugin_entries(group):
        if entry.target.partition(".")[0].partition(":")[0] == top:
            return entry.distribution, entry.version
    if top in sys.stdlib_module_names or top == "__main__":
        return LOCAL, None
    for name in importlib_metadata.packages_distributions().get(top, []):
        try:
            return name, importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return LOCAL, None

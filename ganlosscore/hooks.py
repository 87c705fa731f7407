"""The plugin manager: the core's defaults plus every installed hook plugin.

Hook plugins are found through entry-point group ``ganlosscore.hooks`` (one
per distribution that implements hooks) and loaded on first use, under the same
selection and isolation rules as losses: a plugin that fails to import, or
whose hook implementations do not match the specs, is left out and recorded,
and the rest works. ``GANLOSS_STRICT_PLUGINS=1`` raises instead.
"""

from __future__ import annotations

import os
import threading
import types
from collections.abc import Callable
from typing import Any

import pluggy

from . import hookspecs
from ._version import SUPPORTED_PROTOCOLS
from .errors import IncompatiblePluginError, PluginLoadError
from .registry import HOOK_GROUP, describe_failure, incompatible_reason, plugin_entries

__all__ = [
    "AGGREGATION_HOOKS",
    "bypassable_hooks",
    "get_plugin_manager",
    "hook_plugin_failures",
    "load_failures",
    "new_plugin_manager",
    "reset_plugin_manager",
]

_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None
_failures: dict[str, str] = {}


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager of project ``ganlosscore``.

    It holds the hookspecs of :mod:`ganlosscore.hookspecs`, the core's
    built-in plugins (registered ``trylast``, so any third-party
    implementation of a ``firstresult`` hook runs first) and the installed hook
    plugins. Register your own with ``get_plugin_manager().register(obj)``.
    """
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = new_plugin_manager()
    return _manager


def reset_plugin_manager() -> None:
    """Drop the manager; the next :func:`get_plugin_manager` builds a fresh one."""
    global _manager
    with _lock:
        _manager = None
        _failures.clear()


def hook_plugin_failures() -> dict[str, str]:
    """``dist:entry`` -> why that hook plugin was left out, for this process."""
    return dict(_failures)


def new_plugin_manager(
    *, installed: bool = True, with_defaults: bool = True
) -> pluggy.PluginManager:
    """A new plugin manager of project ``ganlosscore``, as the process-wide one is built.

    It holds the hookspecs, the core's built-in plugins and, with
    ``installed=True``, every installed hook plugin (failures are recorded in
    :func:`hook_plugin_failures`). Give it to
    ``LossAggregator(losses, plugin_manager=pm)`` to keep a hook plugin away
    from the process-wide manager. With ``installed=False`` it holds only the
    core's defaults: a clean slate for tests. With ``with_defaults=False`` it
    leaves out the core's aggregation defaults (and torch, which they import):
    the ``ganloss`` command's manager, which only collects commands.
    """
    pm = _PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if with_defaults:
        from . import defaults

        pm.register(defaults, name="ganlosscore.defaults")
    if installed:
        _register_installed(pm)
    pm.check_pending()
    return pm


def _register_installed(pm: _PluginManager) -> None:
    strict = os.environ.get("GANLOSS_STRICT_PLUGINS", "") not in ("", "0")
    for entry in plugin_entries(HOOK_GROUP):
        if entry.disabled_reason is not None:
            continue
        name = f"{entry.distribution}:{entry.name}"
        try:
            if entry.protocol not in SUPPORTED_PROTOCOLS:  # never imported: its hooks may differ
                raise IncompatiblePluginError(incompatible_reason(entry))
            plugin = entry.entry_point.load()
            pm.register(plugin, name=name)
            try:
                pm.check_pending()
            except Exception:
                pm.unregister(name=name)
                raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() or any BaseException on import: broken too
            reason = describe_failure(exc)
            _failures[name] = pm.load_failures[name] = reason
            if strict:
                raise PluginLoadError(
                    f"hook plugin {entry.target} could not be loaded ({reason})", where=name
                ) from exc


class _PluginManager(pluggy.PluginManager):
    """A pluggy manager that knows when its hook implementations or monitors change.

    Every way pluggy's public API adds or removes implementations goes through
    ``register``, ``unregister`` or ``add_hookspecs`` (``set_blocked`` and
    ``load_setuptools_entrypoints`` call the first two), and every way it
    monitors calls through ``add_hookcall_monitoring`` (``enable_tracing``
    calls it). Overriding those public methods lets :func:`bypassable_hooks`
    keep its answer until something changes instead of asking pluggy on every
    training step. ``load_failures`` maps ``dist:entry`` to why that installed
    hook plugin was left out of this manager.
    """

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.load_failures: dict[str, str] = {}
        self._ganloss_generation = 0
        self._ganloss_monitors = 0
        self._ganloss_bypass: tuple[int, frozenset[str]] = (-1, frozenset())

    def register(self, plugin: object, name: str | None = None) -> str | None:
        try:
            return super().register(plugin, name)
        finally:
            self._ganloss_generation += 1

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        try:
            return super().unregister(plugin, name)
        finally:
            self._ganloss_generation += 1

    def add_hookspecs(self, module_or_class: types.ModuleType | type) -> None:
        try:
            super().add_hookspecs(module_or_class)
        finally:
            self._ganloss_generation += 1

    def add_hookcall_monitoring(
        self, before: Callable[..., None], after: Callable[..., None]
    ) -> Callable[[], None]:
        undo = super().add_hookcall_monitoring(before, after)
        self._ganloss_monitors += 1
        self._ganloss_generation += 1
        undone = False

        def undo_and_count() -> None:
            nonlocal undone
            undo()
            if not undone:
                undone = True
                self._ganloss_monitors -= 1
                self._ganloss_generation += 1

        return undo_and_count


def bypassable_hooks(pm: pluggy.PluginManager) -> frozenset[str]:
    """The hooks a caller may skip pluggy for, as calling them changes nothing.

    A ``firstresult`` hook whose only implementation is the core default may
    be served by calling that default directly, and a hook with no
    implementation at all may be skipped. The aggregator asks this on every
    call: it saves about two microseconds per hook call on the training hot
    path. Only a manager made by :func:`new_plugin_manager` (the process-wide
    one included) is bypassed: it knows, through pluggy's public methods it
    overrides, when a plugin is registered or unregistered and when hook calls
    are monitored or traced (then nothing is bypassed, so a monitor sees every
    call). For any other pluggy manager every hook goes through pluggy.
    """
    if not isinstance(pm, _PluginManager) or pm._ganloss_monitors:
        return frozenset()
    if pm._ganloss_bypass[0] == pm._ganloss_generation:
        return pm._ganloss_bypass[1]
    from . import defaults

    bypass = set()
    for name in AGGREGATION_HOOKS:
        impls = getattr(pm.hook, name).get_hookimpls()
        if not impls or (len(impls) == 1 and impls[0].plugin is defaults):
            bypass.add(name)
    answer = frozenset(bypass)
    pm._ganloss_bypass = (pm._ganloss_generation, answer)
    return answer


def load_failures(pm: pluggy.PluginManager) -> dict[str, str]:
    """``dist:entry`` -> why that installed hook plugin is missing from ``pm`` (empty if none)."""
    return pm.load_failures if isinstance(pm, _PluginManager) else {}


#: The hooks whose implementations change or observe an aggregation.
AGGREGATION_HOOKS = (
    "ganloss_compute_loss",
    "ganloss_merge_loss",
    "ganloss_parse_losses",
    "ganloss_reduce_log_vars",
    "ganloss_after_aggregate",
)

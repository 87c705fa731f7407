"""Where losses come from: installed entry points and local registrations.

The index of entry points (group ``ganlosscore.losses``) is read from package
metadata once per process; nothing is imported until a loss of that name is
built, so listing what is installed never imports torch or a plugin.

Rules, in the order they apply:

* selection by distribution name, before anything is imported:
  ``GANLOSS_PLUGINS=a,b`` is an allow list (set but empty: no plugins),
  ``GANLOSS_DISABLE_PLUGINS=a,b`` a deny list;
* a distribution found twice on ``sys.path`` counts once (the first wins, as
  Python's import would);
* two distributions offering one name make the bare name a
  :class:`LossConflictError`; ``"dist-name:LossName"`` always selects one;
* a plugin that fails to load is isolated: its record says ``broken`` with the
  reason and building it raises :class:`PluginLoadError` chained to the
  cause; ``GANLOSS_STRICT_PLUGINS=1`` loads every plugin at once and raises on
  the first failure;
* a plugin built for a loss protocol this core does not implement is
  ``incompatible`` and refuses to build;
* a distribution whose metadata cannot be read (no ``Name:``, a METADATA
  that is not UTF-8, an ``entry_points.txt`` line without ``=``) is skipped
  with a :class:`~ganlosscore.errors.BrokenDistributionWarning`, and listed by
  :func:`unreadable_distributions`, when it may offer plugins; everything
  else works.

This module does not import torch.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs
import importlib_metadata

from ._version import PROTOCOL_VERSION, SUPPORTED_PROTOCOLS
from .errors import (
    BrokenDistributionWarning,
    ConfigError,
    IncompatiblePluginError,
    LossConflictError,
    NotALossError,
    PluginLoadError,
    PluginSelectionWarning,
    UnknownLossError,
    brief,
    describe_exception,
    did_you_mean,
)

if TYPE_CHECKING:
    from .protocol import LossModule

__all__ = [
    "HOOK_GROUP",
    "LOSS_GROUP",
    "PROTOCOL_GROUP",
    "EntryRecord",
    "LossRecord",
    "UnreadableDistribution",
    "available_losses",
    "distribution_of",
    "get_loss_class",
    "normalize_dist_name",
    "plugin_entries",
    "refresh",
    "register_loss",
    "unreadable_distributions",
    "unregister_loss",
]

LOSS_GROUP = "ganlosscore.losses"
HOOK_GROUP = "ganlosscore.hooks"
PROTOCOL_GROUP = "ganlosscore.protocol"
LOCAL = "<local>"

Status = Literal["ok", "conflict", "broken", "disabled", "incompatible", "local"]

L = TypeVar("L", bound="type[LossModule]")


def normalize_dist_name(name: str) -> str:
    """PEP 503 normalisation: ``Ganloss_Foo.bar`` -> ``ganloss-foo-bar``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@attrs.frozen
class LossRecord:
    """What is known about one loss without importing it.

    ``status`` is ``ok``, ``local`` (registered in code), ``conflict`` (another
    distribution offers the same name: use ``qualified_name``), ``broken``
    (failed to load in this process; ``reason`` says why), ``disabled`` (by a
    selection variable) or ``incompatible`` (built for another protocol).
    """

    name: str
    target: str
    distribution: str
    version: str | None
    status: Status
    reason: str | None = None
    protocol: int = PROTOCOL_VERSION

    @property
    def qualified_name(self) -> str:
        """``dist-name:LossName``, which selects this record even under a conflict."""
        return f"{self.distribution}:{self.name}"


@attrs.frozen
class EntryRecord:
    """An entry point of a selected or deselected distribution, not yet loaded."""

    name: str
    group: str
    target: str
    distribution: str
    version: str | None
    protocol: int
    entry_point: importlib_metadata.EntryPoint = attrs.field(eq=False, repr=False)
    disabled_reason: str | None = None


@attrs.frozen
class UnreadableDistribution:
    """A distribution whose metadata cannot be read, and which may offer plugins: skipped.

    ``name`` is None when the metadata gives none; ``location`` is the
    ``sys.path`` entry it was found in.
    """

    name: str | None
    location: str
    reason: str

    @property
    def label(self) -> str:
        """The distribution's name, or where to look for a nameless one."""
        return self.name or f"(a distribution without a name in {self.location})"


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, list[EntryRecord]] | None = None  # group -> entries
        self._unreadable: list[UnreadableDistribution] = []
        self._pending: dict[str, list[EntryRecord]] | None = None  # being strictly loaded
        self._local: dict[str, type[LossModule]] = {}
        self._loaded: dict[str, type[LossModule]] = {}  # qualified name -> class
        self._broken: dict[str, str] = {}  # qualified name -> reason

    # -- the metadata index ----------------------------------------------------

    def entries(self, group: str) -> list[EntryRecord]:
        if self._entries is None:
            with self._lock:
                if self._pending is not None:
                    # Only this thread can be here (the lock is held): a plugin
                    # module that looks up losses while strict mode imports it.
                    return self._pending.get(group, [])
                if self._entries is None:
                    entries, self._unreadable = _scan_metadata()
                    if os.environ.get("GANLOSS_STRICT_PLUGINS", "") not in ("", "0"):
                        # Raises on the first failure, leaving the index unset,
                        # so every later lookup raises again (never a partial index).
                        self._pending = entries
                        try:
                            self._load_all_strictly(entries)
                        finally:
                            self._pending = None
                    self._entries = entries
        return self._entries.get(group, [])

    def unreadable(self) -> list[UnreadableDistribution]:
        self.entries(LOSS_GROUP)
        return list(self._unreadable)

    def distribution_of(self, cls: type) -> str | None:
        for qualified, loaded in list(self._loaded.items()):
            if loaded is cls:
                return qualified.partition(":")[0]
        return None

    def refresh(self) -> None:
        with self._lock:
            self._entries = None
            self._unreadable = []
            self._loaded.clear()
            self._broken.clear()

    def _load_all_strictly(self, entries: dict[str, list[EntryRecord]]) -> None:
        for entry in entries.get(LOSS_GROUP, []):
            if entry.disabled_reason is None:
                self._load(entry)

    # -- records ---------------------------------------------------------------

    def records(self, include_disabled: bool) -> list[LossRecord]:
        entries = self.entries(LOSS_GROUP)
        counts = Counter(e.name for e in entries if e.disabled_reason is None)
        out: list[LossRecord] = []
        for entry in entries:
            qualified = f"{entry.distribution}:{entry.name}"
            status, reason = entry_status(entry)
            if status == "disabled" and not include_disabled:
                continue
            if status == "ok" and qualified in self._broken:
                status, reason = "broken", self._broken[qualified]
            elif status == "ok" and counts[entry.name] > 1:
                others = [
                    e.distribution
                    for e in entries
                    if e.name == entry.name and e is not entry and e.disabled_reason is None
                ]
                status = "conflict"
                reason = f"also offered by {', '.join(others)}; select one as {qualified!r}"
            found = (entry.name, entry.target, entry.distribution, entry.version)
            out.append(LossRecord(*found, status, reason, entry.protocol))
        for name, cls in self._local.items():
            out.append(
                LossRecord(name, f"{cls.__module__}:{cls.__qualname__}", LOCAL, None, "local")
            )
        return sorted(out, key=lambda r: (r.name.lower(), r.distribution))

    # -- resolution ------------------------------------------------------------

    def get(self, type_name: str) -> type[LossModule]:
        local = self._local.get(type_name)
        if local is not None:
            return local
        entries = self.entries(LOSS_GROUP)
        if ":" in type_name:
            dist, _, name = type_name.partition(":")
            wanted = normalize_dist_name(dist)
            matches = [e for e in entries if e.name == name and e.distribution == wanted]
        else:
            name = type_name
            matches = [e for e in entries if e.name == name]
        enabled = [e for e in matches if e.disabled_reason is None]
        if not enabled:
            raise self._unknown(type_name, name, matches)
        if len(enabled) > 1:
            offers = ", ".join(f"{e.distribution} {e.version or ''}".strip() for e in enabled)
            choices = " or ".join(repr(f"{e.distribution}:{e.name}") for e in enabled)
            raise LossConflictError(
                f"loss type {brief(name)} is offered by more than one installed distribution "
                f"({offers}); name one explicitly: type={choices}"
            )
        return self._load(enabled[0])

    def _unknown(self, type_name: str, name: str, matches: list[EntryRecord]) -> UnknownLossError:
        if matches:  # offered, but every offer is deselected
            reasons = "; ".join(f"{e.distribution}: {e.disabled_reason}" for e in matches)
            return UnknownLossError(
                f"loss type {brief(type_name)} is installed but not selected ({reasons}); "
                "change GANLOSS_PLUGINS / GANLOSS_DISABLE_PLUGINS to use it"
            )
        known = sorted(
            {e.name for e in self.entries(LOSS_GROUP) if e.disabled_reason is None}
            | set(self._local)
        )
        listing = ", ".join(known) if known else "none (no loss package is installed)"
        return UnknownLossError(
            f"unknown loss type {brief(type_name)}.{did_you_mean(name, known)} Available: "
            f"{listing}. Install the package that offers it, or register a local class with "
            "register_loss."
        )

    def _load(self, entry: EntryRecord) -> type[LossModule]:
        qualified = f"{entry.distribution}:{entry.name}"
        cls = self._loaded.get(qualified)
        if cls is not None:
            return cls
        if entry.protocol not in SUPPORTED_PROTOCOLS:
            raise IncompatiblePluginError(
                f"cannot build loss {entry.name!r}: {incompatible_reason(entry)}"
            )
        from .protocol import LossModule

        try:
            obj = entry.entry_point.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() or any BaseException on import: broken too
            reason = f"importing {entry.target} failed: {describe_failure(exc)}"
            self._broken[qualified] = reason
            raise PluginLoadError(
                f"cannot build loss {entry.name!r} of {entry.distribution}: {reason}. The "
                f"rest of the installed losses still work; fix or uninstall "
                f"{entry.distribution}, or deselect it with "
                f"GANLOSS_DISABLE_PLUGINS={entry.distribution}"
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, LossModule)):
            reason = f"{entry.target} is {brief(obj)}, not a subclass of ganlosscore.LossModule"
            self._broken[qualified] = reason
            raise PluginLoadError(
                f"cannot build loss {entry.name!r} of {entry.distribution}: {reason}; "
                "the entry point must name a loss class"
            )
        self._loaded[qualified] = obj
        return obj

    # -- local registrations ---------------------------------------------------

    def register(self, cls: type[LossModule], name: str) -> None:
        with self._lock:
            existing = self._local.get(name)
            if existing is cls:
                return
            if existing is not None:
                raise LossConflictError(
                    f"a local loss named {brief(name)} is already registered "
                    f"({existing.__module__}.{existing.__qualname__}); register this one "
                    "under another name with register_loss(cls, name=...)"
                )
            offered = [e for e in self.entries(LOSS_GROUP) if e.name == name]
            if offered:
                raise LossConflictError(
                    f"loss type {brief(name)} is already offered by the installed distribution "
                    f"{offered[0].distribution}; register the local class under another name "
                    "with register_loss(cls, name=...)"
                )
            self._local[name] = cls

    def unregister(self, name: str) -> None:
        with self._lock:
            self._local.pop(name, None)


def describe_failure(exc: BaseException) -> str:
    """``Type: message`` (the message bounded in size), or what a bare ``sys.exit()`` means."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: the module called sys.exit({brief(exc.code)}) on import"
    return describe_exception(exc)


def entry_status(entry: EntryRecord) -> tuple[Status, str | None]:
    """``disabled``, ``incompatible`` or ``ok``, and why: what an entry is before it is loaded.

    Deselected wins over incompatible: a deselected distribution is never
    used, whatever protocol it declares. An incompatible one is neither
    imported nor used, its losses refuse to build.
    """
    if entry.disabled_reason is not None:
        return "disabled", entry.disabled_reason
    if entry.protocol not in SUPPORTED_PROTOCOLS:
        return "incompatible", incompatible_reason(entry)
    return "ok", None


def incompatible_reason(entry: EntryRecord) -> str:
    supported = ", ".join(str(p) for p in sorted(SUPPORTED_PROTOCOLS))
    return (
        f"{entry.distribution} {entry.version} was built for loss protocol {entry.protocol}, "
        f"but this ganlosscore implements protocol {supported}; install a version of "
        f"{entry.distribution} built for protocol {PROTOCOL_VERSION}, or a ganlosscore that "
        f"supports protocol {entry.protocol}"
    )


def _selection() -> Callable[[str], str | None]:
    """A function giving why a distribution is deselected, or None when it is selected."""
    allow_raw = os.environ.get("GANLOSS_PLUGINS")
    deny_raw = os.environ.get("GANLOSS_DISABLE_PLUGINS", "")
    allow = None if allow_raw is None else _split_names(allow_raw)
    deny = _split_names(deny_raw)

    def why_not(dist: str) -> str | None:
        if dist in deny:
            return "disabled by GANLOSS_DISABLE_PLUGINS"
        if allow is not None and dist not in allow:
            return "not in GANLOSS_PLUGINS"
        return None

    return why_not


def _caller_outside_package() -> int:
    """The ``stacklevel`` of the first frame outside ganlosscore, for warnings."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _split_names(raw: str) -> set[str]:
    return {normalize_dist_name(part.strip()) for part in raw.split(",") if part.strip()}


def _scan_metadata() -> tuple[dict[str, list[EntryRecord]], list[UnreadableDistribution]]:
    why_not = _selection()
    groups: dict[str, list[EntryRecord]] = {LOSS_GROUP: [], HOOK_GROUP: []}
    plugins: set[str] = set()
    seen: set[str] = set()
    unreadable: list[UnreadableDistribution] = []
    for dist in importlib_metadata.distributions():
        stage = "METADATA"
        try:
            name = dist.metadata["Name"]  # KeyError when METADATA has none
            if not name:
                raise KeyError("Name")
            dist_name = normalize_dist_name(name)
            if dist_name in seen:  # the same distribution again, later on sys.path
                continue
            stage = "entry_points.txt"
            eps = dist.entry_points  # a TypeError or ValueError for a line without '='
            version = dist.version
        except Exception as exc:  # one broken distribution never breaks the registry
            problem = _unreadable_distribution(dist, exc, stage)
            if problem is not None:
                unreadable.append(problem)
            continue
        seen.add(dist_name)
        ours = [ep for ep in eps if ep.group in groups]
        if not ours:
            continue
        plugins.add(dist_name)
        protocol = _declared_protocol(ep.name for ep in eps if ep.group == PROTOCOL_GROUP)
        reason = why_not(dist_name)
        for ep in ours:
            groups[ep.group].append(
                EntryRecord(ep.name, ep.group, ep.value, dist_name, version, protocol, ep, reason)
            )
    for problem in unreadable:
        warnings.warn(
            f"skipped the distribution {problem.label}: {problem.reason}. Its losses and "
            "hooks are unavailable; the rest works. Reinstall or remove it.",
            BrokenDistributionWarning,
            stacklevel=_caller_outside_package(),
        )
    _warn_about_unknown_selections(plugins)
    return groups, unreadable


def _unreadable_distribution(
    dist: Any, exc: Exception, stage: str
) -> UnreadableDistribution | None:
    """The record of a distribution whose metadata failed with ``exc``, if it may be a plugin.

    A broken distribution whose ``entry_points.txt`` names none of our groups is
    someone else's problem and is skipped without a word.
    """
    try:
        text = dist.read_text("entry_points.txt")
    except Exception:
        text = "[ganlosscore."  # unreadable itself: it may be ours
    if not text or "[ganlosscore." not in text:
        return None
    try:
        location = str(dist.locate_file(""))
    except Exception:
        location = "an unknown place"
    try:
        name: str | None = dist.metadata["Name"] or None
    except Exception:
        name = None
    if isinstance(exc, KeyError) and stage == "METADATA":
        reason = "its METADATA has no Name: field"
    elif isinstance(exc, UnicodeDecodeError):
        reason = f"its {stage} is not UTF-8 text ({describe_failure(exc)})"
    else:
        reason = f"its {stage} cannot be read ({describe_failure(exc)})"
    return UnreadableDistribution(name, location, reason)


def _warn_about_unknown_selections(plugins: set[str]) -> None:
    """Warn once per scan about selection names that match no plugin distribution.

    A typo in ``GANLOSS_DISABLE_PLUGINS`` would otherwise leave the plugin
    enabled without a word (and one in ``GANLOSS_PLUGINS`` leave it out).
    """
    for variable in ("GANLOSS_PLUGINS", "GANLOSS_DISABLE_PLUGINS"):
        for name in sorted(_split_names(os.environ.get(variable) or "") - plugins):
            installed = ", ".join(sorted(plugins)) or "none"
            warnings.warn(
                f"{variable} names {brief(name)}, which is not an installed distribution offering "
                f"losses or hooks, so it selects nothing.{did_you_mean(name, plugins)} Installed "
                f"plugin distributions: {installed}",
                PluginSelectionWarning,
                stacklevel=_caller_outside_package(),
            )


def _declared_protocol(names: Iterator[str]) -> int:
    """The protocol a distribution was built for, from its ``ganlosscore.protocol`` entry points.

    The entry point's *name* is the protocol version and its value the
    plugin's package (``1 = "ganloss_foo"``): setuptools only accepts object
    references as values. No declaration means the current protocol; of
    several, a supported one wins; an unreadable one is never supported.
    """
    declared = []
    for name in names:
        try:
            declared.append(int(name))
        except ValueError:
            declared.append(-1)
    if not declared:
        return PROTOCOL_VERSION
    supported = [p for p in declared if p in SUPPORTED_PROTOCOLS]
    return max(supported) if supported else max(declared)


_REGISTRY = _Registry()


def available_losses(*, include_disabled: bool = False) -> list[LossRecord]:
    """Every loss that can be named in a config, from metadata, importing nothing.

    Records are sorted by name. ``include_disabled`` adds the losses of
    distributions deselected by ``GANLOSS_PLUGINS`` / ``GANLOSS_DISABLE_PLUGINS``.
    """
    return _REGISTRY.records(include_disabled)


def unreadable_distributions() -> list[UnreadableDistribution]:
    """The distributions skipped because their metadata cannot be read (see the module doc)."""
    return _REGISTRY.unreadable()


def distribution_of(cls: type) -> str | None:
    """The distribution an installed loss class was loaded from, or None (a local class)."""
    return _REGISTRY.distribution_of(cls)


def get_loss_class(type_name: str) -> type[LossModule]:
    """The loss class a config ``type`` names, importing its module if needed."""
    return _REGISTRY.get(type_name)


def plugin_entries(group: str) -> list[EntryRecord]:
    """The index's entry points of one group, selected or not (for hooks and the CLI)."""
    return _REGISTRY.entries(group)


def refresh() -> None:
    """Forget the metadata index and loaded classes; the next lookup re-reads metadata.

    Needed only after installing or removing distributions in a running
    process (the testing kit's fixtures call it).
    """
    _REGISTRY.refresh()


@overload
def register_loss(cls: L, *, name: str | None = None) -> L: ...
@overload
def register_loss(cls: None = None, *, name: str | None = None) -> Callable[[L], L]: ...
def register_loss(cls: Any = None, *, name: str | None = None) -> Any:
    """Register a local loss class (research code that is not packaged).

    Use as a decorator (``@register_loss`` or ``@register_loss(name="X")``) or
    a call (``register_loss(MyLoss)``). The name defaults to the class name.
    A name already registered for another class, or offered by an installed
    distribution, raises :class:`LossConflictError`: nothing is silently replaced.
    """

    def decorate(klass: L) -> L:
        _REGISTRY.register(_check_loss_class(klass), _check_local_name(name, klass))
        return klass

    return decorate if cls is None else decorate(cls)


def _check_loss_class(cls: Any) -> Any:
    from .protocol import LossModule

    if not (isinstance(cls, type) and issubclass(cls, LossModule)):
        what = f"the class {cls.__qualname__}" if isinstance(cls, type) else repr(cls)
        hint = (
            f"; to choose the name, pass it as a keyword: @register_loss(name={brief(cls)})"
            if isinstance(cls, str)
            else "; a loss class derives from ganlosscore.LossModule and defines compute()"
        )
        raise NotALossError(f"register_loss expects a subclass of LossModule, got {what}{hint}")
    return cls


def _check_local_name(name: Any, cls: type) -> str:
    if name is None:
        return cls.__name__
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        problem = f"got {type(name).__name__} {brief(name)}"
    elif ":" in name:
        problem = (
            f"got {brief(name)}; ':' is reserved for the qualified form 'dist-name:LossName' "
            "of installed losses"
        )
    else:
        return name
    raise ConfigError(
        f"a loss is registered under a non-empty name without ':' or surrounding spaces "
        f"(the config 'type' it answers to), {problem}",
        where="register_loss.name",
    )


def unregister_loss(name: str) -> None:
    """Remove a local registration (a no-op if there is none)."""
    _REGISTRY.unregister(name)

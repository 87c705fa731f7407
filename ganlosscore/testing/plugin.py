"""pytest fixtures for loss and plugin authors (loaded through the ``pytest11`` entry point).

* ``ganloss_registry``: register local loss classes for one test;
* ``ganloss_hooks``: register hook implementations for one test;
* ``ganloss_distribution``: install real temporary distributions (with entry
  points and modules) for one test; the registry re-reads metadata;
* ``ganloss_cli``: run the ``ganloss`` command in-process and get its exit
  status and output (for plugins that add commands, too);
* ``ganloss_fake_world``: a stand-in ``torch.distributed`` group that records
  every ``all_reduce`` instead of sending it (see what a loss sends, without
  spawning ranks).

Everything is undone when the test ends. Installing a distribution starts a
fresh plugin manager, so install distributions before registering hooks with
``ganloss_hooks`` in the same test. Loading this plugin does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

T = TypeVar("T", bound=type)


class LocalLosses:
    """Registers loss classes with :func:`ganlosscore.register_loss` until teardown."""

    def __init__(self) -> None:
        self._names: list[str] = []

    def register(self, cls: T, name: str | None = None) -> T:
        """Register ``cls`` (under ``name``, default its class name); usable as a decorator."""
        from ..registry import available_losses, register_loss

        name = name or cls.__name__
        already = any(r.name == name and r.status == "local" for r in available_losses())
        register_loss(cls, name=name)  # type: ignore[arg-type]
        if not already:  # registered before this test: leave it registered after
            self._names.append(name)
        return cls

    def _undo(self) -> None:
        from ..registry import unregister_loss

        for name in self._names:
            unregister_loss(name)
        self._names.clear()


@pytest.fixture
def ganloss_registry() -> Iterator[LocalLosses]:
    """``ganloss_registry.register(MyLoss)``: a local loss for the duration of a test."""
    local = LocalLosses()
    try:
        yield local
    finally:
        local._undo()


@pytest.fixture
def ganloss_hooks() -> Iterator[Callable[[object], object]]:
    """``ganloss_hooks(plugin)``: register a hook plugin on the plugin manager for one test."""
    from ..hooks import get_plugin_manager

    added: list[tuple[Any, object]] = []

    def register(plugin: object) -> object:
        from ..errors import ConfigError

        pm = get_plugin_manager()
        if pm.is_registered(plugin):
            raise ConfigError(
                f"{plugin!r} is already registered on the plugin manager as "
                f"{pm.get_name(plugin)!r} (an installed hook plugin, or registered earlier), "
                "so its hooks already run; to test it alone, register it on "
                "ganlosscore.new_plugin_manager(installed=False) and pass that manager to "
                "build_aggregator(..., plugin_manager=pm)",
                where="ganloss_hooks",
            )
        try:
            pm.register(plugin)
        except ValueError as exc:  # pluggy: a name or object clash
            raise ConfigError(f"cannot register {plugin!r}: {exc}", where="ganloss_hooks") from exc
        added.append((pm, plugin))
        return plugin

    try:
        yield register
    finally:
        for pm, plugin in added:
            if pm.is_registered(plugin):
                pm.unregister(plugin)


@pytest.fixture
def ganloss_distribution(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``ganloss_distribution("my-dist", losses={...}, modules={...})``: a real distribution.

    Takes the keywords of :func:`ganlosscore.testing.install_distribution`;
    each call installs one distribution on its own ``sys.path`` entry and
    returns that directory. At teardown they leave ``sys.path``, their
    modules are forgotten and the registry re-reads metadata.
    """
    from .distributions import temporary_distribution

    with ExitStack() as stack:
        count = 0

        def install(name: str, **kwargs: Any) -> Path:
            nonlocal count
            count += 1
            root = tmp_path / f"ganloss-dist-{count}"
            return stack.enter_context(temporary_distribution(root, name, **kwargs))

        yield install


@attrs.frozen
class CliResult:
    """What one ``ganloss`` run gave: its exit status and what it wrote."""

    status: int
    out: str
    err: str


@pytest.fixture
def ganloss_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """``ganloss_cli("list", "--json")``: run ``ganloss`` in this process.

    Each run first re-reads the installed metadata, as a new process would, so
    selection variables set with ``monkeypatch.setenv`` apply. The plugin
    manager is kept, with whatever ``ganloss_hooks`` registered.
    """
    from ..cli import main
    from ..registry import refresh

    def run(*args: str) -> CliResult:
        capsys.readouterr()  # what the test printed before is not the command's
        refresh()
        status = main(list(args))
        out, err = capsys.readouterr()
        return CliResult(status, out, err)

    return run


@pytest.fixture
def ganloss_fake_world(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str, int]]:
    """A stand-in process group of two gloo ranks; the list of what each collective sent.

    ``torch.distributed`` reports itself initialised, with world size 2 and
    backend ``gloo``, and every ``all_reduce`` appends ``(dtype, device type,
    numel)`` of its tensor to the list instead of sending it. The tensor keeps
    its value, as if the other rank had sent zeros. For tests of what a loss
    sends (one float64 buffer of a fixed size, whatever its inputs'
    precision); :func:`ganlosscore.testing.run_ranks` runs real ranks.
    """
    import torch.distributed as dist

    sent: list[tuple[Any, str, int]] = []

    def record(tensor: Any, *args: Any, **kwargs: Any) -> None:
        sent.append((tensor.dtype, tensor.device.type, tensor.numel()))

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda *args, **kwargs: 2)
    monkeypatch.setattr(dist, "get_backend", lambda *args, **kwargs: "gloo")
    monkeypatch.setattr(dist, "all_reduce", record)
    return sent


def pytest_report_header(config: pytest.Config) -> str:
    """``ganlosscore 0.1.0 (loss protocol 1), plugins: ganloss-foo-1.0, ...`` (like -VV)."""
    import importlib_metadata

    from .._version import PROTOCOL_VERSION, __version__
    from ..registry import HOOK_GROUP, LOSS_GROUP, normalize_dist_name

    found: dict[str, str] = {}
    for dist in importlib_metadata.distributions():
        name = dist.metadata["Name"]
        if name and any(ep.group in (LOSS_GROUP, HOOK_GROUP) for ep in dist.entry_points):
            found.setdefault(normalize_dist_name(name), dist.version)
    plugins = ", ".join(f"{n}-{found[n]}" for n in sorted(found)) or "none"
    return f"ganlosscore {__version__} (loss protocol {PROTOCOL_VERSION}), plugins: {plugins}"

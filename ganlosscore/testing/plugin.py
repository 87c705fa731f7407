"""pytest fixtures for loss and plugin authors (loaded through the ``pytest11`` entry point).

* ``ganloss_registry``: register local loss classes for one test;
* ``ganloss_hooks``: register hook implementations for one test;
* ``ganloss_distribution``: install real temporary distributions (with entry
  points and modules) for one test; the registry re-reads metadata.

Everything is undone when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest


class LocalLosses:
    """Registers loss classes with :func:`ganlosscore.register_loss` until teardown."""

    def __init__(self) -> None:
        self._names: list[str] = []

    def register(self, cls: type, name: str | None = None) -> type:
        from ..registry import register_loss

        register_loss(cls, name=name)  # type: ignore[call-overload]
        self._names.append(name or cls.__name__)
        return cls

    def _undo(self) -> None:
        from ..registry import unregister_loss

        for name in self._names:
            unregister_loss(name)


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

    pm = get_plugin_manager()
    added: list[object] = []

    def register(plugin: object) -> object:
        pm.register(plugin)
        added.append(plugin)
        return plugin

    try:
        yield register
    finally:
        for plugin in added:
            if pm.is_registered(plugin):
                pm.unregister(plugin)


@pytest.fixture
def ganloss_distribution(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``ganloss_distribution("my-dist", losses={...}, modules={...})``: a real distribution.

    Takes the keywords of :func:`ganlosscore.testing.install_distribution`;
    each call installs one distribution on its own ``sys.path`` entry.
    """
    from .distributions import temporary_distribution

    with ExitStack() as stack:
        count = 0

        def install(name: str, **kwargs: Any) -> Path:
            nonlocal count
            count += 1
            root = tmp_path / f"site-{count}"
            return stack.enter_context(temporary_distribution(root, name, **kwargs))

        yield install

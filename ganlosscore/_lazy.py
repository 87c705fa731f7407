"""Lazy package attributes (PEP 562), written once for every package of the core.

A package that must not import torch when imported (``ganlosscore`` itself, so
that ``ganloss list`` stays fast; ``ganlosscore.testing``, so that loading the
pytest plugin does not import torch) names the module of each torch-dependent
attribute and lets :func:`lazy_exports` build its ``__getattr__`` and
``__dir__``. Type checkers see the names through the package's own
``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: Mapping[str, str], exported: Collection[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``__getattr__`` and ``__dir__`` for ``package``.

    ``modules`` maps an attribute name to the submodule (relative to
    ``package``) that defines it; the submodule is imported on first access
    and the value cached in the package's namespace, so later lookups do not
    come back here. ``dir(package)`` lists ``exported`` (its ``__all__``).

    Usage, at the end of a package's ``__init__.py``::

        __getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__

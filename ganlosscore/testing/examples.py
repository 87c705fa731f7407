"""Run a module's docstring examples in a test: one line per module in a loss package.

A loss class's docstring ends with ``Examples:`` (torch's layout), and those
examples are tests too::

    @pytest.mark.parametrize("module", ["my_losses.functional", "my_losses.losses"])
    def test_docstring_examples(module):
        check_examples(module)
"""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

__all__ = ["check_examples"]


def check_examples(
    module: str | ModuleType, *, globs: Mapping[str, Any] | None = None
) -> doctest.TestResults:
    """Run the doctests of ``module`` (a module or its import name); fail unless all pass.

    ``...`` in an expected output matches anything (``doctest.ELLIPSIS``);
    ``globs`` are names every example sees besides the module's own (e.g.
    ``{"torch": torch}``).

    Raises:
        AssertionError: an example failed (doctest has printed which, and
            how), or the module has no example at all: a public module of a
            loss package shows its use.
    """
    if isinstance(module, str):
        module = importlib.import_module(module)
    result = doctest.testmod(module, extraglobs=dict(globs or {}), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{module.__name__}: {result.failed} docstring example(s) failed"
    assert result.attempted > 0, f"{module.__name__} has no docstring example"
    return result

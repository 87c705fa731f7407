"""ganlosscore.testing.check_examples: a module's docstring examples as a test."""

from __future__ import annotations

import types

import pytest

from ganlosscore.testing import check_examples


def module(name: str, doc: str) -> types.ModuleType:
    return types.ModuleType(name, doc)


def test_passing_examples_with_an_ellipsis_and_extra_names() -> None:
    mod = module("passing", ">>> scale * 3\n6\n>>> list(range(20))\n[0, 1, ..., 19]\n")
    result = check_examples(mod, globs={"scale": 2})
    assert (result.attempted, result.failed) == (2, 0)


def test_a_failing_example_fails_naming_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    mod = module("failing", ">>> 1 + 1\n3\n")
    with pytest.raises(AssertionError, match="failing: 1 docstring example"):
        check_examples(mod)
    assert "Expected:\n    3\nGot:\n    2" in capsys.readouterr().out  # doctest's own report


def test_a_module_without_examples_fails() -> None:
    with pytest.raises(AssertionError, match="empty has no docstring example"):
        check_examples(module("empty", "No examples here."))


def test_a_module_is_found_by_its_import_name() -> None:
    # ganlosscore.reduction's docstrings hold examples
    assert check_examples("ganlosscore.reduction").attempted > 0

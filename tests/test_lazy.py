"""The core's packages resolve torch-dependent names on first access (PEP 562)."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

import ganlosscore
import ganlosscore.testing


@pytest.mark.parametrize("package", [ganlosscore, ganlosscore.testing])
def test_an_unknown_name_is_an_attribute_error_naming_the_package(package: ModuleType) -> None:
    with pytest.raises(
        AttributeError, match=rf"module '{package.__name__}' has no attribute 'nope'"
    ):
        package.nope  # noqa: B018


@pytest.mark.parametrize("package", [ganlosscore, ganlosscore.testing])
def test_every_exported_name_resolves_and_dir_lists_them(package: ModuleType) -> None:
    exported = package.__all__
    assert dir(package) == sorted(exported)
    for name in exported:
        assert getattr(package, name) is not None, name


def test_a_lazy_name_is_imported_on_first_access_and_then_cached() -> None:
    # In a fresh interpreter: torch is not imported until LossModule is read,
    # and the value then sits in the package's namespace.
    code = (
        "import sys, ganlosscore, ganlosscore.testing\n"
        "assert 'torch' not in sys.modules\n"
        "assert 'LossModule' not in vars(ganlosscore)\n"
        "cls = ganlosscore.LossModule\n"
        "assert 'torch' in sys.modules\n"
        "assert vars(ganlosscore)['LossModule'] is cls\n"
        "from ganlosscore.protocol import LossModule\n"
        "assert cls is LossModule\n"
        "assert vars(ganlosscore.testing).get('run_ranks') is None\n"
        "assert ganlosscore.testing.run_ranks.__module__ == 'ganlosscore.testing.multiprocess'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""Does a loss package's metadata match what it exports? One call in its tests.

::

    def test_metadata_matches_the_package():
        check_package("ganloss-foo", {"FooLoss": "loss_foo", "BarLoss": "loss_bar"})
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import importlib_metadata

from .._version import PROTOCOL_VERSION
from ..protocol import LossModule
from ..registry import LOSS_GROUP, PROTOCOL_GROUP

__all__ = ["check_package"]


def check_package(distribution: str, losses: Mapping[str, str]) -> None:
    """Check an installed loss package's entry points, exports and version.

    ``losses`` maps each loss class's name to its ``default_loss_name``. The
    distribution must declare loss protocol ``PROTOCOL_VERSION`` once, for its
    package (the ``ganlosscore.protocol`` entry point); one
    ``ganlosscore.losses`` entry point per name in ``losses`` and no other,
    each loading a :class:`~ganlosscore.LossModule` subclass of that name with
    that ``default_loss_name``, which the package exports under that name;
    and the package's ``__version__`` must be the distribution's version.

    Raises:
        AssertionError: listing every mismatch.
    """
    dist = importlib_metadata.distribution(distribution)
    entry_points = dist.entry_points
    declared = [(ep.name, ep.value) for ep in entry_points if ep.group == PROTOCOL_GROUP]
    if len(declared) != 1 or declared[0][0] != str(PROTOCOL_VERSION):
        raise AssertionError(
            f"{distribution}: declares the loss protocols {declared}, "
            f"expected one entry point {str(PROTOCOL_VERSION)!r} = '<its package>' "
            f"in the group {PROTOCOL_GROUP!r}"
        )
    package = importlib.import_module(declared[0][1])
    problems = []
    if dist.version != getattr(package, "__version__", None):
        problems.append(f"{package.__name__}.__version__ is not the version {dist.version}")
    found = {ep.name: ep for ep in entry_points if ep.group == LOSS_GROUP}
    for name in sorted(set(losses) ^ set(found)):
        where = "declared but not expected" if name in found else "expected but not declared"
        problems.append(f"entry point {name!r}: {where}")
    for name in sorted(set(losses) & set(found)):
        cls = found[name].load()
        if not (isinstance(cls, type) and issubclass(cls, LossModule)):
            problems.append(f"{name}: {found[name].value} is not a LossModule subclass")
            continue
        if cls.__name__ != name:
            problems.append(f"{name}: loads the class {cls.__name__}")
        if cls.default_loss_name != losses[name]:
            problems.append(f"{name}: default_loss_name is {cls.default_loss_name!r}")
        if getattr(package, name, None) is not cls:
            problems.append(f"{name}: {package.__name__}.{name} is not the class")
    if problems:
        raise AssertionError(f"{distribution}: " + "; ".join(problems))

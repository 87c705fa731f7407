"""Every loss of the package keeps the ganlosscore protocol (the core's conformance kit)."""

from __future__ import annotations

import pytest
from _conditional_cases import CASES, outputs

from ganlosscore.testing import check_loss


@pytest.mark.parametrize(("name", "config"), CASES.items(), ids=list(CASES))
def test_conformance(name, config):
    report = check_loss({"type": name.split("-")[0], **config}, outputs)
    assert report.skipped == {}


def test_every_loss_of_the_package_is_checked():
    from importlib.metadata import distribution

    offered = distribution("ganloss-conditional").entry_points.select(group="ganlosscore.losses")
    assert {ep.name for ep in offered} == {name.split("-")[0] for name in CASES}

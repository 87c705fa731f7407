"""ganlosscore.testing.check_package: a loss package's metadata against its exports."""

from __future__ import annotations

import pytest

from ganlosscore.testing import check_package

SOURCE = """
from ganlosscore import LossModule

__version__ = "{version}"


class FooLoss(LossModule):
    default_loss_name = "loss_foo"

    def compute(self, pred):
        return pred.mean()


class Hidden(FooLoss):
    default_loss_name = "loss_hidden"
"""


def install(ganloss_distribution, *, version="1.0", protocol=1, **losses):
    ganloss_distribution(
        "ganloss-foo",
        protocol=protocol,
        losses=losses or {"FooLoss": "ganloss_foo:FooLoss"},
        modules={"ganloss_foo/__init__.py": SOURCE.format(version=version)},
    )


def test_a_consistent_package_passes(ganloss_distribution):
    install(ganloss_distribution)
    check_package("ganloss-foo", {"FooLoss": "loss_foo"})


def test_every_mismatch_is_listed(ganloss_distribution):
    # package version 0.9 for distribution 1.0; FooLoss named Bar; Hidden's class is
    # exported as Hidden, not as the entry point's name Other; FooLoss not expected.
    install(
        ganloss_distribution,
        version="0.9",
        Bar="ganloss_foo:FooLoss",
        Other="ganloss_foo:Hidden",
    )
    with pytest.raises(AssertionError) as info:
        check_package("ganloss-foo", {"Bar": "loss_bar", "Other": "loss_hidden", "Gone": "x"})
    assert str(info.value) == (
        "ganloss-foo: ganloss_foo.__version__ is not the version 1.0; "
        "entry point 'Gone': expected but not declared; "
        "Bar: loads the class FooLoss; Bar: default_loss_name is 'loss_foo'; "
        "Bar: ganloss_foo.Bar is not the class; "
        "Other: loads the class Hidden; Other: ganloss_foo.Other is not the class"
    )


def test_a_missing_protocol_declaration_is_reported(ganloss_distribution):
    install(ganloss_distribution, protocol=None)
    with pytest.raises(AssertionError, match=r"declares the loss protocols \[\], expected one"):
        check_package("ganloss-foo", {"FooLoss": "loss_foo"})

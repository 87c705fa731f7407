import inspect

import pytest
from _losses import ShiftLoss

from ganlosscore import build_aggregator, get_plugin_manager, hookspecs
from ganlosscore.hooks import hook_plugin_failures

SPECS = [
    obj
    for name, obj in vars(hookspecs).items()
    if name.startswith("ganloss_") and inspect.isfunction(obj)
]


def test_the_design_table_of_hooks_is_implemented():
    assert {f.__name__ for f in SPECS} == {
        "ganloss_compute_loss",
        "ganloss_merge_loss",
        "ganloss_parse_losses",
        "ganloss_reduce_log_vars",
        "ganloss_after_aggregate",
        "ganloss_register_commands",
    }


@pytest.mark.parametrize("spec", SPECS, ids=lambda f: f.__name__)
def test_every_hookspec_documents_each_argument_and_its_default(spec):
    doc = inspect.getdoc(spec) or ""
    for arg in inspect.signature(spec).parameters:
        assert f":param {arg}:" in doc, f"{spec.__name__} does not document {arg!r}"
    assert "Default:" in doc


def test_firstresult_kinds_match_the_design():
    pm = get_plugin_manager()
    first = {
        name
        for name in (f.__name__ for f in SPECS)
        if getattr(pm.hook, name).spec.opts.get("firstresult")
    }
    assert first == {
        "ganloss_compute_loss",
        "ganloss_merge_loss",
        "ganloss_parse_losses",
        "ganloss_reduce_log_vars",
    }


def test_core_defaults_are_registered_plugins():
    pm = get_plugin_manager()
    assert pm.get_plugin("ganlosscore.defaults") is not None
    assert pm.get_plugin("ganlosscore.commands") is not None


HOOK_SOURCE = """
from ganlosscore import hookimpl

@hookimpl
def ganloss_compute_loss(loss, outputs):
    return 3 * loss(outputs)
"""


def test_hook_plugins_load_from_entry_points(ganloss_distribution):
    ganloss_distribution(
        "ganloss-triple", hooks={"triple": "triple_hooks"}, modules={"triple_hooks.py": HOOK_SOURCE}
    )
    agg = build_aggregator([{"type": ShiftLoss, "data_info": {"pred": "p"}}])
    import torch

    # 3 * mean([2]**2) = 12
    assert agg({"p": torch.tensor([2.0])}).total.item() == 12.0
    assert get_plugin_manager().get_plugin("ganloss-triple:triple") is not None


def test_broken_and_invalid_hook_plugins_are_isolated(ganloss_distribution):
    ganloss_distribution(
        "ganloss-badhooks",
        hooks={"crash": "crash_hooks", "typo": "typo_hooks"},
        modules={
            "crash_hooks.py": "raise ImportError('missing dependency')\n",
            "typo_hooks.py": (
                "from ganlosscore import hookimpl\n"
                "@hookimpl\n"
                "def ganloss_compute_los(loss):\n"
                "    return None\n"
            ),
        },
    )
    pm = get_plugin_manager()  # builds without raising
    failures = hook_plugin_failures()
    assert "missing dependency" in failures["ganloss-badhooks:crash"]
    assert "ganloss_compute_los" in failures["ganloss-badhooks:typo"]
    assert pm.get_plugin("ganloss-badhooks:typo") is None

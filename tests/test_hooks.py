import inspect
import sys

import pytest
import torch
from _losses import PairLoss, ShiftLoss
from _plugins import hook_plugin

from ganlosscore import build_aggregator, get_plugin_manager, hookimpl, hookspecs
from ganlosscore.hooks import hook_plugin_failures, new_plugin_manager

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
        "ganloss_configure",  # issue 17.1: settings from the config file
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


HOOK_SOURCE = """
from ganlosscore import hookimpl

@hookimpl
def ganloss_compute_loss(loss, outputs):
    return 3 * loss(outputs)
"""


def test_hook_plugins_load_from_entry_points(ganloss_distribution):
    ganloss_distribution("ganloss-triple", **hook_plugin(triple=HOOK_SOURCE))
    agg = build_aggregator([{"type": ShiftLoss, "data_info": {"pred": "p"}}])
    import torch

    # 3 * mean([2]**2) = 12
    assert agg({"p": torch.tensor([2.0])}).total.item() == 12.0
    assert get_plugin_manager().get_plugin("ganloss-triple:triple") is not None


def test_broken_and_invalid_hook_plugins_are_isolated(ganloss_distribution):
    typo = "from ganlosscore import hookimpl\n@hookimpl\ndef ganloss_compute_los(loss):\n    pass\n"
    crash = "raise ImportError('missing dependency')\n"
    ganloss_distribution("ganloss-badhooks", **hook_plugin(crash=crash, typo=typo))
    pm = get_plugin_manager()  # builds without raising
    failures = hook_plugin_failures()
    assert "missing dependency" in failures["ganloss-badhooks:crash"]
    assert "ganloss_compute_los" in failures["ganloss-badhooks:typo"]
    assert pm.get_plugin("ganloss-badhooks:typo") is None


def test_hook_plugins_built_for_another_protocol_are_left_out_unimported(ganloss_distribution):
    ganloss_distribution(
        "ganloss-future",
        hooks={"triple": "future_hooks"},
        modules={"future_hooks.py": HOOK_SOURCE},
        protocol=99,
    )
    pm = get_plugin_manager()
    assert pm.get_plugin("ganloss-future:triple") is None
    assert "built for loss protocol 99" in hook_plugin_failures()["ganloss-future:triple"]
    assert "future_hooks" not in sys.modules


# -- ganloss_compute_loss and None: what its docstring promises ---------------------


class NotMine:
    """An ordinary implementation that returns None for every loss."""

    def __init__(self):
        self.calls = 0

    @hookimpl
    def ganloss_compute_loss(self, loss):
        self.calls += 1
        return None


class SkipByName:
    """A wrapper that turns one loss's value into None."""

    def __init__(self, loss_name):
        self.loss_name = loss_name

    @hookimpl(wrapper=True)
    def ganloss_compute_loss(self, loss):
        value = yield
        return None if loss.loss_name() == self.loss_name else value


TWO_LOSSES = [
    {"type": ShiftLoss, "data_info": {"pred": "p"}},  # mean([2]**2) = 4
    {"type": PairLoss, "data_info": {"a": "p", "b": "q"}},  # mean(2 - 1) = 1
]
INPUTS = {"p": torch.tensor([2.0]), "q": torch.tensor([1.0])}


def test_none_from_an_ordinary_compute_loss_implementation_does_not_skip():
    pm = new_plugin_manager(installed=False)
    impl = NotMine()
    pm.register(impl)
    result = build_aggregator(TWO_LOSSES, plugin_manager=pm)(INPUTS)
    assert impl.calls == 2  # asked first (newest), for each loss
    # ...and its None passed the loss on to the default, which computed it
    assert result.log_vars == {"loss_disc_shift": 4.0, "loss_pair": 1.0, "loss": 5.0}


def test_a_wrapper_returning_none_skips_the_loss():
    pm = new_plugin_manager(installed=False)
    pm.register(SkipByName("loss_pair"))
    result = build_aggregator(TWO_LOSSES, plugin_manager=pm)(INPUTS)
    assert set(result.losses) == {"loss_disc_shift"}
    assert result.log_vars == {"loss_disc_shift": 4.0, "loss": 4.0}


def test_the_default_returning_none_skips_a_lazy_regularizer():
    pm = new_plugin_manager(installed=False)
    pm.register(NotMine())  # through pluggy, not the bypass
    agg = build_aggregator(
        [{"type": ShiftLoss, "data_info": {"pred": "p"}, "interval": 2}], plugin_manager=pm
    )
    (loss,) = agg.losses
    # off its interval the hook's result is None...
    off = {**INPUTS, "iteration": 1}
    assert pm.hook.ganloss_compute_loss(loss=loss, outputs=off, aggregator=agg) is None
    assert agg({**INPUTS, "iteration": 1}).log_vars == {"loss": 0.0}
    # ...on it, the value: 4
    assert agg({**INPUTS, "iteration": 2}).log_vars == {"loss_disc_shift": 4.0, "loss": 4.0}


# -- a private plugin manager -------------------------------------------------------


class Triple:
    @hookimpl
    def ganloss_compute_loss(self, loss, outputs):
        return 3 * loss(outputs)


def test_build_aggregator_uses_a_private_plugin_manager_and_leaves_the_global_alone():
    global_pm = get_plugin_manager()
    before = set(global_pm.get_plugins())
    pm = new_plugin_manager(installed=False)
    pm.register(Triple())
    private = build_aggregator(TWO_LOSSES[:1], plugin_manager=pm)
    assert private.plugin_manager is pm
    # 3 * mean([2]**2) = 12
    assert private(INPUTS).total.item() == 12.0
    assert set(global_pm.get_plugins()) == before
    assert not any(isinstance(p, Triple) for p in global_pm.get_plugins())
    # an aggregator without one still uses the process-wide manager: 4, not 12
    assert build_aggregator(TWO_LOSSES[:1])(INPUTS).total.item() == 4.0


# -- a hook plugin that failed to load stops aggregation (issue 14.4a) ---------------

RESCALE_SOURCE = """
import missing_dependency_of_rescale  # the plugin cannot be imported
"""


def test_a_hook_plugin_that_failed_to_load_makes_every_aggregation_raise(
    ganloss_distribution, monkeypatch
):
    from ganlosscore import PluginLoadError
    from ganlosscore.hooks import reset_plugin_manager
    from ganlosscore.registry import refresh

    ganloss_distribution("ganloss-rescale", **hook_plugin(rescale=RESCALE_SOURCE))
    agg = build_aggregator(TWO_LOSSES[:1])
    # before, the plugin was dropped silently and training went on with another objective
    for _ in range(2):
        with pytest.raises(PluginLoadError) as info:
            agg(INPUTS)
        message = str(info.value)
        assert "ganloss-rescale" in message
        assert "No module named 'missing_dependency_of_rescale'" in message
        assert "GANLOSS_DISABLE_PLUGINS=ganloss-rescale" in message
    # deselected, it is no longer expected: aggregation runs, 4 = mean([2]**2)
    monkeypatch.setenv("GANLOSS_DISABLE_PLUGINS", "ganloss-rescale")
    refresh()
    reset_plugin_manager()
    assert agg(INPUTS).log_vars == {"loss_disc_shift": 4.0, "loss": 4.0}


def test_a_private_manager_without_installed_plugins_ignores_their_failures(
    ganloss_distribution,
):
    ganloss_distribution("ganloss-rescale", **hook_plugin(rescale=RESCALE_SOURCE))
    agg = build_aggregator(TWO_LOSSES[:1], plugin_manager=new_plugin_manager(installed=False))
    assert agg(INPUTS).log_vars["loss"] == 4.0


# -- hook monitoring through pluggy's public API ----------------------------------------


def test_tracing_turns_the_bypass_off_until_undone():
    from ganlosscore.hooks import bypassable_hooks

    pm = new_plugin_manager(installed=False)
    assert "ganloss_compute_loss" in bypassable_hooks(pm)
    undo = pm.enable_tracing()  # pluggy's enable_tracing adds a hook-call monitor
    assert bypassable_hooks(pm) == frozenset()
    undo()
    undo()  # undoing twice counts once
    assert "ganloss_compute_loss" in bypassable_hooks(pm)

"""The plugin through its entry point: settings from a config, event files read back."""

from __future__ import annotations

import ganloss_tensorboard
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganlosscore import (
    ConfigError,
    build_aggregator,
    configure_plugins,
    hookimpl,
    new_plugin_manager,
)
from ganlosscore.hooks import bypassable_hooks

SHIFT = {"type": "DiscShiftLoss", "data_info": {"pred": "disc_pred_real"}}


def scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the event files of ``log_dir``: tag -> [(step, value)]."""
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


@pytest.fixture
def pm():
    """A manager with the installed hook plugins (this one among them), closed after."""
    manager = new_plugin_manager()
    yield manager
    logger = manager.get_plugin(ganloss_tensorboard.LOGGER_NAME)
    if logger is not None:
        logger.close()


def train(aggregator, steps, extra):
    # DiscShiftLoss is mean(pred ** 2): at step i, pred = [i, i] gives i ** 2
    for step in range(steps):
        aggregator({"disc_pred_real": torch.full((2,), float(step)), **extra(step)})


def test_the_log_values_of_every_interval_th_step_are_written(tmp_path, pm):
    settings = {"log_dir": str(tmp_path / "run"), "interval": 5}
    configure_plugins({"plugins": {"ganloss-tensorboard": settings}}, plugin_manager=pm)
    disc = build_aggregator([SHIFT], name="disc", nonfinite="defer", plugin_manager=pm)
    train(disc, 12, lambda step: {"iteration": step})
    ganloss_tensorboard.flush(pm)
    assert scalars(tmp_path / "run") == {
        "disc/loss_disc_shift": [(0, 0.0), (5, 25.0), (10, 100.0)],
        "disc/loss": [(0, 0.0), (5, 25.0), (10, 100.0)],
    }


def test_log_values_are_read_only_on_the_steps_written(tmp_path, pm):
    class CountReads:
        reads = 0

        @hookimpl(wrapper=True)
        def ganloss_reduce_log_vars(self):
            CountReads.reads += 1
            return (yield)

    pm.register(CountReads())
    settings = {"log_dir": str(tmp_path), "interval": 4}
    configure_plugins({"plugins": {"ganloss-tensorboard": settings}}, plugin_manager=pm)
    disc = build_aggregator([SHIFT], nonfinite="defer", plugin_manager=pm)
    train(disc, 8, lambda step: {"iteration": step})
    assert CountReads.reads == 2  # steps 0 and 4: one host synchronisation each, none else


def test_without_an_iteration_each_phase_counts_its_own_steps(tmp_path, pm):
    settings = {"log_dir": str(tmp_path), "interval": 2}
    configure_plugins({"plugins": {"ganloss-tensorboard": settings}}, plugin_manager=pm)
    disc = build_aggregator([SHIFT], name="disc", plugin_manager=pm)
    gen = build_aggregator([SHIFT], name="gen", plugin_manager=pm)
    for step in range(3):
        disc({"disc_pred_real": torch.full((2,), float(step))})
        gen({"disc_pred_real": torch.full((2,), 2.0 * step)})
    ganloss_tensorboard.flush(pm)
    found = scalars(tmp_path)
    assert found["disc/loss"] == [(0, 0.0), (2, 4.0)]
    assert found["gen/loss"] == [(0, 0.0), (2, 16.0)]


def test_unconfigured_it_registers_nothing_and_costs_a_step_nothing(tmp_path, pm):
    assert pm.get_plugin(ganloss_tensorboard.LOGGER_NAME) is None
    assert "ganloss_after_aggregate" in bypassable_hooks(pm)  # not even a pluggy call
    configure_plugins(
        {"plugins": {"ganloss-tensorboard": {"log_dir": str(tmp_path)}}}, plugin_manager=pm
    )
    assert "ganloss_after_aggregate" not in bypassable_hooks(pm)
    configure_plugins({"disc": [SHIFT]}, plugin_manager=pm)  # a config without the table
    assert pm.get_plugin(ganloss_tensorboard.LOGGER_NAME) is None
    assert "ganloss_after_aggregate" in bypassable_hooks(pm)


def test_reconfiguring_moves_the_logs_to_the_new_directory(tmp_path, pm):
    for name in ("first", "second"):
        settings = {"log_dir": str(tmp_path / name), "interval": 1}
        configure_plugins({"plugins": {"ganloss-tensorboard": settings}}, plugin_manager=pm)
        disc = build_aggregator([SHIFT], plugin_manager=pm)
        disc({"disc_pred_real": torch.tensor([1.0, 3.0]), "iteration": 7})  # 5.0
    ganloss_tensorboard.flush(pm)
    assert scalars(tmp_path / "first")["disc/loss"] == [(7, 5.0)]  # closed, so flushed
    assert scalars(tmp_path / "second")["disc/loss"] == [(7, 5.0)]


@pytest.mark.parametrize(
    ("settings", "where", "message"),
    [
        ({"log_dir": "runs", "intervall": 5}, "intervall", "Did you mean 'interval'?"),
        ({"interval": 5}, "log_dir", "ganloss-tensorboard needs log_dir"),
        ({"log_dir": ""}, "log_dir", "a non-empty string"),
        ({"log_dir": "runs", "interval": 0}, "interval", "interval"),
        ({"log_dir": "runs", "flush_secs": "10"}, "flush_secs", "flush_secs"),
    ],
)
def test_wrong_settings_are_config_errors_at_their_key(pm, settings, where, message):
    with pytest.raises(ConfigError, match=message) as caught:
        configure_plugins({"plugins": {"ganloss-tensorboard": settings}}, plugin_manager=pm)
    assert caught.value.where == f"plugins.ganloss-tensorboard.{where}"
    assert pm.get_plugin(ganloss_tensorboard.LOGGER_NAME) is None


def test_provenance_names_the_logger_and_its_distribution(tmp_path, pm):
    configure_plugins(
        {"plugins": {"ganloss-tensorboard": {"log_dir": str(tmp_path)}}}, plugin_manager=pm
    )
    hooks = build_aggregator([SHIFT], plugin_manager=pm).provenance().as_dict()["hook_plugins"]
    assert {
        "plugin": ganloss_tensorboard.LOGGER_NAME,
        "distribution": "ganloss-tensorboard",
        "version": ganloss_tensorboard.__version__,
        "hooks": ["ganloss_after_aggregate"],
    } in hooks

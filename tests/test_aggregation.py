import math

import pytest
import torch
from _losses import ShiftLoss

from ganlosscore import (
    ConfigError,
    LossAggregator,
    LossModule,
    LossResult,
    NonFiniteLossError,
    build_aggregator,
    hookimpl,
)


def shift(key, weight=1.0, **kw):
    return {"type": ShiftLoss, "loss_weight": weight, "data_info": {"pred": key}, **kw}


def test_same_name_losses_are_summed_and_unpacking_works(outputs):
    agg = build_aggregator([shift("disc_pred_real"), shift("disc_pred_fake", 0.5)])
    result = agg(outputs)
    # 5 (real) + 0.5 * 4 (fake) = 7, both under loss_disc_shift
    assert isinstance(result, LossResult)
    assert result.total.item() == 7.0
    assert list(result.losses) == ["loss_disc_shift"]
    assert result.log_vars == {"loss_disc_shift": 7.0, "loss": 7.0}
    total, log_vars = agg(outputs)
    assert total.item() == 7.0 and log_vars["loss"] == 7.0
    assert all(type(v) is float for v in log_vars.values())


def test_distinct_names_are_logged_separately_and_summed_into_the_total(outputs):
    agg = build_aggregator(
        [shift("disc_pred_real"), shift("disc_pred_fake", loss_name="loss_shift_fake")]
    )
    result = agg(outputs)
    assert result.log_vars == {"loss_disc_shift": 5.0, "loss_shift_fake": 4.0, "loss": 9.0}


def test_skipped_losses_are_left_out(outputs):
    # iteration 4: interval 3 skips, interval 2 runs
    agg = build_aggregator(
        [
            shift("disc_pred_real", interval=3),
            shift("disc_pred_fake", loss_name="loss_b", interval=2),
        ]
    )
    assert agg(outputs).log_vars == {"loss_b": 4.0, "loss": 4.0}


def test_every_loss_skipped_gives_a_zero_total(outputs):
    result = build_aggregator([shift("disc_pred_real", interval=3)])(outputs)
    assert result.total.item() == 0.0 and result.losses == {} and result.log_vars == {"loss": 0.0}


def test_total_keeps_the_graph():
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    build_aggregator([shift("p", 2.0)])({"p": p}).total.backward()
    # d/dp 2 * mean(p**2) = 2p
    assert torch.equal(p.grad, torch.tensor([2.0, 4.0]))


def test_extra_log_vars_are_logged_but_not_summed():
    class WithQuartiles(LossModule):
        default_loss_name = "loss_q"

        def compute(self, pred):
            self.extra_log_vars = {"q_first": pred[0].detach()}
            return pred.mean()

    agg = build_aggregator([{"type": WithQuartiles, "data_info": {"pred": "p"}}])
    # mean([2, 4]) = 3; the first element 2 is only logged
    assert agg({"p": torch.tensor([2.0, 4.0])}).log_vars == {
        "loss_q": 3.0,
        "loss": 3.0,
        "q_first": 2.0,
    }


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_values_raise_by_default_naming_the_loss(bad):
    agg = build_aggregator([shift("p"), shift("q", loss_name="loss_ok")])
    with pytest.raises(
        NonFiniteLossError, match=r"disc: non-finite value in loss_disc_shift=.*iteration 7"
    ):
        agg({"p": torch.tensor([bad]), "q": torch.ones(1), "iteration": 7})


def test_non_finite_policy_warn_and_ignore():
    data = {"p": torch.tensor([float("nan")])}
    with pytest.warns(RuntimeWarning, match="loss_disc_shift=nan"):
        result = build_aggregator([shift("p")], nonfinite="warn")(data)
    assert math.isnan(result.log_vars["loss"])
    assert math.isnan(build_aggregator([shift("p")], nonfinite="ignore")(data).log_vars["loss"])
    with pytest.raises(ConfigError, match="nonfinite must be one of raise, warn, ignore"):
        build_aggregator([shift("p")], nonfinite="skip")


def test_losses_of_an_aggregator_need_data_info():
    with pytest.raises(ConfigError, match=r"disc\[1\].data_info: ShiftLoss has no data_info"):
        LossAggregator([ShiftLoss(data_info={"pred": "p"}), ShiftLoss()])


def test_aggregator_is_a_module_holding_its_losses():
    class Running(LossModule):
        default_loss_name = "loss_running"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.register_buffer("mean", torch.zeros(()))

        def compute(self, pred):
            self.mean.add_(pred.mean().detach())
            return pred.mean()

    agg = build_aggregator([{"type": Running, "data_info": {"pred": "p"}}], name="gen")
    agg({"p": torch.tensor([3.0])})
    assert agg.state_dict()["losses.0.mean"].item() == 3.0
    assert agg.to(torch.float64).state_dict()["losses.0.mean"].dtype == torch.float64
    assert agg.loss_names() == ["loss_running"]


def test_calling_with_something_else_than_a_dict():
    with pytest.raises(ConfigError, match="called with the outputs dict"):
        build_aggregator([shift("p")])(torch.ones(1))


# -- hooks: a third party can wrap or replace every step ---------------------------


def test_compute_hook_replaces_the_default(ganloss_hooks, outputs):
    class Doubler:
        @hookimpl
        def ganloss_compute_loss(self, loss, outputs):
            return 2 * loss(outputs)

    ganloss_hooks(Doubler())
    assert build_aggregator([shift("disc_pred_real")])(outputs).total.item() == 10.0


def test_compute_hook_returning_none_falls_through_to_the_default(ganloss_hooks, outputs):
    seen = []

    class Observer:
        @hookimpl
        def ganloss_compute_loss(self, loss):
            seen.append(loss.loss_name())

    ganloss_hooks(Observer())
    assert build_aggregator([shift("disc_pred_real")])(outputs).total.item() == 5.0
    assert seen == ["loss_disc_shift"]


def test_merge_hook(ganloss_hooks, outputs):
    class TakeMax:
        @hookimpl
        def ganloss_merge_loss(self, current, new):
            return torch.maximum(current, new)

    ganloss_hooks(TakeMax())
    agg = build_aggregator([shift("disc_pred_real"), shift("disc_pred_fake")])
    assert agg(outputs).total.item() == 5.0  # max(5, 4)


def test_parse_and_reduce_hooks(ganloss_hooks, outputs):
    class Custom:
        @hookimpl
        def ganloss_parse_losses(self, losses):
            total = sum(losses.values())
            return total, {"everything": total.detach()}

        @hookimpl
        def ganloss_reduce_log_vars(self, log_vars):
            return {k: round(float(v)) * 10.0 for k, v in log_vars.items()}

    ganloss_hooks(Custom())
    assert build_aggregator([shift("disc_pred_real")])(outputs).log_vars == {"everything": 50.0}


def test_after_aggregate_sees_every_result_and_wrappers_work(ganloss_hooks, outputs):
    calls = []

    class Logger:
        @hookimpl
        def ganloss_after_aggregate(self, result, aggregator):
            calls.append((aggregator.name, result.log_vars["loss"]))

    class Timer:
        @hookimpl(wrapper=True)
        def ganloss_compute_loss(self, loss):
            value = yield
            calls.append(("wrapped", loss.loss_name()))
            return value

    ganloss_hooks(Logger())
    ganloss_hooks(Timer())
    build_aggregator([shift("disc_pred_real")], name="gen")(outputs)
    assert calls == [("wrapped", "loss_disc_shift"), ("gen", 5.0)]


def test_with_only_the_defaults_every_hook_is_bypassed_and_a_plugin_restores_it(ganloss_hooks):
    from ganlosscore import get_plugin_manager
    from ganlosscore.hooks import bypassable_hooks

    pm = get_plugin_manager()
    assert bypassable_hooks(pm) == {
        "ganloss_compute_loss",
        "ganloss_merge_loss",
        "ganloss_parse_losses",
        "ganloss_reduce_log_vars",
        "ganloss_after_aggregate",
    }

    class Observer:
        @hookimpl
        def ganloss_merge_loss(self):
            return None

    ganloss_hooks(Observer())
    assert "ganloss_merge_loss" not in bypassable_hooks(pm)


def test_hook_monitoring_sees_every_call(outputs):
    from ganlosscore import get_plugin_manager

    calls = []
    undo = get_plugin_manager().add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda *args: None
    )
    try:
        build_aggregator([shift("disc_pred_real"), shift("disc_pred_fake")])(outputs)
    finally:
        undo()
    assert calls == [
        "ganloss_compute_loss",
        "ganloss_compute_loss",
        "ganloss_merge_loss",
        "ganloss_parse_losses",
        "ganloss_reduce_log_vars",
        "ganloss_after_aggregate",
    ]


def test_two_losses_logging_the_same_extra_key_is_an_error():
    from ganlosscore import GanLossError

    class Extra(LossModule):
        default_loss_name = "loss_extra"

        def compute(self, pred):
            self.extra_log_vars = {"shared": pred.detach().sum()}
            return pred.sum()

    agg = build_aggregator(
        [
            {"type": Extra, "data_info": {"pred": "p"}},
            {"type": Extra, "loss_name": "loss_extra_2", "data_info": {"pred": "p"}},
        ]
    )
    with pytest.raises(
        GanLossError, match="'shared' that another loss of the aggregator already logs"
    ):
        agg({"p": torch.ones(1)})

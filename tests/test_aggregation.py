import math

import pytest
import torch
from _losses import RunningMeanLoss, ShiftLoss

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
    assert result.skipped
    # the training loop's backward() works unchanged on a step where every loss was skipped
    assert result.total.requires_grad
    result.total.backward()


def test_the_zero_total_lives_with_the_losses_inputs_not_a_cpu_counter():
    # "meta" stands for an accelerator here: the iteration counter (first, on the CPU)
    # must not decide the device
    outputs = {"iteration": torch.tensor(1), "p": torch.ones(2, device="meta")}
    result = build_aggregator([shift("p", interval=2)])(outputs)
    assert result.skipped and result.total.device.type == "meta"
    with torch.no_grad():  # an evaluation step: a total without grad, like any other there
        assert not build_aggregator([shift("p", interval=2)])(outputs).total.requires_grad


def test_an_amp_loop_skips_the_optimizer_step_when_every_loss_was_skipped():
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu")  # enabled: scale() really scales
    agg = build_aggregator([shift("pred", interval=2)])
    stepped = []
    for iteration in range(4):
        result = agg({"pred": net(torch.ones(1)), "iteration": iteration})
        scaler.scale(result.total).backward()
        if not result.skipped:  # GradScaler.step and .update raise when nothing was unscaled
            scaler.step(opt)
            scaler.update()
            stepped.append(iteration)
        opt.zero_grad()
    assert stepped == [0, 2]


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
    with pytest.raises(ConfigError, match="disc.nonfinite: must be one of 'raise', 'warn'"):
        build_aggregator([shift("p")], nonfinite="skip")


def test_losses_of_an_aggregator_need_data_info():
    with pytest.raises(ConfigError, match=r"disc\[1\].data_info: ShiftLoss has no data_info"):
        LossAggregator([ShiftLoss(data_info={"pred": "p"}), ShiftLoss()])


def test_aggregator_is_a_module_holding_its_losses():
    agg = build_aggregator([{"type": RunningMeanLoss, "data_info": {"pred": "p"}}], name="gen")
    agg({"p": torch.tensor([3.0])})
    # the buffer's EMA from 0: 0.9 * 0 + 0.1 * 3
    assert agg.state_dict()["losses.0.running"].item() == pytest.approx(0.3)
    assert agg.to(torch.float64).state_dict()["losses.0.running"].dtype == torch.float64
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


@pytest.mark.parametrize("extra_first", [True, False], ids=["extra-first", "loss-first"])
def test_an_extra_value_named_like_a_loss_is_an_error_whatever_the_order(extra_first):
    from ganlosscore import GanLossError

    class Logs(LossModule):
        default_loss_name = "loss_logs"

        def compute(self, pred):
            self.extra_log_vars = {"loss_disc_shift": pred.detach().sum()}
            return pred.sum()

    entries = [
        {"type": Logs, "data_info": {"pred": "p"}},
        {"type": ShiftLoss, "data_info": {"pred": "p"}},
    ]
    agg = build_aggregator(entries if extra_first else entries[::-1])
    # before, with Logs first, the loss computed later silently replaced the logged value
    with pytest.raises(GanLossError, match=r"extra logged value\(s\) \['loss_disc_shift'\]"):
        agg({"p": torch.ones(1)})


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "64"])
def test_max_log_vars_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match="must be an integer >= 1") as info:
        build_aggregator([shift("p")], max_log_vars=bad)
    assert info.value.where == "disc.max_log_vars"


def test_losses_given_as_a_generator_are_all_held():
    losses = (ShiftLoss(data_info={"pred": "p"}, loss_name=f"loss_{i}") for i in range(3))
    agg = LossAggregator(losses)
    assert agg.loss_names() == ["loss_0", "loss_1", "loss_2"]


@pytest.mark.parametrize(
    ("backend", "values", "expected"),
    [
        ("nccl", "cpu", "cuda:3"),  # NCCL reduces CUDA tensors only: never a CPU buffer
        ("nccl", "cuda:3", "cuda:3"),
        ("cpu:gloo,cuda:nccl", "cpu", "cuda:3"),  # every rank picks the same backend
        ("cpu:gloo,cuda:nccl", "meta", "cuda:3"),
        ("gloo", "cuda:1", "cpu"),  # gloo: the host, whatever device a rank's values are on
        ("gloo", "cpu", "cpu"),
        ("mpi", "cpu", "cpu"),  # any other backend: the values' device
    ],
)
def test_the_reduction_buffer_follows_the_backend_not_a_cpu_value(
    monkeypatch, backend, values, expected
):
    import torch.distributed as dist

    from ganlosscore import collective_device

    # the device of the aggregator's log_vars buffer, and of the plugins' own collectives
    monkeypatch.setattr(dist, "get_backend", lambda *a, **k: backend)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    assert collective_device(torch.device(values)) == torch.device(expected)


def test_sum_over_ranks_without_a_process_group_is_the_buffer_itself():
    from ganlosscore import sum_over_ranks

    buffer = torch.tensor([1.0, 2.0], dtype=torch.float16)
    assert sum_over_ranks(buffer) is buffer


# -- the fast paths give the same results as the hooks they stand for ---------------


def test_the_bypass_answer_follows_register_and_unregister_after_a_step(outputs):
    # A step caches which hooks it may bypass; registering a plugin later must
    # still be seen on the very next step, and unregistering it restores the bypass.
    from ganlosscore import get_plugin_manager
    from ganlosscore.hooks import bypassable_hooks

    pm = get_plugin_manager()
    agg = build_aggregator([shift("disc_pred_real"), shift("disc_pred_fake")])
    assert agg(outputs).log_vars["loss"] == 9.0  # 5 + 4
    assert "ganloss_merge_loss" in bypassable_hooks(pm)

    class Product:
        @hookimpl
        def ganloss_merge_loss(self, current, new):
            return current * new

    plugin = Product()
    pm.register(plugin)
    try:
        assert "ganloss_merge_loss" not in bypassable_hooks(pm)
        assert agg(outputs).log_vars["loss"] == 20.0  # 5 * 4
    finally:
        pm.unregister(plugin)
    assert "ganloss_merge_loss" in bypassable_hooks(pm)
    assert agg(outputs).log_vars["loss"] == 9.0


def test_monitoring_added_after_a_step_still_sees_every_call(outputs):
    from ganlosscore import get_plugin_manager

    agg = build_aggregator([shift("disc_pred_real")])
    agg(outputs)  # the bypass answer is cached now
    calls = []
    undo = get_plugin_manager().add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda *args: None
    )
    try:
        agg(outputs)
    finally:
        undo()
    assert calls[0] == "ganloss_compute_loss" and calls[-1] == "ganloss_after_aggregate"
    calls.clear()
    agg(outputs)
    assert calls == []  # monitoring undone: bypassed again


def test_a_plain_pluggy_manager_is_asked_every_call(outputs):
    # A pluggy manager the core did not build cannot count registrations,
    # so nothing is cached for it: a late plugin is still seen.
    import pluggy

    from ganlosscore import defaults, hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults)
    agg = build_aggregator([shift("disc_pred_real")])
    agg = LossAggregator(list(agg.losses), plugin_manager=pm)
    assert agg(outputs).log_vars == {"loss_disc_shift": 5.0, "loss": 5.0}

    class Double:
        @hookimpl
        def ganloss_compute_loss(self, loss, outputs):
            return 2 * loss(outputs)

    pm.register(Double())
    assert agg(outputs).log_vars == {"loss_disc_shift": 10.0, "loss": 10.0}


def test_new_plugin_manager_keeps_hook_plugins_away_from_the_process_wide_one(outputs):
    from ganlosscore import get_plugin_manager
    from ganlosscore.hooks import bypassable_hooks, new_plugin_manager

    pm = new_plugin_manager(installed=False)
    assert pm is not get_plugin_manager()
    assert pm.get_plugin("ganlosscore.defaults") is not None

    class Triple:
        @hookimpl
        def ganloss_compute_loss(self, loss, outputs):
            return 3 * loss(outputs)

    pm.register(Triple())
    losses = list(build_aggregator([shift("disc_pred_real")]).losses)
    assert LossAggregator(losses, plugin_manager=pm)(outputs).log_vars["loss"] == 15.0
    assert LossAggregator(losses)(outputs).log_vars["loss"] == 5.0
    assert "ganloss_compute_loss" in bypassable_hooks(get_plugin_manager())


@pytest.mark.parametrize("where", ["module", "global"])
def test_module_hooks_on_a_loss_are_honoured(outputs, where):
    # The aggregator calls forward() directly only when __call__ would do
    # nothing more; a forward hook, on the loss or on every module, still runs.
    agg = build_aggregator([shift("disc_pred_real"), shift("disc_pred_fake")])
    seen = []

    def hook(module, args, output):
        if not isinstance(module, LossModule):  # a global hook sees the aggregator too
            return None
        seen.append(output.item())
        return output * 10  # a forward hook may replace the output

    if where == "module":
        handle = agg.losses[0].register_forward_hook(hook)
    else:
        handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        result = agg(outputs)
    finally:
        handle.remove()
    if where == "module":
        assert seen == [5.0] and result.log_vars["loss"] == 54.0  # 10 * 5 + 4
    else:
        assert seen == [5.0, 4.0] and result.log_vars["loss"] == 90.0  # 10 * (5 + 4)
    assert agg(outputs).log_vars["loss"] == 9.0  # hooks removed: plain again


def test_a_loss_with_its_own_forward_is_called_through_it(outputs):
    class Halved(ShiftLoss):
        def forward(self, *args, **kwargs):
            return super().forward(*args, **kwargs) / 2

    agg = LossAggregator([Halved(data_info={"pred": "disc_pred_real"})])
    assert agg(outputs).log_vars["loss"] == 2.5  # 5 / 2


def test_the_default_reduction_gives_floats_in_order_with_one_host_transfer():
    from ganlosscore import defaults

    grad = torch.tensor(2.0, requires_grad=True)
    values = {
        "loss_a": grad * 3,  # 6
        "loss_b": torch.tensor([1.0, 3.0]),  # a vector: its mean, 2
        "loss_c": [torch.tensor(1.0), torch.tensor([2.0, 4.0])],  # 1 + 3 = 4
        "acc_real": torch.tensor(0.25),  # logged, not summed: no "loss" in the name
    }
    total, log_tensors = defaults.ganloss_parse_losses(values)
    log_tensors["q_first"] = torch.tensor(7, dtype=torch.int64)
    floats = defaults.ganloss_reduce_log_vars(log_tensors, LossAggregator([]), None)
    assert floats == {
        "loss_a": 6.0,
        "loss_b": 2.0,
        "loss_c": 4.0,
        "acc_real": 0.25,
        "loss": 12.0,
        "q_first": 7.0,
    }
    assert list(floats) == ["loss_a", "loss_b", "loss_c", "acc_real", "loss", "q_first"]
    assert all(type(v) is float for v in floats.values())
    assert total.item() == 12.0
    total.backward()
    assert grad.grad.item() == 3.0  # the total keeps the graph


def test_finite_values_whose_sum_overflows_are_not_called_non_finite():
    # The check sums the logged values first and looks closer only when the
    # sum is not finite; two logged values of 1e308 overflow that sum, yet
    # every value (and the total, 1) is finite.
    class LogsBig(LossModule):
        default_loss_name = "loss_big"

        def compute(self, pred):
            big = torch.tensor(1e308, dtype=torch.float64)
            self.extra_log_vars = {"big_a": big, "big_b": big}
            return pred.sum()

    agg = build_aggregator([{"type": LogsBig, "data_info": {"pred": "p"}}])
    log_vars = agg({"p": torch.ones(1)}).log_vars
    assert log_vars == {"loss_big": 1.0, "loss": 1.0, "big_a": 1e308, "big_b": 1e308}


# -- what plugins give back is checked, naming the plugin (issue 14.5b) -------------


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (lambda total: total, r"returned tensor\(5\.\); it must return \(total, log_vars\)"),
        (lambda total: (total, [total]), r"returned \(Tensor, list\)"),
        (
            lambda total: (total, {"loss": 5.0}),
            r"returned log values that are not one-element tensors \(loss: 5\.0\)",
        ),
        (lambda total: (total, {"loss": total.repeat(2)}), r"returned log values that are not"),
    ],
    ids=["a-tensor", "a-list", "floats", "a-vector"],
)
def test_a_parse_implementation_of_the_wrong_shape_is_an_error_naming_it(returned, problem):
    from ganlosscore import GanLossError
    from ganlosscore.hooks import new_plugin_manager

    class Parser:
        @hookimpl
        def ganloss_parse_losses(self, losses):
            return returned(sum(losses.values()))

    pm = new_plugin_manager(installed=False)
    pm.register(Parser(), name="my-parser")
    agg = build_aggregator([shift("p")], plugin_manager=pm)
    with pytest.raises(
        GanLossError, match=r"ganloss_parse_losses of plugin 'my-parser' " + problem
    ):
        agg({"p": torch.tensor([1.0, 3.0])})  # mean(x**2) = 5


@pytest.mark.parametrize(
    ("returned", "problem"),
    [
        (lambda log_vars: log_vars, r"returned Tensor tensor\(5\.\) for 'loss_disc_shift'"),
        (lambda log_vars: list(log_vars), r"returned list \['loss_disc_shift', 'loss'\]"),
        (lambda log_vars: {k: True for k in log_vars}, r"returned bool True"),
    ],
    ids=["tensors", "a-list", "bools"],
)
def test_a_reduce_implementation_of_the_wrong_shape_is_an_error_naming_it(returned, problem):
    from ganlosscore import GanLossError
    from ganlosscore.hooks import new_plugin_manager

    class Reducer:
        @hookimpl
        def ganloss_reduce_log_vars(self, log_vars):
            return returned(log_vars)

    pm = new_plugin_manager(installed=False)
    pm.register(Reducer(), name="my-reducer")
    result = build_aggregator([shift("p")], plugin_manager=pm, nonfinite="ignore")(
        {"p": torch.tensor([1.0, 3.0])}
    )
    with pytest.raises(
        GanLossError, match=r"ganloss_reduce_log_vars of plugin 'my-reducer' " + problem
    ):
        result.log_vars  # noqa: B018


def test_a_reduce_implementation_may_return_integers():
    from ganlosscore.hooks import new_plugin_manager

    class Rounded:
        @hookimpl
        def ganloss_reduce_log_vars(self, log_vars, step):
            return {k: round(float(v)) for k, v in log_vars.items()} | {"step": step}

    pm = new_plugin_manager(installed=False)
    pm.register(Rounded())
    result = build_aggregator([shift("p")], plugin_manager=pm)({"p": torch.ones(1), "iteration": 3})
    assert result.log_vars == {"loss_disc_shift": 1.0, "loss": 1.0, "step": 3.0}
    assert all(type(v) is float for v in result.log_vars.values())


# -- copies share the plugin manager (issue 14.6) -----------------------------------


class Triple:
    @hookimpl
    def ganloss_compute_loss(self, loss, outputs):
        return 3 * loss(outputs)


@pytest.mark.parametrize("copy_with", ["deepcopy", "pickle"])
def test_a_copy_of_an_aggregator_with_its_own_manager_shares_the_manager(copy_with):
    import copy
    import pickle

    from ganlosscore.hooks import new_plugin_manager

    pm = new_plugin_manager(installed=False)
    pm.register(Triple())
    agg = build_aggregator([shift("p", interval=2)], plugin_manager=pm, nonfinite="defer")
    agg({"p": torch.tensor([float("nan")]), "iteration": 0})  # a record under "defer"
    if copy_with == "deepcopy":
        twin = copy.deepcopy(agg)
    else:
        twin = pickle.loads(pickle.dumps(agg))
    assert twin.plugin_manager is pm  # shared, not copied (before: a TypeError)
    assert twin.losses[0] is not agg.losses[0]
    # 3 * mean([2]**2) = 12: the copy runs through the shared manager's plugin
    assert twin({"p": torch.tensor([2.0]), "iteration": 2}).total.item() == 12.0
    with pytest.raises(NonFiniteLossError):  # the state came along: the NaN of the original
        twin.check_finite()
    with pytest.raises(NonFiniteLossError):  # ...and the original keeps its own
        agg.check_finite()


def test_an_aggregator_unpickled_where_its_manager_does_not_exist_says_so():
    import pickle

    from ganlosscore.hooks import new_plugin_manager

    pm = new_plugin_manager(installed=False)
    data = pickle.dumps(build_aggregator([shift("p")], plugin_manager=pm))
    del pm  # as in another process: the token finds no manager
    import gc

    gc.collect()
    twin = pickle.loads(data)
    with pytest.raises(ConfigError, match="pickled with a plugin manager of its own"):
        twin({"p": torch.ones(1)})
    twin.plugin_manager = new_plugin_manager(installed=False)
    assert twin({"p": torch.ones(1)}).log_vars["loss"] == 1.0


# -- errors from inside a loss carry a note (issue 17.6) ---------------------------


def test_an_error_inside_a_loss_gets_a_note_naming_phase_loss_distribution_and_keys():
    aggregator = build_aggregator(
        [
            {"type": "DiscShiftLoss", "data_info": {"pred": "disc_pred_real"}},
            {
                "type": "R1GradientPenalty",
                "data_info": {"discriminator": "disc", "real_data": "real"},
            },
        ],
        name="disc",
    )
    outputs = {
        "disc_pred_real": torch.tensor([1.0]),
        "disc": torch.nn.Linear(3, 1),  # float32 weights
        "real": torch.zeros(2, 3, dtype=torch.float64),  # torch refuses to mix the dtypes
    }
    with pytest.raises(RuntimeError, match="same dtype") as caught:
        aggregator(outputs)
    assert type(caught.value) is RuntimeError  # torch's own error, unchanged
    (note,) = caught.value.__notes__
    assert note == (
        "ganlosscore: raised while aggregator 'disc' computed loss_r1_gp (R1GradientPenalty "
        f"from ganloss-regularizers {_version('ganloss-regularizers')}); it reads outputs "
        "discriminator='disc' (a Linear module), "
        "real_data='real' (float64 tensor of shape (2, 3) on cpu)"
    )


def test_the_note_also_reaches_errors_raised_through_a_compute_hook(ganloss_hooks, outputs):
    class Failing:
        @hookimpl
        def ganloss_compute_loss(self, loss):
            raise ValueError("from a plugin")

    ganloss_hooks(Failing())
    aggregator = build_aggregator([shift("disc_pred_real")])
    with pytest.raises(ValueError, match="from a plugin") as caught:
        aggregator(outputs)
    (note,) = caught.value.__notes__
    assert "aggregator 'disc' computed loss_disc_shift (ShiftLoss from <local>)" in note
    assert "pred='disc_pred_real' (float32 tensor of shape (2,) on cpu)" in note


def test_a_successful_aggregation_adds_no_note_and_a_missing_key_is_named(outputs):
    aggregator = build_aggregator([shift("nope")])
    with pytest.raises(KeyError) as caught:
        aggregator(outputs)
    assert caught.value.__notes__[-1].endswith("it reads outputs pred='nope' (missing)")


# -- provenance (issue 17.2) --------------------------------------------------------


def _version(distribution):
    from importlib.metadata import version

    return version(distribution)


def test_provenance_names_each_loss_distribution_and_is_json(local_losses):
    import json

    from ganloss_regularizers import DiscShiftLoss

    aggregator = build_aggregator(
        [
            {
                "type": "DiscAdversarialLoss",
                "gan_type": "ns",
                "data_info": {"pred_real": "r", "pred_fake": "f"},
            },
            DiscShiftLoss(data_info={"pred": "r"}),  # imported, not built by name
            {"type": "PairLoss", "data_info": {"a": "r", "b": "f"}},  # register_loss
        ],
        name="disc",
    )
    record = aggregator.provenance().as_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["aggregator"] == "disc"
    assert record["ganlosscore"] == _version("ganlosscore")
    assert [(o["loss_name"], o["distribution"], o["version"]) for o in record["losses"]] == [
        ("loss_disc_adv", "ganloss-adversarial", _version("ganloss-adversarial")),
        ("loss_disc_shift", "ganloss-regularizers", _version("ganloss-regularizers")),
        ("loss_pair", "<local>", None),
    ]
    assert record["losses"][1]["type"] == "ganloss_regularizers.shift:DiscShiftLoss"
    assert record["hook_plugins"] == []


def test_provenance_names_the_hook_plugins_of_the_manager(ganloss_distribution, outputs):
    from ganlosscore import new_plugin_manager

    ganloss_distribution(
        "ganloss-ramp",
        version="2.5",
        hooks={"ramp": "ganloss_ramp"},
        modules={
            "ganloss_ramp/__init__.py": """
                from ganlosscore import hookimpl

                @hookimpl
                def ganloss_merge_loss(current, new):
                    return current + new
            """
        },
    )
    pm = new_plugin_manager()

    class Observer:
        @hookimpl
        def ganloss_after_aggregate(self, result):
            pass

    pm.register(Observer(), name="observer")
    aggregator = build_aggregator([shift("disc_pred_real")], plugin_manager=pm)
    hooks = aggregator.provenance().as_dict()["hook_plugins"]
    assert {
        "plugin": "ganloss-ramp:ramp",
        "distribution": "ganloss-ramp",
        "version": "2.5",
        "hooks": ["ganloss_merge_loss"],
    } in hooks
    assert {
        "plugin": "observer",
        "distribution": "<local>",
        "version": None,
        "hooks": ["ganloss_after_aggregate"],
    } in hooks

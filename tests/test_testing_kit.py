"""The conformance kit can fail, and its fixtures leave nothing behind."""

import json
import os
import subprocess
import sys

import importlib_metadata
import pytest
import torch
from _losses import RunningMeanLoss, ShiftLoss

from ganlosscore import (
    ConfigError,
    LossModule,
    available_losses,
    get_plugin_manager,
    hookimpl,
)
from ganlosscore.testing import (
    CHECKS,
    ConformanceError,
    RankResult,
    check_loss,
    check_refused,
    install_distribution,
    outcomes_by_step,
    step_outcomes,
    temporary_distribution,
)

pytest_plugins = ["pytester"]

PRED = {"pred": "disc_pred_real"}


def pred_outputs(dtype):
    return {"disc_pred_real": torch.randn(4, 1, dtype=dtype, requires_grad=True)}


def pair_outputs(dtype):
    return {
        "a": torch.randn(3, dtype=dtype, requires_grad=True),
        "b": torch.randn(3, dtype=dtype, requires_grad=True),
    }


# -- losses that keep the protocol --------------------------------------------------


class NoisyLoss(LossModule):
    """Draws noise from torch's generator: the kit re-seeds, so every comparison holds."""

    default_loss_name = "loss_noisy"

    def compute(self, pred):
        return ((pred + torch.randn_like(pred)) ** 2).mean()


class DefaultInfoLoss(ShiftLoss):
    default_data_info = PRED


class ModuleLoss(LossModule):
    default_loss_name = "loss_module"

    def compute(self, net, x):
        return net(x).pow(2).mean()


class FeaturesLoss(LossModule):
    default_loss_name = "loss_features"

    def compute(self, feats):
        return sum(f.abs().mean() for f in feats)


def module_outputs(dtype):
    return {
        "net": torch.nn.Linear(3, 2).to(dtype),
        "x": torch.randn(4, 3, dtype=dtype, requires_grad=True),
    }


def feature_outputs(dtype):
    return {"feats": [torch.randn(2, 3, dtype=dtype, requires_grad=True) for _ in range(2)]}


@pytest.mark.parametrize(
    ("config", "make_outputs"),
    [
        ({"type": ShiftLoss, "data_info": PRED}, pred_outputs),
        ({"type": RunningMeanLoss, "data_info": PRED}, pred_outputs),
        ({"type": NoisyLoss, "data_info": PRED}, pred_outputs),
        ({"type": DefaultInfoLoss}, pred_outputs),
        ({"type": ModuleLoss, "data_info": {"net": "net", "x": "x"}}, module_outputs),
        ({"type": FeaturesLoss, "data_info": {"feats": "feats"}}, feature_outputs),
    ],
    ids=["shift", "buffer-state", "random", "default-data-info", "module-input", "list-input"],
)
def test_a_conforming_loss_passes_every_check(config, make_outputs):
    report = check_loss(config, make_outputs)
    assert report.passed == CHECKS
    assert report.skipped == {}


def test_the_config_weight_and_interval_are_ignored_and_names_resolve(local_losses):
    config = {"type": "ShiftLoss", "data_info": PRED, "loss_weight": 0.0, "interval": 5}
    report = check_loss(config, pred_outputs)
    assert report.loss_type == "ShiftLoss"
    assert report.passed == CHECKS


# -- losses that break it, one way each ----------------------------------------------


class FixedNameLoss(ShiftLoss):
    def loss_name(self):  # ignores loss_name=
        return "loss_fixed"


class SquaredWeightLoss(ShiftLoss):
    def weight_loss(self, loss, *args, **kwargs):
        return loss * self.loss_weight**2


class DoubledOutputsLoss(ShiftLoss):
    def resolve_inputs(self, outputs):  # the data_info path sees other inputs than a direct call
        return {"pred": 2 * outputs["disc_pred_real"]}


class DetachedLoss(ShiftLoss):
    def compute(self, pred):
        return (pred.detach() ** 2).mean()


class HalfDetachedLoss(LossModule):
    default_loss_name = "loss_half"

    def compute(self, a, b):
        return (a - b.detach()).pow(2).mean()


class FrozenModuleLoss(ModuleLoss):
    def compute(self, net, x):
        with torch.no_grad():
            y = net(x)
        return (y * x[:, :2]).mean()


class FirstFeatureLoss(FeaturesLoss):
    def compute(self, feats):
        return feats[0].abs().mean()


class AlwaysDueLoss(ShiftLoss):
    def is_due(self, outputs):
        return True


class CountingLoss(ShiftLoss):
    """Keeps a step count in a plain attribute: it does not travel with the state_dict."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.steps = 0

    def compute(self, pred):
        self.steps += 1
        return (pred**2).mean() * self.steps


class InfiniteLoss(ShiftLoss):
    def compute(self, pred):
        return (pred - pred).abs().log().mean()  # log(0) = -inf


class Float32Loss(ShiftLoss):
    def compute(self, pred):
        return (pred**2).mean().float()


class BuildCountLoss(ShiftLoss):
    """Each instance differs from the last, as if seeded from a global counter."""

    built = 0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        type(self).built += 1
        self.offset = float(type(self).built)

    def compute(self, pred):
        return (pred**2).mean() + self.offset


GRAD = {"a": "a", "b": "b"}


@pytest.mark.parametrize(
    ("config", "make_outputs", "failed", "message"),
    [
        ({"type": FixedNameLoss}, pred_outputs, {"naming"}, "loss_name() 'loss_fixed'"),
        ({"type": SquaredWeightLoss}, pred_outputs, {"weight"}, "loss_weight=2.5"),
        ({"type": DoubledOutputsLoss}, pred_outputs, {"direct"}, "the direct call loss(pred)"),
        ({"type": DetachedLoss}, pred_outputs, {"gradients"}, "the value does not"),
        ({"type": HalfDetachedLoss, "data_info": GRAD}, pair_outputs, {"gradients"}, "'b'"),
        (
            {"type": FrozenModuleLoss, "data_info": {"net": "net", "x": "x"}},
            module_outputs,
            {"gradients"},
            "no parameter of module input 'net'",
        ),
        (
            {"type": FirstFeatureLoss, "data_info": {"feats": "feats"}},
            feature_outputs,
            {"gradients"},
            "input 'feats[1]' received no gradient",
        ),
        ({"type": AlwaysDueLoss}, pred_outputs, {"interval"}, "expected None"),
        ({"type": CountingLoss}, pred_outputs, {"state_dict"}, "loaded from the state_dict"),
        # -inf, and its gradient through log(0) is not finite either
        ({"type": InfiniteLoss}, pred_outputs, {"finite", "gradients"}, "not finite"),
        ({"type": Float32Loss}, pred_outputs, {"finite"}, "gave a value of dtype torch.float32"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_a_broken_loss_fails_exactly_the_check_it_breaks(config, make_outputs, failed, message):
    config = {"data_info": PRED, **config}
    with pytest.raises(ConformanceError) as info:
        check_loss(config, make_outputs)
    assert info.value.failed_checks == failed
    assert message in str(info.value)


def test_a_loss_that_differs_between_builds_fails_rebuild():
    with pytest.raises(ConformanceError) as info:
        check_loss({"type": BuildCountLoss, "data_info": PRED}, pred_outputs)
    # Every comparison between two builds fails; the one about rebuilding is among them.
    assert "rebuild" in info.value.failed_checks
    assert "a second build from the same config" in str(info.value)


def test_every_failure_is_reported_at_once_with_its_dtype():
    class TwiceBroken(FixedNameLoss, SquaredWeightLoss):
        pass

    with pytest.raises(ConformanceError) as info:
        check_loss({"type": TwiceBroken, "data_info": PRED}, pred_outputs)
    assert info.value.failed_checks == {"naming", "weight"}
    # naming once; weight once per dtype
    assert [check for check, _ in info.value.failures] == ["naming", "weight", "weight"]
    message = str(info.value)
    assert message.startswith("TwiceBroken fails the protocol:")
    assert "[weight, float32]" in message and "[weight, float64]" in message


def test_a_loss_returning_nothing_fails_and_the_kit_goes_on():
    class SilentLoss(ShiftLoss):
        def compute(self, pred):
            return None

    with pytest.raises(ConformanceError, match=r"\[finite, float32\] the loss returned NoneType"):
        check_loss({"type": SilentLoss, "data_info": PRED}, pred_outputs)


def test_an_exception_inside_a_check_is_a_failure_not_a_crash():
    class Float64Only(ShiftLoss):
        def compute(self, pred):
            if pred.dtype != torch.float64:
                raise RuntimeError("expected double")
            return (pred**2).mean()

    with pytest.raises(ConformanceError) as info:
        check_loss({"type": Float64Only, "data_info": PRED}, pred_outputs)
    assert "[finite, float32] raised RuntimeError: expected double" in str(info.value)
    # float64 works, so only the reference evaluation in float32 failed
    assert [check for check, _ in info.value.failures] == ["finite"]


def test_skips_are_reported_with_their_reason():
    report = check_loss(
        {"type": SquaredWeightLoss, "data_info": PRED},
        pred_outputs,
        skip={"weight": "weighted quadratically on purpose"},
    )
    assert report.skipped == {"weight": "weighted quadratically on purpose"}
    assert report.passed == tuple(c for c in CHECKS if c != "weight")
    report = check_loss(
        {"type": SquaredWeightLoss, "data_info": PRED}, pred_outputs, **{"weight_linear": False}
    )
    assert report.skipped == {"weight": "weight_linear=False"}
    with pytest.raises(ValueError, match=r"unknown check\(s\) \['wieght'\]"):
        check_loss({"type": ShiftLoss, "data_info": PRED}, pred_outputs, skip={"wieght": "x"})


def test_inputs_without_gradients_skip_the_gradient_check():
    def constant_outputs(dtype):
        return {"disc_pred_real": torch.randn(4, dtype=dtype)}

    report = check_loss({"type": ShiftLoss, "data_info": PRED}, constant_outputs)
    assert report.skipped == {"gradients": "no input requires grad"}


def test_a_config_that_cannot_be_checked_says_why():
    with pytest.raises(ConformanceError, match="needs a config with data_info"):
        check_loss({"type": ShiftLoss}, pred_outputs)

    class BadName(ShiftLoss):
        default_loss_name = "shift"

    with pytest.raises(ConformanceError, match="cannot be built .* must be a string starting"):
        check_loss({"type": BadName, "data_info": PRED}, pred_outputs)


def test_one_dtype_can_be_chosen():
    report = check_loss(
        {"type": Float32Loss, "data_info": PRED}, pred_outputs, dtypes=(torch.float32,)
    )
    assert report.passed == CHECKS


def test_the_callers_random_state_is_left_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_loss({"type": NoisyLoss, "data_info": PRED}, pred_outputs)  # re-seeds inside
    assert torch.equal(torch.rand(3), expected)


# -- distributions and fixtures ------------------------------------------------------

KIT_MODULE = """
from ganlosscore import LossModule

class KitLoss(LossModule):
    default_loss_name = "loss_kit"

    def compute(self, pred):
        return pred.mean()
"""


def test_install_distribution_writes_metadata_importlib_reads(tmp_path):
    root = install_distribution(
        tmp_path,
        "Ganloss_Kit",
        version="2.0.1",
        losses={"KitLoss": "kit_pkg.losses:KitLoss"},
        hooks={"kit": "kit_pkg.hooks"},
        modules={"kit_pkg/__init__.py": "", "kit_pkg/losses.py": KIT_MODULE},
        protocol=1,
        requires=("ganlosscore>=0.1",),
    )
    (dist,) = importlib_metadata.distributions(path=[str(root)])
    assert (dist.metadata["Name"], dist.version) == ("Ganloss_Kit", "2.0.1")
    assert dist.requires == ["ganlosscore>=0.1"]
    eps = {(ep.group, ep.name): ep.value for ep in dist.entry_points}
    assert eps == {
        ("ganlosscore.losses", "KitLoss"): "kit_pkg.losses:KitLoss",
        ("ganlosscore.hooks", "kit"): "kit_pkg.hooks",
        ("ganlosscore.protocol", "1"): "ganloss_kit",
    }
    assert (root / "kit_pkg" / "losses.py").read_text().lstrip().startswith("from ganlosscore")


def test_temporary_distribution_is_gone_after_the_block(tmp_path):
    root = tmp_path / "kit-site"
    before = list(sys.path)
    with temporary_distribution(
        root,
        "ganloss-kit",
        losses={"KitLoss": "kit_pkg.losses:KitLoss"},
        modules={"kit_pkg/__init__.py": "", "kit_pkg/losses.py": KIT_MODULE},
    ):
        assert sys.path[0] == str(root)
        assert [r.distribution for r in available_losses() if r.name == "KitLoss"] == [
            "ganloss-kit"
        ]
        from ganlosscore import build_loss

        assert build_loss({"type": "KitLoss"})(torch.tensor([1.0, 3.0])).item() == 2.0
        assert "kit_pkg.losses" in sys.modules
    assert sys.path == before
    assert "kit_pkg.losses" not in sys.modules and "kit_pkg" not in sys.modules
    assert "KitLoss" not in {r.name for r in available_losses(include_disabled=True)}


INNER_TESTS = """
import sys

from ganlosscore import LossModule, available_losses, build_loss, get_plugin_manager, hookimpl


class InnerLoss(LossModule):
    default_loss_name = "loss_inner"

    def compute(self, pred):
        return pred.sum()


DIST_MODULE = '''
from ganlosscore import LossModule

class InnerLoss(LossModule):
    default_loss_name = "loss_inner_dist"

    def compute(self, pred):
        return pred.sum()
'''


class InnerHooks:
    @hookimpl
    def ganloss_after_aggregate(self, result):
        pass


def test_uses_every_fixture(ganloss_registry, ganloss_distribution, ganloss_hooks, ganloss_cli):
    ganloss_distribution(
        "ganloss-inner",
        losses={"InnerDistLoss": "inner_pkg:InnerLoss"},
        modules={"inner_pkg/__init__.py": DIST_MODULE},
    )
    ganloss_registry.register(InnerLoss)
    ganloss_hooks(InnerHooks())
    names = {r.name: r.distribution for r in available_losses()}
    assert names["InnerLoss"] == "<local>" and names["InnerDistLoss"] == "ganloss-inner"
    assert build_loss({"type": "InnerDistLoss"}).loss_name() == "loss_inner_dist"
    assert any(isinstance(p, InnerHooks) for p in get_plugin_manager().get_plugins())
    result = ganloss_cli("list", "--json")
    assert result.status == 0 and "InnerDistLoss" in result.out
"""


def test_the_fixtures_clean_up_after_themselves(pytester):
    pytester.makepyfile(test_inner=INNER_TESTS)
    plugins_before = set(get_plugin_manager().get_plugins())
    path_before = list(sys.path)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["ganlosscore * (loss protocol *), plugins: *"])
    names = {r.name for r in available_losses(include_disabled=True)}
    assert "InnerLoss" not in names and "InnerDistLoss" not in names
    assert "inner_pkg" not in sys.modules
    assert sys.path == path_before
    leftover = set(get_plugin_manager().get_plugins()) - plugins_before
    assert not [p for p in leftover if type(p).__name__ == "InnerHooks"]


def test_ganloss_registry_keeps_registrations_made_before_the_test(ganloss_registry):
    from ganlosscore import register_loss
    from ganlosscore.registry import unregister_loss

    class EarlyLoss(ShiftLoss):
        pass

    register_loss(EarlyLoss)
    try:
        ganloss_registry.register(EarlyLoss)  # the same class again: a no-op
        ganloss_registry._undo()
        assert "EarlyLoss" in {r.name for r in available_losses()}
    finally:
        unregister_loss("EarlyLoss")


class NoOpHooks:
    @hookimpl
    def ganloss_after_aggregate(self, result):
        pass


def test_ganloss_hooks_unregisters_at_teardown(ganloss_hooks):
    plugin = ganloss_hooks(NoOpHooks())
    assert get_plugin_manager().is_registered(plugin)


def test_ganloss_hooks_on_a_plugin_already_registered_says_so(ganloss_hooks):
    plugin = ganloss_hooks(NoOpHooks())
    # as an installed hook module would be: pluggy's bare ValueError before
    with pytest.raises(ConfigError, match="is already registered on the plugin manager as"):
        ganloss_hooks(plugin)
    assert get_plugin_manager().is_registered(plugin)  # still there, once


def test_the_pytest_plugin_is_declared_and_imports_no_torch():
    (entry,) = importlib_metadata.entry_points(group="pytest11", name="ganlosscore")
    assert entry.value == "ganlosscore.testing.plugin"
    code = (
        "import json, sys, ganlosscore.testing.plugin, ganlosscore.testing; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANLOSS_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout) == []


def test_ganloss_fake_world_records_what_a_sum_over_ranks_sends(ganloss_fake_world):
    from ganlosscore import is_distributed, sum_over_ranks

    assert is_distributed()
    summed = sum_over_ranks(torch.tensor([1.5, 2.5], dtype=torch.float16))
    # gloo: first the size header [n, -n] in int64, then the values in float64; the other
    # rank sends "zeros", so the sum is this rank's values, back in their own dtype
    assert ganloss_fake_world == [(torch.int64, "cpu", 2), (torch.float64, "cpu", 2)]
    assert summed.dtype == torch.float16 and summed.tolist() == [1.5, 2.5]


# -- step outcomes of multi-process tests --------------------------------------------


def test_step_outcomes_stop_at_the_first_failure():
    def step(x):
        if x == 2:
            raise ValueError("two")
        return 10 * x

    assert step_outcomes(step, [1, 2, 3]) == [("ok", 10), ("ValueError", "two")]


def test_outcomes_by_step_reads_each_rank_and_refuses_a_failed_one():
    results = [
        RankResult(rank=0, value=[("ok", 1)], exitcode=0),
        RankResult(rank=1, value=[("ok", 2), ("DistributedMismatchError", "m")], exitcode=0),
    ]
    assert outcomes_by_step(results) == {
        (0, 0): ("ok", 1),
        (1, 0): ("ok", 2),
        (1, 1): ("DistributedMismatchError", "m"),
    }
    with pytest.raises(AssertionError, match="hung=True"):
        outcomes_by_step([*results, RankResult(rank=2, hung=True)])


# -- check_refused: hyperparameters are checked where they enter -----------------------


class ScaledShift(ShiftLoss):
    """Refuses a negative ``scale`` at its place; takes any ``offset`` (the kit must say so)."""

    def __init__(self, scale=1.0, offset=0.0, shift=0.0, **kwargs):
        super().__init__(**kwargs)
        if scale < 0:
            raise ConfigError("scale must be >= 0", where="ScaledShift.scale")
        if shift < 0:
            raise ConfigError("shift must be >= 0", where="ScaledShift.scale")  # the wrong place


def test_check_refused_passes_a_value_refused_at_its_place():
    check_refused(ScaledShift, scale=-1.0)


def test_check_refused_lists_every_value_accepted_or_refused_elsewhere():
    with pytest.raises(ConformanceError) as info:
        check_refused(ScaledShift, scale=-1.0, offset=-1.0, shift=-1.0)
    assert info.value.failed_checks == {"refused"}
    assert str(info.value) == (
        "ScaledShift: offset=-1.0 is accepted; "
        "shift=-1.0 is refused at 'ScaledShift.scale', not 'ScaledShift.shift'"
    )

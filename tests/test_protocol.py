import re
from typing import ClassVar

import numpy as np
import pytest
import torch
from _losses import PairLoss, ShiftLoss

from ganlosscore import ConfigError, DataInfoError, LossInputError, LossModule, NotALossError
from ganlosscore.errors import CallSignatureError, brief


def test_the_seed_tutorials_loss_is_a_few_lines():
    # ShiftLoss in conftest.py is the whole class: a name and compute().
    loss = ShiftLoss(loss_weight=0.5, data_info={"pred": "disc_pred_real"})
    # mean([1, 9]) = 5, times 0.5
    assert loss({"disc_pred_real": torch.tensor([1.0, 3.0])}).item() == 2.5


def test_direct_call_and_outputs_dict_call(outputs):
    direct = ShiftLoss(loss_weight=2.0)
    via_dict = ShiftLoss(loss_weight=2.0, data_info={"pred": "disc_pred_real"})
    assert direct(outputs["disc_pred_real"]).item() == 10.0
    assert via_dict(outputs).item() == 10.0
    assert via_dict(outputs_dict=outputs).item() == 10.0


def test_loss_name_default_and_override():
    assert ShiftLoss().loss_name() == "loss_disc_shift"
    assert ShiftLoss(loss_name="loss_shift_fake").loss_name() == "loss_shift_fake"


@pytest.mark.parametrize("bad", ["disc_shift", "Loss_x", "", 3])
def test_loss_name_must_start_with_loss_(bad):
    with pytest.raises(ConfigError, match="must be a string starting with 'loss_'"):
        ShiftLoss(loss_name=bad)


def test_a_class_without_a_name_is_refused():
    class Nameless(LossModule):
        def compute(self, pred):
            return pred.mean()

    with pytest.raises(ConfigError, match="default_loss_name"):
        Nameless()


def test_signature_is_read_once_per_class():
    assert [(s.name, s.required) for s in PairLoss.input_specs] == [
        ("a", True),
        ("b", True),
        ("mask", False),
    ]


def test_unknown_data_info_argument_fails_at_construction_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"data_info.prde.*no input 'prde'.*Did you mean 'pred'"):
        ShiftLoss(data_info={"prde": "disc_pred_real"})


def test_unmapped_required_argument_fails_at_construction():
    with pytest.raises(ConfigError, match=r"required input\(s\) \['b'\]"):
        PairLoss(data_info={"a": "x"})


def test_optional_argument_may_stay_unmapped():
    loss = PairLoss(data_info={"a": "x", "b": "y"})
    # mean([3, 4] - [1, 1]) = 2.5
    assert loss({"x": torch.tensor([3.0, 4.0]), "y": torch.ones(2)}).item() == 2.5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("pred", "data_info must map"),
        ({"pred": 3}, "both strings"),
    ],
)
def test_malformed_data_info(bad, message):
    with pytest.raises(ConfigError, match=message):
        ShiftLoss(data_info=bad)


def test_missing_outputs_key_names_loss_argument_key_present_keys_and_closest():
    loss = ShiftLoss(data_info={"pred": "disc_pred_reel"})
    with pytest.raises(DataInfoError) as info:
        loss({"disc_pred_real": torch.ones(1), "iteration": 0})
    message = str(info.value)
    assert "loss_disc_shift.data_info.pred" in message
    assert "'disc_pred_reel'" in message
    assert "['disc_pred_real', 'iteration']" in message
    assert "Did you mean 'disc_pred_real'" in message
    assert isinstance(info.value, KeyError)  # still catchable as the seed's KeyError


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (({}, {}), {}),
        ((), {"outputs": {}}),
        (({},), {"extra": 1}),
    ],
)
def test_other_call_shapes_list_the_accepted_forms(args, kwargs):
    loss = ShiftLoss(data_info={"pred": "p"})
    with pytest.raises(
        CallSignatureError, match=r"loss\(outputs\) or loss\(outputs_dict=outputs\)"
    ):
        loss(*args, **kwargs)


def test_outputs_dict_without_data_info_is_explained():
    with pytest.raises(CallSignatureError, match="has no data_info"):
        ShiftLoss()({"pred": torch.ones(1)})


def test_wrong_direct_arguments_are_our_error_but_inner_type_errors_are_not():
    with pytest.raises(CallSignatureError, match=r"loss\(pred\)"):
        ShiftLoss()(torch.ones(1), torch.ones(1))

    class Buggy(LossModule):
        default_loss_name = "loss_buggy"

        def compute(self, pred):
            return pred + "x"  # a bug inside the loss stays a plain TypeError

    with pytest.raises(TypeError) as info:
        Buggy()(torch.ones(1))
    assert not isinstance(info.value, CallSignatureError)


def test_interval_skips_off_iterations():
    loss = ShiftLoss(data_info={"pred": "p"}, interval=4)
    p = torch.tensor([2.0])
    assert loss({"p": p, "iteration": 3}) is None
    assert loss({"p": p, "iteration": 8}).item() == 4.0
    assert loss({"p": p, "iteration": torch.tensor(0)}).item() == 4.0


def test_on_interval_skip_is_called_instead_of_compute_at_a_skipped_iteration():
    class Joins(ShiftLoss):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.skipped = []

        def on_interval_skip(self, outputs):
            self.skipped.append(outputs["iteration"])

    loss = Joins(data_info={"pred": "p"}, interval=2)
    p = torch.tensor([2.0])
    assert [loss({"p": p, "iteration": i}) is None for i in range(4)] == [False, True, False, True]
    assert loss.skipped == [1, 3]


def test_interval_without_iteration_is_a_data_info_error():
    loss = ShiftLoss(data_info={"pred": "p"}, interval=2)
    with pytest.raises(DataInfoError, match=r"outputs\['iteration'\]"):
        loss({"p": torch.ones(1)})


@pytest.mark.parametrize("iteration", [None, 4.7, 4.0, "8", True, torch.tensor(8.0)])
def test_an_iteration_that_is_not_an_integer_is_refused(iteration):
    # 4.7 used to count as step 4; None raised a bare TypeError from int()
    loss = ShiftLoss(data_info={"pred": "p"}, interval=2)
    with pytest.raises(LossInputError, match=r"reads outputs\['iteration'\] as the training step"):
        loss({"p": torch.ones(1), "iteration": iteration})


def test_integer_like_iterations_are_accepted():
    loss = ShiftLoss(data_info={"pred": "p"}, interval=3)
    p = torch.tensor([3.0])
    assert loss({"p": p, "iteration": torch.tensor(6, dtype=torch.int32)}).item() == 9.0
    assert loss({"p": p, "iteration": torch.tensor([7])}) is None


def test_a_subclass_without_compute_cannot_be_built():
    class Unfinished(LossModule):
        default_loss_name = "loss_unfinished"

    with pytest.raises(NotALossError, match=r"Unfinished defines no compute\(\)"):
        Unfinished()


def test_positional_only_inputs_are_refused_when_the_class_is_defined():
    with pytest.raises(NotALossError, match=r"positional-only parameter\(s\) \['pred'\]"):

        class Hidden(LossModule):
            default_loss_name = "loss_hidden"

            def compute(self, pred, /, scale=1.0):
                return pred.mean() * scale


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": 0}, r"interval: must be an integer >= 1, got 0"),
        ({"interval": 2.0}, r"interval: must be an integer >= 1, got 2.0"),
        ({"interval": 2}, "needs data_info"),
        ({"loss_weight": "1"}, r"loss_weight: must be a finite number, got '1'"),
        ({"loss_weight": float("nan")}, "finite"),
        # an integer too large for a float: a ConfigError, not OverflowError (issue 14.1)
        ({"loss_weight": 10**400}, r"loss_weight: must be a finite number, got 1000"),
    ],
)
def test_bad_common_keywords(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ShiftLoss(**kwargs)


def test_compute_returning_none_skips_weighting():
    class Sometimes(LossModule):
        default_loss_name = "loss_sometimes"

        def compute(self, pred):
            return None if pred.sum() < 0 else pred.sum()

    loss = Sometimes(loss_weight=3.0)
    assert loss(torch.tensor([-1.0])) is None
    assert loss(torch.tensor([2.0])).item() == 6.0


def test_weight_loss_receives_the_inputs_on_both_paths():
    class GeneratorOnlyWeight(LossModule):
        """Weights only when is_disc is False, as MMGeneration's GANLoss."""

        default_loss_name = "loss_gan"

        def compute(self, pred, is_disc=False):
            return pred.mean()

        def weight_loss(self, loss, pred, is_disc=False):
            return loss if is_disc else loss * self.loss_weight

    loss = GeneratorOnlyWeight(loss_weight=2.0)
    x = torch.tensor([3.0])
    assert loss(x).item() == 6.0
    assert loss(x, is_disc=True).item() == 3.0
    mapped = GeneratorOnlyWeight(loss_weight=2.0, data_info={"pred": "p", "is_disc": "d"})
    assert mapped({"p": x, "d": True}).item() == 3.0
    assert mapped({"p": x, "d": False}).item() == 6.0


def test_unit_weight_returns_the_computed_tensor_itself():
    # loss_weight 1.0 costs no extra op on the hot path
    class Same(LossModule):
        default_loss_name = "loss_same"

        def compute(self, pred):
            return pred

    x = torch.tensor(1.0)
    assert Same()(x) is x


def test_gradients_flow_through_the_data_info_path():
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    ShiftLoss(loss_weight=2.0, data_info={"pred": "p"})({"p": p}).backward()
    # d/dp 2 * mean(p**2) = 2 * 2p / 2 = 2p
    assert torch.equal(p.grad, torch.tensor([2.0, -4.0]))


def test_repr_shows_the_configuration():
    text = repr(ShiftLoss(loss_weight=0.5, data_info={"pred": "p"}, interval=2))
    assert "loss_weight=0.5" in text and "interval=2" in text and "'pred': 'p'" in text


def test_a_class_default_data_info_applies_unless_opted_out():
    class WithDefault(ShiftLoss):
        default_data_info: ClassVar[dict[str, str]] = {"pred": "disc_pred_real"}

    assert WithDefault().data_info == {"pred": "disc_pred_real"}
    assert WithDefault(data_info={"pred": "x"}).data_info == {"pred": "x"}
    direct = WithDefault(data_info=False)
    assert direct.data_info is None
    assert direct(torch.tensor([2.0])).item() == 4.0  # mean(2 ** 2)
    assert ShiftLoss().data_info is None  # no default: the direct form


# -- inputs of the wrong kind (issue 14.5) ------------------------------------------


class TypedShift(LossModule):
    """mean(pred ** 2), its input annotated: the protocol checks it is a floating tensor."""

    default_loss_name = "loss_typed_shift"

    def compute(self, pred: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return (pred**2).mean()


class StringAnnotated(LossModule):
    # what ``from __future__ import annotations`` leaves: strings, read as written
    default_loss_name = "loss_strings"

    def compute(self, pred: "Tensor", steps: "Tensor") -> torch.Tensor:  # noqa: F821
        return pred.mean()

    floating_inputs = frozenset({"pred"})  # steps holds integers


def test_floating_inputs_are_read_from_the_annotations_once_per_class():
    assert TypedShift.floating_inputs == frozenset({"pred"})  # not the optional mask
    assert StringAnnotated.floating_inputs == frozenset({"pred"})  # the class's own choice
    assert ShiftLoss.floating_inputs == frozenset()  # no annotation, no check

    class Strings(LossModule):
        default_loss_name = "loss_s"

        def compute(self, a: "Tensor", b: "torch.Tensor", c: "Tensor | None" = None):  # noqa: F821
            return a.mean()

    assert Strings.floating_inputs == frozenset({"a", "b"})


@pytest.mark.parametrize(
    ("value", "given"),
    [
        (None, "NoneType None"),
        (2.0, "float 2.0"),
        ("disc_pred_real", "str 'disc_pred_real'"),
        (np.ones(2, dtype=np.float32), "ndarray array"),
        (torch.ones(2, dtype=torch.complex64), r"a torch.complex64 tensor of shape \(2,\)"),
        (torch.ones(2, 3, dtype=torch.long), r"a torch.int64 tensor of shape \(2, 3\)"),
        (torch.ones(2, dtype=torch.bool), "a torch.bool tensor"),
    ],
    ids=["None", "float", "str", "numpy", "complex", "int", "bool"],
)
def test_an_input_that_is_not_a_floating_tensor_names_loss_argument_key_and_value(value, given):
    loss = TypedShift(data_info={"pred": "disc_pred"})
    with pytest.raises(LossInputError) as info:
        loss({"disc_pred": value})
    message = str(info.value)
    assert re.search(
        r"^loss_typed_shift\.pred: expected a floating-point torch\.Tensor in "
        rf"outputs\['disc_pred'\], got {given}.*torch\.as_tensor",
        message,
    ), message
    with pytest.raises(LossInputError, match=rf"^loss_typed_shift\.pred: .*got {given}"):
        TypedShift()(value)  # the direct call, by position
    with pytest.raises(LossInputError, match=rf"^loss_typed_shift\.pred: .*got {given}"):
        TypedShift()(pred=value)  # and by keyword


def test_floating_tensors_of_every_precision_pass_and_unchecked_inputs_are_left_alone():
    loss = TypedShift(data_info={"pred": "p", "mask": "m"})
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        # mean([1, 3] ** 2) = 5
        assert loss({"p": torch.tensor([1.0, 3.0], dtype=dtype), "m": "anything"}).item() == 5.0
    strings = StringAnnotated(data_info={"pred": "p", "steps": "t"})
    assert strings({"p": torch.tensor([2.0]), "t": torch.tensor([3])}).item() == 2.0
    with pytest.raises(LossInputError, match=r"loss_strings\.pred: .*outputs\['p'\]"):
        strings({"p": torch.tensor([2]), "t": torch.tensor([3])})


def test_the_floating_input_check_traces_under_torch_compile():
    loss = TypedShift(data_info={"pred": "p"})
    compiled = torch.compile(loss, backend="eager", fullgraph=True)
    # mean([1, 3] ** 2) = 5
    assert compiled({"p": torch.tensor([1.0, 3.0])}).item() == 5.0


def test_a_loss_weight_too_large_for_a_float_is_a_config_error_everywhere():
    # 10**400 overflows float(): once an OverflowError out of build_loss and collect_problems
    from ganlosscore import build_loss
    from ganlosscore.config import collect_problems

    with pytest.raises(ConfigError, match=r"ShiftLoss\.loss_weight: must be a finite number"):
        build_loss({"type": ShiftLoss, "loss_weight": 10**400})
    problems = collect_problems({"disc": [{"type": ShiftLoss, "loss_weight": 10**400}]})
    assert [str(p) for p in problems] == [
        "disc[0].ShiftLoss.loss_weight: must be a finite number, got " + brief(10**400)
    ]

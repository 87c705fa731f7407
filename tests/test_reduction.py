import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import torch

from ganlosscore import GanLossError, reduce_loss, weight_reduce_loss, weighted_loss
from ganlosscore.errors import ConfigError, LossInputError
from ganlosscore.reduction import check_reduction

# loss = [[1, 3], [5, 7]]: sum 16, mean 4, batchmean 16 / 2 = 8, flatmean [2, 6].
LOSS = torch.tensor([[1.0, 3.0], [5.0, 7.0]])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("mean", torch.tensor(4.0)),
        ("sum", torch.tensor(16.0)),
        ("batchmean", torch.tensor(8.0)),
        ("flatmean", torch.tensor([2.0, 6.0])),
        ("none", LOSS),
    ],
)
def test_reduce_loss_modes(mode, expected):
    assert torch.equal(reduce_loss(LOSS, mode), expected)


def test_flatmean_over_all_but_the_batch_dimension():
    # shape (2, 2, 2): sample 0 holds 0..3 (mean 1.5), sample 1 holds 4..7 (mean 5.5)
    loss = torch.arange(8.0).reshape(2, 2, 2)
    assert torch.equal(reduce_loss(loss, "flatmean"), torch.tensor([1.5, 5.5]))


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"reduction: must be one of 'none', 'mean', 'sum', 'batchmean'.*'avg'"
    ):
        reduce_loss(LOSS, "avg")


def test_a_misspelt_mode_gets_the_closest_suggested():
    with pytest.raises(ConfigError, match=r"Did you mean 'batchmean'\?"):
        check_reduction("batchmaen")
    with pytest.raises(ConfigError, match=r"^PixelLoss.reduction: must be one of"):
        check_reduction("x", where="PixelLoss.reduction")
    assert check_reduction("flatmean") == "flatmean"


def test_elementwise_weight_broadcasts():
    # weight [[1], [0]] keeps the first row: (1 + 3) / 4 elements = 1
    weight = torch.tensor([[1.0], [0.0]])
    assert weight_reduce_loss(LOSS, weight=weight).item() == 1.0


def test_weight_that_does_not_broadcast_names_both_shapes():
    with pytest.raises(LossInputError, match=r"\(3,\).*\(2, 2\)"):
        weight_reduce_loss(LOSS, weight=torch.ones(3))


def test_avg_factor_with_mean_divides_the_sum():
    # 16 / 8 = 2
    assert weight_reduce_loss(LOSS, reduction="mean", avg_factor=8).item() == 2.0


def test_avg_factor_is_ignored_by_none():
    assert torch.equal(weight_reduce_loss(LOSS, reduction="none", avg_factor=8), LOSS)


@pytest.mark.parametrize("mode", ["sum", "batchmean", "flatmean"])
def test_avg_factor_refused_with_the_actual_mode_named(mode):
    with pytest.raises(LossInputError, match=f"reduction='{mode}'"):
        weight_reduce_loss(LOSS, reduction=mode, avg_factor=2)


def test_avg_factor_with_unknown_mode_says_unknown():
    with pytest.raises(ConfigError, match="must be one of 'none'"):
        weight_reduce_loss(LOSS, reduction="bogus", avg_factor=2)


def test_weighted_loss_decorator_adds_keyword_only_arguments():
    @weighted_loss
    def l1(pred, target):
        return (pred - target).abs()

    pred, target = torch.tensor([1.0, -2.0]), torch.zeros(2)
    assert l1(pred, target).item() == 1.5  # (1 + 2) / 2
    assert l1(pred, target, reduction="sum").item() == 3.0
    assert l1(pred, target, weight=torch.tensor([2.0, 0.0]), reduction="sum").item() == 2.0
    with pytest.raises(TypeError):
        l1(pred, target, torch.ones(2))  # a weight can never be positional


def test_a_weight_that_would_enlarge_the_loss_is_refused():
    # [1, 2] * [[1], [0]] broadcasts to a (2, 2) product whose mean, 0.75, is not
    # the weighted mean of the two elements; the weight must fit inside the loss.
    from ganlosscore import LossInputError, weight_reduce_loss

    with pytest.raises(LossInputError, match=r"weight of shape \(2, 1\) does not broadcast"):
        weight_reduce_loss(torch.tensor([1.0, 2.0]), weight=torch.tensor([[1.0], [0.0]]))
    # a weight that broadcasts into the loss's shape is fine: mean([1*1, 2*0]) = 0.5 per row
    loss = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert weight_reduce_loss(loss, weight=torch.tensor([1.0, 0.0])).item() == 1.0  # (1+3)/4


# -- flatmean and batchmean need a batch dimension ------------------------------


def test_flatmean_of_a_1d_loss_is_that_loss():
    # A (N,) loss already holds one value per sample: the mean of each sample
    # is the sample itself. MMGeneration returns the scalar mean here (its
    # loss.mean(dim=[]) reduces every dimension), contradicting its own
    # docstring's "[bz, ]"; ours keeps the documented shape (N,).
    loss = torch.tensor([1.0, 2.0, 6.0])
    assert torch.equal(reduce_loss(loss, "flatmean"), loss)
    assert torch.equal(weight_reduce_loss(loss, reduction="flatmean"), loss)


@pytest.mark.parametrize("mode", ["batchmean", "flatmean"])
def test_a_0d_loss_has_no_batch_dimension(mode):
    with pytest.raises(
        LossInputError,
        match=rf"reduction='{mode}' needs a batch dimension .*shape \(\).*use reduction='mean'",
    ):
        reduce_loss(torch.tensor(3.0), mode)


@pytest.mark.parametrize(("mode", "expected"), [("mean", 3.0), ("sum", 3.0), ("none", 3.0)])
def test_a_0d_loss_is_fine_for_the_other_modes(mode, expected):
    assert reduce_loss(torch.tensor(3.0), mode).item() == expected


def test_an_empty_batch_gives_nan_like_torch_mean():
    # mean of no elements is 0 / 0, as torch.mean gives; batchmean is 0 / N = 0 / 0
    empty = torch.zeros(0, 3)
    assert torch.isnan(reduce_loss(empty, "mean"))
    assert torch.isnan(reduce_loss(empty, "batchmean"))
    assert reduce_loss(empty, "flatmean").shape == (0,)


# -- what is not a Tensor or not a mode ------------------------------------------


@pytest.mark.parametrize("mode", ["mean", "sum", "none", "batchmean", "flatmean"])
@pytest.mark.parametrize("loss", [3.0, [1.0, 2.0], range(2)], ids=["float", "list", "range"])
def test_a_loss_that_is_not_a_tensor_is_refused(loss, mode):
    with pytest.raises(
        LossInputError, match=r"reduce_loss needs the element-wise loss as a torch.Tensor, got "
    ):
        reduce_loss(loss, mode)


def test_weight_reduce_loss_refuses_a_loss_that_is_not_a_tensor():
    # with a weight, 3.0 * tensor would quietly become a tensor
    with pytest.raises(LossInputError, match="weight_reduce_loss needs .* got float"):
        weight_reduce_loss(3.0, weight=torch.ones(2))
    with pytest.raises(LossInputError, match="weight_reduce_loss needs .* got float"):
        weight_reduce_loss(3.0, avg_factor=2)
    with pytest.raises(LossInputError, match="reduce_loss needs .* got list"):
        weight_reduce_loss([1.0], reduction="none", avg_factor=2)


@pytest.mark.parametrize("reduction", [None, 1, torch.tensor(1)], ids=["None", "int", "tensor"])
def test_a_reduction_that_is_not_a_string_says_so(reduction):
    with pytest.raises(ConfigError, match=r"reduction: must be one of 'none', 'mean'.*; got"):
        reduce_loss(LOSS, reduction)
    with pytest.raises(ConfigError, match=r"reduction: must be one of"):
        weight_reduce_loss(LOSS, reduction=reduction, avg_factor=2)


# -- weight ------------------------------------------------------------------------


def test_a_number_weight_scales_the_loss():
    # 0.5 * (1 + 3 + 5 + 7) = 8
    assert weight_reduce_loss(LOSS, weight=0.5, reduction="sum").item() == 8.0


@pytest.mark.parametrize("weight", ["2", [1.0, 0.0]], ids=["str", "list"])
def test_a_weight_that_is_neither_tensor_nor_number_is_refused(weight):
    with pytest.raises(
        LossInputError,
        match=r"weight must be a Tensor that broadcasts to the loss of shape \(2, 2\)",
    ):
        weight_reduce_loss(LOSS, weight=weight)


@pytest.mark.parametrize("weight_shape", [(2, 2), (2, 1)])
def test_a_weight_on_another_device_fails_with_torchs_own_error(weight_shape):
    # The meta device stands in for a GPU: torch refuses to mix devices, and
    # that error comes through as it is, not relabelled as a shape problem.
    weight = torch.ones(weight_shape, device="meta")
    with pytest.raises(RuntimeError, match="device") as info:
        weight_reduce_loss(LOSS, weight=weight)
    assert not isinstance(info.value, GanLossError)


# -- avg_factor --------------------------------------------------------------------


@pytest.mark.parametrize("avg_factor", [0, -2, 0.0, float("nan"), float("inf")])
def test_avg_factor_must_be_positive_and_finite(avg_factor):
    with pytest.raises(LossInputError, match=r"avg_factor must be a positive, finite number"):
        weight_reduce_loss(LOSS, avg_factor=avg_factor)


def test_avg_factor_that_is_not_a_number_is_refused():
    with pytest.raises(
        LossInputError, match=r"avg_factor must be a positive number .* got str '8'"
    ):
        weight_reduce_loss(LOSS, avg_factor="8")


def test_avg_factor_may_be_a_numpy_number():
    np = pytest.importorskip("numpy")  # torch does not require numpy: CI's venv has none
    # 16 / 8 = 2
    assert weight_reduce_loss(LOSS, avg_factor=np.float32(8.0)).item() == 2.0


@pytest.mark.parametrize("avg_factor", [torch.tensor(8), torch.tensor([8.0])], ids=["0d", "1el"])
def test_avg_factor_may_be_a_one_element_tensor(avg_factor):
    # 16 / 8 = 2, a 0-d loss either way (a (1,) factor would otherwise give shape (1,))
    result = weight_reduce_loss(LOSS, avg_factor=avg_factor)
    assert result.shape == ()
    assert result.item() == 2.0


def test_a_tensor_avg_factor_of_zero_is_not_checked():
    # Reading a tensor's value would wait for the device, so 16 / 0 goes
    # through as inf (the aggregator's non-finite policy sees it).
    assert weight_reduce_loss(LOSS, avg_factor=torch.tensor(0.0)).item() == float("inf")


def test_avg_factor_tensor_must_hold_one_value():
    with pytest.raises(LossInputError, match=r"avg_factor must be a single value.*shape \(2,\)"):
        weight_reduce_loss(LOSS, avg_factor=torch.tensor([4.0, 4.0]))


# -- weighted_loss ---------------------------------------------------------------


def test_weighted_loss_signature_adds_the_keyword_only_parameters():
    def smooth(pred: torch.Tensor, target: torch.Tensor, *, beta: float = 1.0, **extra):
        return (pred - target).abs()

    annotations_before = dict(smooth.__annotations__)
    decorated = weighted_loss(smooth)
    params = inspect.signature(decorated).parameters
    assert list(params) == ["pred", "target", "beta", "weight", "reduction", "avg_factor", "extra"]
    kw = inspect.Parameter.KEYWORD_ONLY
    assert [(params[n].kind, params[n].default) for n in ("weight", "reduction", "avg_factor")] == [
        (kw, None),
        (kw, "mean"),
        (kw, None),
    ]
    assert params["weight"].annotation == torch.Tensor | float | None
    assert params["reduction"].annotation is str
    assert params["avg_factor"].annotation == float | torch.Tensor | None
    assert inspect.signature(decorated).return_annotation is torch.Tensor
    assert typing.get_type_hints(decorated)["reduction"] is str
    # the original function is left as it was
    assert smooth.__annotations__ == annotations_before
    assert list(inspect.signature(decorated.__wrapped__).parameters) == [
        "pred",
        "target",
        "beta",
        "extra",
    ]


def test_weighted_loss_signature_of_a_builtin_without_one():
    params = inspect.signature(weighted_loss(torch.abs)).parameters
    assert list(params) == ["args", "weight", "reduction", "avg_factor", "kwargs"]
    assert weighted_loss(torch.abs)(torch.tensor([-1.0, 3.0]), reduction="sum").item() == 4.0


def test_weighted_loss_refuses_a_function_with_its_own_reduction():
    # F.mse_loss has weight and reduction of its own: decorated, it would
    # reduce before the weight applies, so "sum" would sum a mean.
    with pytest.raises(
        LossInputError,
        match=r"cannot wrap mse_loss: it has its own 'weight' and 'reduction' parameters.*"
        r"reduction='none'",
    ):
        weighted_loss(torch.nn.functional.mse_loss)


def test_weighted_loss_refuses_what_is_not_callable():
    with pytest.raises(LossInputError, match="weighted_loss needs a function .* got int 3"):
        weighted_loss(3)


def test_weighted_loss_names_a_function_that_returns_no_tensor():
    @weighted_loss
    def count(pred, target):
        return 2.0

    with pytest.raises(LossInputError, match=r"the value .*count returned\) needs .* got float"):
        count(torch.ones(1), torch.ones(1))


_TYPED_USE = """
import torch
from torch import Tensor
from ganlosscore import weighted_loss


@weighted_loss
def l1(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).abs()


@weighted_loss
def kld(mean: Tensor, logvar: Tensor, *, base: float = 2.0) -> Tensor:
    return mean * logvar / base


x = torch.zeros(2)
total: Tensor = l1(x, x, reduction="sum")
l1(x, x, weight=x, avg_factor=2)
l1(pred=x, target=x)
kld(x, x, base=10.0, reduction="sum")
print(l1.__name__)


class Holder:
    @weighted_loss
    def method(self, pred: Tensor) -> Tensor:
        return pred.abs()


Holder().method(x)  # a decorated method binds self
Holder().method(x, reduction="sum")
"""


def _mypy(tmp_path, source):
    """Exit status and output of ``mypy --strict`` on ``source``."""
    pytest.importorskip("mypy")
    import ganlosscore

    (tmp_path / "use.py").write_text(source)
    # torch is skipped (its Tensor becomes Any) to keep this to a second; the
    # keywords are what is checked. ganlosscore's own findings are CI's job.
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\n"
        "[mypy-torch.*]\nfollow_imports = skip\n"
        "[mypy-ganlosscore.*]\nfollow_imports = silent\n"
    )
    env = dict(os.environ)
    root = Path(ganlosscore.__file__).resolve().parents[1]
    if not root.name.endswith("-packages"):  # a checkout: mypy cannot see editable installs
        env["MYPYPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file=mypy.ini", "--cache-dir=.cache", "use.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def test_weighted_loss_passes_mypy_strict_with_the_added_keywords(tmp_path):
    status, output = _mypy(tmp_path, _TYPED_USE)
    assert (status, output) == (0, "Success: no issues found in 1 source file\n")


_MISUSES = [
    'l1(x, x, reductio="sum")',  # a misspelt keyword
    "l1(x, x, reduction=3)",  # reduction is a str
    "l1(x)",  # the original parameters still count
    'kld(x, x, base="e")',  # and so do their types
]


def test_weighted_loss_misuse_is_reported_by_mypy(tmp_path):
    status, output = _mypy(tmp_path, _TYPED_USE + "\n".join(_MISUSES) + "\n")
    first = _TYPED_USE.count("\n") + 1
    reported = [line for line in output.splitlines() if ": error:" in line]
    assert status == 1
    assert [line.split(": error:")[0] for line in reported] == [
        f"use.py:{first + i}" for i in range(len(_MISUSES))
    ]
    assert all('No overload variant of "__call__" of "WeightedLoss"' in r for r in reported)


def test_a_fraction_weight_and_avg_factor_count_as_numbers():
    from fractions import Fraction

    loss = torch.tensor([2.0, 4.0])
    # weight 1/2: mean([1, 2]) = 1.5; avg_factor 3/2: (2 + 4) / 1.5 = 4
    assert weight_reduce_loss(loss, weight=Fraction(1, 2)).item() == 1.5
    assert weight_reduce_loss(loss, avg_factor=Fraction(3, 2)).item() == 4.0


@pytest.mark.parametrize("keyword", ["weight", "avg_factor"])
def test_a_bool_is_not_a_weight_or_avg_factor(keyword):
    with pytest.raises(LossInputError, match=r"got bool"):
        weight_reduce_loss(torch.ones(2), **{keyword: True})


def test_zero_dimensional_numpy_arrays_count_as_numbers():
    np = pytest.importorskip("numpy")  # torch does not require numpy: CI's venv has none
    loss = torch.tensor([2.0, 4.0])
    assert weight_reduce_loss(loss, weight=np.array(0.5)).item() == 1.5
    assert weight_reduce_loss(loss, avg_factor=np.array(3.0)).item() == 2.0

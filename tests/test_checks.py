"""The core's public check helpers (ganlosscore.checks), one rule each."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from ganlosscore import ConfigError, LossInputError
from ganlosscore.checks import (
    check_bool,
    check_choice,
    check_floating_tensor,
    check_int,
    check_number,
    check_probability,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, 2.0), (0.5, 0.5), (Fraction(1, 4), 0.25), (np.float32(1.5), 1.5), (np.int64(3), 3.0)],
)
def test_check_number_takes_any_real_number_as_a_float(value, expected):
    result = check_number(value, where="gamma")
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    "value", [True, "1", None, float("nan"), float("inf"), 10**400, torch.tensor(1.0)]
)
def test_check_number_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ConfigError, match=r"^gamma: must be a finite number, got "):
        check_number(value, where="gamma")


def test_check_number_bounds_name_the_interval():
    assert check_number(0, where="k", low=0) == 0.0
    with pytest.raises(ConfigError, match=r"^k: must lie in \(0, inf\], got 0$"):
        check_number(0, where="k", low=0, low_open=True)
    with pytest.raises(ConfigError, match=r"must lie in \[0.0, 1.0\), got 1.0"):
        check_number(1.0, where="decay", low=0.0, high=1.0, high_open=True)
    with pytest.raises(ConfigError, match=r"must lie in \[0.0, 1.0\], got 1.5"):
        check_probability(1.5, where="p")


def test_check_int_takes_integers_only():
    assert check_int(np.int32(4), where="n") == 4
    assert check_int(0, where="n", low=0) == 0
    for bad in (0, 4.0, True, "4"):
        with pytest.raises(ConfigError, match=r"^n: must be an integer >= 1, got "):
            check_int(bad, where="n")
    with pytest.raises(ConfigError, match=r"must be an integer in \[1, 3\], got 4"):
        check_int(4, where="n", high=3)


def test_check_bool_refuses_truthy_strings():
    assert check_bool(False, where="relu") is False
    with pytest.raises(ConfigError, match="^relu: must be true or false, got 'false'"):
        check_bool("false", where="relu")


def test_check_choice_lists_the_options_and_suggests_the_closest():
    assert check_choice("ns", ("ns", "hinge"), where="gan_type") == "ns"
    with pytest.raises(
        ConfigError, match=r"^gan_type: must be one of 'ns', 'hinge'; got 'hinje'\. Did you mean"
    ):
        check_choice("hinje", ("ns", "hinge"), where="gan_type")
    with pytest.raises(ConfigError, match=r"got 3\.$"):
        check_choice(3, ("ns", "hinge"), where="gan_type")


def test_check_floating_tensor_names_the_outputs_key_when_there_is_one():
    x = torch.ones(2, dtype=torch.float16)
    assert check_floating_tensor(x, where="loss_x.pred") is x
    with pytest.raises(
        LossInputError,
        match=r"^loss_x\.pred: expected a floating-point torch\.Tensor in outputs\['p'\], "
        r"got a torch\.int64 tensor of shape \(2,\); .* or map this input to another key$",
    ):
        check_floating_tensor(torch.ones(2, dtype=torch.long), where="loss_x.pred", key="p")
    with pytest.raises(LossInputError, match=r"got list \[1\.0\]; .* or pass another value$"):
        check_floating_tensor([1.0], where="loss_x.pred")

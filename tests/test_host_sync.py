"""Host synchronisations of a training loop, counted (issue 16.2).

On a GPU, reading a tensor's value on the host (``.item()``, ``.tolist()``,
``float(t)``, ``if t:``, ``nonzero``) waits for every queued kernel. These
tests count such calls, on the CPU, with a ``TorchFunctionMode`` that sees
every tensor method: a loop that reads no log values under
``nonfinite="defer"`` or ``"ignore"`` must make none; ``"raise"`` and
``"warn"`` make exactly one per step.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.overrides import TorchFunctionMode

from ganlosscore import NonFiniteLossError, build_aggregator

SYNCING = {"item", "tolist", "__float__", "__bool__", "__int__", "__index__", "nonzero"}
STEPS = 20


class SyncCounter(TorchFunctionMode):
    """Counts the tensor calls that read a value on the host."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in SYNCING:
            self.calls.append(name)
        return func(*args, **(kwargs or {}))


DISC = [
    {
        "type": "DiscAdversarialLoss",
        "gan_type": "ns",
        "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
    },
    {"type": "DiscShiftLoss", "loss_weight": 0.001, "data_info": {"pred": "disc_pred_real"}},
    {
        "type": "R1GradientPenalty",
        "loss_weight": 5.0,
        "interval": 2,
        "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
    },
]


def train(policy: str, *, steps: int = STEPS, read_every: int = 0, nan_at: int = -1):
    """A discriminator's training loop; returns the counter and the last result."""
    torch.manual_seed(0)
    disc = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 1)
    )
    optimizer = torch.optim.SGD(disc.parameters(), lr=0.01)
    aggregator = build_aggregator(DISC, nonfinite=policy)
    real, fake = torch.randn(steps, 6, 4), torch.randn(steps, 6, 4)
    counter = SyncCounter()
    result = None
    with counter:
        for step in range(steps):
            pred_fake = disc(fake[step])
            if step == nan_at:
                pred_fake = pred_fake * float("nan")
            outputs = {
                "disc_pred_real": disc(real[step]),
                "disc_pred_fake": pred_fake,
                "disc": disc,
                "real_imgs": real[step],
                "iteration": step,
            }
            result = aggregator(outputs)
            optimizer.zero_grad()
            result.total.backward()
            optimizer.step()
            if read_every and (step + 1) % read_every == 0:
                result.log_vars  # noqa: B018 - reading is the point
    return counter, aggregator, result


@pytest.mark.parametrize("policy", ["ignore", "defer"])
def test_a_loop_that_reads_no_log_values_makes_no_host_sync(policy):
    counter, _, result = train(policy)
    assert counter.calls == []
    # the values are all there, on the device, when someone wants them
    assert set(result.log_tensors) == {"loss_disc_adv", "loss_disc_shift", "loss"}
    assert all(isinstance(v, torch.Tensor) for v in result.log_tensors.values())


@pytest.fixture
def on_an_accelerator(monkeypatch):
    """Values read as if they lived on a GPU: one stacked ``.tolist()``, not ``.item()`` each.

    On the CPU there is no device to wait for, and one ``.item()`` per value
    costs less than stacking them; everywhere else the values are stacked
    and read at once. This makes the CPU take the accelerator's path.
    """
    monkeypatch.setattr(torch.Tensor, "is_cpu", property(lambda self: False))


@pytest.mark.parametrize("policy", ["raise", "warn"])
def test_raise_and_warn_make_one_host_sync_per_step(policy, on_an_accelerator):
    counter, _, result = train(policy)
    assert counter.calls == ["tolist"] * STEPS
    # the values the check read are the log values: reading them costs nothing more
    assert set(result.log_vars) == {"loss_disc_adv", "loss_disc_shift", "loss"}


def test_on_the_cpu_values_are_read_one_item_each():
    counter, _, _ = train("raise")
    # 3 values per step, and R1's on its 10 even steps; nothing else is read
    assert counter.calls == ["item"] * (3 * STEPS + STEPS // 2)


def test_reading_log_values_every_five_steps_costs_one_transfer_and_one_check_each(
    on_an_accelerator,
):
    counter, _, result = train("defer", read_every=5)
    # per read: the non-finite record (one tolist) and the values (one tolist)
    assert counter.calls == ["tolist"] * (2 * STEPS // 5)
    assert all(type(v) is float for v in result.log_vars.values())


def test_log_vars_are_read_once_and_kept(on_an_accelerator):
    counter, _, result = train("ignore", steps=2)
    with counter:
        first = result.log_vars
        assert result.log_vars is first
        total, log_vars = result  # MMGeneration's unpacking reads the same dict
    assert log_vars is first and total is result.total
    assert counter.calls == ["tolist"]
    # 1 = R1 off at iteration 1: the total is the adversarial term plus the shift term
    assert math.isclose(first["loss"], first["loss_disc_adv"] + first["loss_disc_shift"])


def test_defer_finds_a_nan_when_log_values_are_read_naming_the_loss():
    # A NaN fake prediction at step 7 makes the adversarial term NaN; under "defer"
    # nothing stops step 7, its optimizer step spreads NaN into the weights, and
    # every term is NaN from step 8 on: adversarial at 7, 8, 9; shift (of the real
    # predictions) at 8, 9; R1 at 8 (its interval). The read after step 10 says so.
    expected = r"loss_disc_adv in 3 steps, loss_disc_shift in 2 steps, loss_r1_gp in 1 step;"
    with pytest.raises(NonFiniteLossError, match=expected):
        train("defer", read_every=10, nan_at=7)


def test_check_finite_reports_each_bad_step_once_then_clears():
    counter, aggregator, _ = train("defer", steps=12, nan_at=3)
    assert counter.calls == []
    with pytest.raises(NonFiniteLossError, match="non-finite values since the last check"):
        aggregator.check_finite()
    aggregator.check_finite()  # reported: the record starts again


def test_raise_stops_at_the_step_itself_before_backward():
    with pytest.raises(NonFiniteLossError, match="at iteration 7"):
        train("raise", nan_at=7)

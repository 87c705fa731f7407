"""torch.compile of aggregators and of training steps that contain one (issue 16.3).

Inductor compiles take seconds each on a CPU, so the one test that compiles a
whole training step with it is marked slow; the ``fullgraph=True`` tests use
the ``eager`` backend, which runs dynamo's tracing (what ``fullgraph`` is
about) without generating code.
"""

from __future__ import annotations

import copy

import pytest
import torch

from ganlosscore import LossResult, NonFiniteLossError, build_aggregator

ADVERSARIAL = {
    "type": "DiscAdversarialLoss",
    "gan_type": "ns",
    "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
}
SHIFT = {"type": "DiscShiftLoss", "loss_weight": 0.1, "data_info": {"pred": "disc_pred_real"}}
R1 = {
    "type": "R1GradientPenalty",
    "loss_weight": 5.0,
    "interval": 2,
    "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
}
# losses that take no input gradients
NO_INPUT_GRADIENTS = [
    ADVERSARIAL,
    SHIFT,
    {"type": "L1Loss", "data_info": {"pred": "fake_imgs", "target": "real_imgs"}},
    {
        "type": "MSELoss",
        "loss_weight": 2.0,
        "data_info": {"pred": "fake_imgs", "target": "real_imgs"},
    },
    {"type": "DDPMMSELoss", "data_info": {"pred": "eps_pred", "target": "noise", "timesteps": "t"}},
]


def outputs_at(iteration: int) -> dict:
    generator = torch.Generator().manual_seed(iteration)
    return {
        "disc_pred_real": torch.randn(4, 1, generator=generator),
        "disc_pred_fake": torch.randn(4, 1, generator=generator),
        "fake_imgs": torch.randn(4, 3, 4, 4, generator=generator),
        "real_imgs": torch.randn(4, 3, 4, 4, generator=generator),
        "eps_pred": torch.randn(4, 3, 4, 4, generator=generator),
        "noise": torch.randn(4, 3, 4, 4, generator=generator),
        "t": torch.randint(0, 1000, (4,), generator=generator),
        "iteration": iteration,
    }


@pytest.mark.parametrize("policy", ["defer", "ignore"])
def test_an_aggregator_compiles_with_fullgraph_and_returns_the_same_result(policy):
    aggregator = build_aggregator(NO_INPUT_GRADIENTS, nonfinite=policy)
    compiled = torch.compile(aggregator, fullgraph=True, backend="eager")
    for iteration in range(3):
        outputs = outputs_at(iteration)
        result, expected = compiled(outputs), aggregator(outputs)
        assert type(result) is LossResult
        assert list(result.losses) == list(expected.losses)
        assert result.log_vars == expected.log_vars
        torch.testing.assert_close(result.total, expected.total)


def test_a_nan_in_a_compiled_step_is_found_under_defer():
    aggregator = build_aggregator([ADVERSARIAL, SHIFT], nonfinite="defer")
    compiled = torch.compile(aggregator, fullgraph=True, backend="eager")
    compiled(outputs_at(0))
    compiled({**outputs_at(1), "disc_pred_real": torch.full((4, 1), float("nan"))})
    result = compiled(outputs_at(2))
    with pytest.raises(NonFiniteLossError, match="loss_disc_adv in 1 step, loss_disc_shift in 1"):
        result.log_vars  # noqa: B018


def test_raise_in_a_compiled_step_still_stops_at_the_nan():
    # "raise" reads the values on the host: a graph break, not an error, without fullgraph
    aggregator = build_aggregator([ADVERSARIAL, SHIFT])
    compiled = torch.compile(aggregator, backend="eager")
    assert compiled(outputs_at(0)).log_vars["loss"] > 0
    with pytest.raises(NonFiniteLossError, match="loss_disc_shift=nan at iteration 1"):
        compiled({**outputs_at(1), "disc_pred_real": torch.full((4, 1), float("nan"))})


@pytest.mark.slow
def test_a_training_step_with_r1_on_its_interval_compiles_and_matches_eager():
    torch.manual_seed(0)
    disc = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    compiled_disc = copy.deepcopy(disc)
    eager_losses = build_aggregator([ADVERSARIAL, SHIFT, R1], nonfinite="defer")
    compiled_losses = copy.deepcopy(eager_losses)

    def step(d, aggregator, real, fake, iteration):
        outputs = {
            "disc_pred_real": d(real),
            "disc_pred_fake": d(fake),
            "disc": d,
            "real_imgs": real,
            "iteration": iteration,
        }
        result = aggregator(outputs)
        result.total.backward()
        return result

    compiled_step = torch.compile(step)  # default mode, inductor
    for iteration in range(4):  # R1 at 0 and 2
        real, fake = torch.randn(6, 4), torch.randn(6, 4)
        expected = step(disc, eager_losses, real, fake, iteration)
        result = compiled_step(compiled_disc, compiled_losses, real, fake, iteration)
        assert type(result) is LossResult
        assert ("loss_r1_gp" in result.losses) == (iteration % 2 == 0)
        torch.testing.assert_close(result.total, expected.total)
        for a, b in zip(disc.parameters(), compiled_disc.parameters()):
            torch.testing.assert_close(b.grad, a.grad)
            a.grad = b.grad = None
    assert result.log_vars.keys() == expected.log_vars.keys()
    for key, value in expected.log_vars.items():
        assert result.log_vars[key] == pytest.approx(value, rel=1e-5)


class _Denoiser(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.linear(noisy) * sigma.reshape(-1, 1)


@pytest.mark.parametrize("loss_type", ["EDMLoss", "VPLoss", "VELoss"])
def test_the_edm_losses_compile_with_fullgraph(loss_type):
    # Before, denoising_score_matching_loss called torch.result_type: a graph break.
    config = {"type": loss_type, "data_info": {"denoiser": "denoiser", "images": "images"}}
    aggregator = build_aggregator([config], nonfinite="defer")
    compiled = torch.compile(aggregator, fullgraph=True, backend="eager")
    outputs = {"denoiser": _Denoiser(), "images": torch.ones(3, 4)}
    torch.manual_seed(0)
    result = compiled(outputs)
    torch.manual_seed(0)  # the same noise levels and noise
    expected = aggregator(outputs)
    assert type(result) is LossResult
    torch.testing.assert_close(result.total, expected.total)

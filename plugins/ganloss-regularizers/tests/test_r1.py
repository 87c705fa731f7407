from __future__ import annotations

import pytest
import torch
from _regularizer_nets import ConvDisc, quadratic_disc
from ganloss_regularizers import R1GradientPenalty, R2GradientPenalty

from ganlosscore import ConfigError, build_loss

# LinearDisc: the gradient is W, (3, 4) at pixel (0,0) and 0 at pixel (0,1).
#   pixel: mean over pixels of sum_c g^2 = (9 + 16 + 0) / 2 = 12.5
#   HWC:   mean over samples of sum_{c,h,w} g^2 = 25
# quadratic_disc on ones(2, 3, 4, 4): the gradient is x = 1 everywhere.
#   pixel: sum over 3 channels of 1 = 3 at every pixel -> 3
#   HWC:   3 * 4 * 4 = 48 per sample -> 48
LINEAR = {"pixel": 12.5, "HWC": 25.0}
QUADRATIC = {"pixel": 3.0, "HWC": 48.0}


def r1_data_info(**kwargs):
    return R1GradientPenalty(
        data_info={"discriminator": "disc", "real_data": "real_imgs", **kwargs.pop("extra", {})},
        **kwargs,
    )


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
@pytest.mark.parametrize("disc_name", ["linear", "quadratic"])
def test_r1_both_paths(disc_name, norm_mode, linear_disc, linear_data):
    disc, data, expected = {
        "linear": (linear_disc, linear_data, LINEAR),
        "quadratic": (quadratic_disc, torch.ones(2, 3, 4, 4), QUADRATIC),
    }[disc_name]
    direct = R1GradientPenalty(norm_mode=norm_mode)(disc, data)
    via_outputs = r1_data_info(norm_mode=norm_mode)({"disc": disc, "real_imgs": data})
    assert direct.item() == pytest.approx(expected[norm_mode])
    assert via_outputs.item() == pytest.approx(expected[norm_mode])


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
def test_r2_on_fake_data(norm_mode):
    r2 = R2GradientPenalty(
        norm_mode=norm_mode, data_info={"discriminator": "disc", "fake_data": "fake_imgs"}
    )
    value = r2({"disc": quadratic_disc, "fake_imgs": torch.ones(2, 3, 4, 4)})
    assert value.item() == pytest.approx(QUADRATIC[norm_mode])


@pytest.mark.parametrize("norm_mode", ["pixel", "HWC"])
def test_r1_mask_renormalises(norm_mode):
    # Keep the top two rows of each 4x4 image: mean(mask) = 1/2. The masked
    # gradient is 1 on half the pixels, 0 elsewhere:
    #   pixel: mean of (3 on half, 0 on half) = 1.5, / 0.5 = 3
    #   HWC:   3 * 8 = 24 per sample, / 0.5 = 48
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1.0
    value = R1GradientPenalty(norm_mode=norm_mode)(quadratic_disc, torch.ones(2, 3, 4, 4), mask)
    assert value.item() == pytest.approx(QUADRATIC[norm_mode])


def test_r1_gradient_of_linear_disc_parameters(linear_disc, linear_data):
    # HWC: sum(W^2) per sample, so d/dW = 2 W.
    R1GradientPenalty(norm_mode="HWC")(linear_disc, linear_data).backward()
    torch.testing.assert_close(linear_disc.weight.grad, 2 * linear_disc.weight.detach())


def test_r1_gradient_reaches_real_data_that_requires_grad():
    # quadratic D: R1 HWC = mean_n sum x_n^2, d/dx = 2 x / N = x for N = 2.
    x = torch.full((2, 1, 2, 2), 3.0, requires_grad=True)
    R1GradientPenalty(norm_mode="HWC")(quadratic_disc, x).backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 3.0))


class InputSpy:
    """``quadratic_disc`` that remembers the tensor it was evaluated at."""

    def __init__(self) -> None:
        self.seen: list[torch.Tensor] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x)
        return quadratic_disc(x)


@pytest.mark.parametrize("cls", [R1GradientPenalty, R2GradientPenalty])
def test_penalty_does_not_copy_a_batch_that_needs_no_grad(cls):
    spy, x = InputSpy(), torch.ones(2, 3, 4, 4)
    assert cls(norm_mode="HWC")(spy, x).item() == pytest.approx(QUADRATIC["HWC"])
    (seen,) = spy.seen
    assert seen.data_ptr() == x.data_ptr()  # D saw x's own storage: no batch-sized copy
    assert seen.requires_grad  # a leaf to differentiate at ...
    assert not x.requires_grad and x.grad is None  # ... that is not the caller's tensor


def test_penalty_keeps_a_non_leaf_input_in_the_callers_graph():
    # y = 2 w with w = 3: quadratic D, HWC: L = mean_n sum y_n^2 = 4 * 6^2 = 144
    # (N = 2 samples of 4 values). dL/dy = 2 y / N = y, dL/dw = 2 dL/dy = 2 y = 12.
    w = torch.full((2, 1, 2, 2), 3.0, requires_grad=True)
    y = 2 * w
    spy = InputSpy()
    value = R1GradientPenalty(norm_mode="HWC")(spy, y)
    assert value.item() == pytest.approx(144.0)
    assert spy.seen[0].data_ptr() == y.data_ptr()
    value.backward()
    torch.testing.assert_close(w.grad, torch.full_like(w, 12.0))


def test_r1_interval_is_the_cores(linear_disc, linear_data):
    r1 = r1_data_info(interval=4)
    outputs = {"disc": linear_disc, "real_imgs": linear_data}
    assert r1({**outputs, "iteration": 3}) is None
    assert r1({**outputs, "iteration": 8}).item() == pytest.approx(12.5)


# -- mixed precision ----------------------------------------------------------


class ScaleSpy:
    """A loss scaler with scale() / get_scale() that records how it is used."""

    def __init__(self, scale: float, reported: float | None = None) -> None:
        self.factor = scale
        self.reported = scale if reported is None else reported
        self.scaled: list[torch.Tensor] = []

    def scale(self, outputs: torch.Tensor) -> torch.Tensor:
        self.scaled.append(outputs)
        return outputs * self.factor

    def get_scale(self) -> float:
        return self.reported


@pytest.mark.parametrize("enabled", [False, True])
def test_r1_with_torch_grad_scaler_equals_unscaled(enabled, linear_disc, linear_data):
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, enabled=enabled)
    r1 = r1_data_info(extra={"loss_scaler": "loss_scaler"})
    value = r1({"disc": linear_disc, "real_imgs": linear_data, "loss_scaler": scaler})
    assert value.item() == pytest.approx(12.5)
    value.backward()
    # pixel: mean over 2 pixels of sum_c W^2 -> d/dW = W (2/2), with or without scaling.
    torch.testing.assert_close(linear_disc.weight.grad, linear_disc.weight.detach())


def test_r1_scales_before_and_unscales_after(linear_disc, linear_data):
    spy = ScaleSpy(8.0)
    value = R1GradientPenalty()(linear_disc, linear_data, loss_scaler=spy)
    assert value.item() == pytest.approx(12.5)
    assert len(spy.scaled) == 1 and spy.scaled[0].requires_grad  # D's output was scaled
    # A scaler that scales by 2 but reports 1 leaves the gradient doubled: the
    # penalty, quadratic in it, is 4 * 12.5 = 50. (It would stay 12.5 if the
    # scaler were ignored.)
    liar = ScaleSpy(2.0, reported=1.0)
    assert R1GradientPenalty()(linear_disc, linear_data, loss_scaler=liar).item() == 50.0


def test_r1_under_cpu_autocast_matches_float32():
    torch.manual_seed(0)
    disc, x = ConvDisc(), torch.randn(4, 3, 8, 8)
    r1 = R1GradientPenalty()
    reference = r1(disc, x)
    # The head's bias does not change D's input gradient, so it gets none.
    params = [disc.conv.weight, disc.conv.bias, disc.head.weight]
    reference_grads = torch.autograd.grad(reference, params)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = r1(disc, x)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(reference.item(), rel=5e-2)
    grads = torch.autograd.grad(value, params)
    for got, expected in zip(grads, reference_grads):
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got.float(), expected, rtol=0.1, atol=1e-2)


def test_r1_bad_norm_mode():
    with pytest.raises(ConfigError, match="R1GradientPenalty.norm_mode"):
        R1GradientPenalty(norm_mode="pixels")
    with pytest.raises(ConfigError, match="R2GradientPenalty.norm_mode"):
        R2GradientPenalty(norm_mode=None)


def test_disc_without_parameters_is_fine():
    # A penalty on a parameter-free D still has a value (nothing to train, but no error).
    # D = sum(x): gradient 1, pixel mode sums 2 channels -> 2.
    assert R1GradientPenalty()(lambda x: x.sum(), torch.ones(1, 2, 1, 1)).item() == 2.0


# -- MMGeneration's use_apex_amp -------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "data_key"), [(R1GradientPenalty, "real_data"), (R2GradientPenalty, "fake_data")]
)
def test_use_apex_amp_false_builds_and_changes_nothing(cls, data_key):
    # MMGeneration's StyleGAN2 R1 config, use_apex_amp=False left in.
    loss = build_loss(
        {
            "type": cls.__name__,
            "loss_weight": 10.0 / 2.0 * 16,
            "interval": 16,
            "norm_mode": "HWC",
            "data_info": {"discriminator": "disc", data_key: "imgs"},
            "use_apex_amp": False,
        }
    )
    # quadratic D on ones(2, 3, 4, 4): 48 (see QUADRATIC), times the weight 80.
    outputs = {"disc": quadratic_disc, "imgs": torch.ones(2, 3, 4, 4), "iteration": 32}
    assert loss(outputs).item() == pytest.approx(80 * 48.0)


@pytest.mark.parametrize("cls", [R1GradientPenalty, R2GradientPenalty])
def test_use_apex_amp_true_says_what_replaces_apex(cls):
    with pytest.raises(ConfigError) as raised:
        cls(use_apex_amp=True)
    message = str(raised.value)
    assert message.startswith(f"{cls.__name__}.use_apex_amp: ")
    assert "apex is not supported" in message
    assert "torch.amp.GradScaler" in message and "'loss_scaler'" in message
    with pytest.raises(ConfigError, match="use_apex_amp: must be true or false"):
        cls(use_apex_amp="False")


def test_a_discriminator_that_ignores_its_input_is_an_error_not_a_zero_penalty():
    # D(x) = lin(x.detach()) depends on its parameters but not on x: d D / d x does
    # not exist, and a penalty of 0 would hide the broken setup (MMGeneration raises too).
    import torch
    from ganloss_regularizers import R1GradientPenalty

    from ganlosscore import LossInputError

    lin = torch.nn.Linear(4, 1)
    with pytest.raises(LossInputError, match="does not depend on the input"):
        R1GradientPenalty()(lambda x: lin(x.detach()), torch.randn(3, 4))


def test_a_generator_latent_unrelated_to_its_images_is_an_error():
    import torch
    from ganloss_regularizers import GeneratorPathRegularizer

    from ganlosscore import LossInputError

    class Unrelated(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.ones(1))

        def forward(self, z, num_batches, return_latents):
            latent = torch.randn(num_batches, 2, 3, requires_grad=True)  # not used below
            return {"fake_img": self.p * torch.randn(num_batches, 1, 2, 2), "latent": latent}

    with pytest.raises(LossInputError, match="does not depend on the input"):
        GeneratorPathRegularizer()(Unrelated(), 4)

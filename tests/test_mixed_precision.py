"""Mixed precision and devices: an audit of every shipped loss, and the core's own part.

The audit builds each loss the shipped plugins register (``available_losses()``)
from a config like its conformance test's and runs it

* ``autocast``: under ``torch.autocast("cpu", dtype=torch.bfloat16)``, with
  float32 inputs and networks;
* ``bfloat16`` / ``float16``: with inputs and networks of that dtype;

and checks that it runs, that the value is finite and close to the float32
value of the same inputs (for a half dtype: the inputs rounded to it, so
only the loss's own arithmetic is measured), that gradients reach the same
inputs and parameters as in float32, finite and close, and that the
aggregator's ``log_vars`` are finite Python floats. The gradient penalties
and the path-length regularizer take an enabled ``GradScaler`` from the
outputs dict, as in training. A second audit runs every loss on the
``meta`` device, a stand-in for a GPU: a tensor made on the CPU inside a
loss, or a value read back to the host, fails there.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from _losses import ShiftLoss
from torch import nn

from ganlosscore import (
    NonFiniteLossError,
    available_losses,
    build_aggregator,
    build_loss,
    reduce_loss,
    weight_reduce_loss,
)

SHIPPED = ("ganloss-adversarial", "ganloss-diffusion", "ganloss-pixelwise", "ganloss-regularizers")
AVAILABLE = {r.name for r in available_losses() if r.status == "ok"}


# -- tiny networks, float32 when made (the audit casts them) --------------------------


class ConvDisc(nn.Module):
    """(N, 3, 8, 8) -> (N, 1): conv, softplus, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4 * 8 * 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(nn.functional.softplus(self.conv(x)).flatten(1))


class StyleGenerator(nn.Module):
    """MMGeneration's StyleGAN2 convention: (None, num_batches=n, return_latents=True)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("codes", torch.randn(8, 4))
        self.mapping = nn.Linear(4, 8)
        self.synthesis = nn.Linear(8, 16)

    def forward(self, z: None, num_batches: int, return_latents: bool) -> dict[str, torch.Tensor]:
        w = self.mapping(self.codes[:num_batches]).view(num_batches, 2, 4)
        img = torch.tanh(self.synthesis(w.flatten(1))).view(num_batches, 1, 4, 4)
        return {"fake_img": img, "latent": w}


class TinyDenoiser(nn.Module):
    """EDM-style D(x; sigma) = c_skip x + c_out F(x), F a 1x1 convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, labels: Any = None) -> torch.Tensor:
        c_skip = 0.25 / (sigma**2 + 0.25)
        c_out = sigma * 0.5 / (sigma**2 + 0.25).sqrt()
        return c_skip * x + c_out * self.net(x)


class Extractor(nn.Module):
    """A feature extractor returning two layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.conv(x)
        return {"conv": features, "relu": torch.relu(features)}


def flip(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(x, dims=(3,))


# -- outputs dicts ------------------------------------------------------------------


def leaf(*shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return (torch.randn(*shape) * scale + shift).requires_grad_(True)


def scaler() -> torch.amp.GradScaler:
    # Enabled. Its default start, 2**16, overflows a float16 output's seed gradient at once
    # (see test_grad_scaler_overflow_needs_a_nonfinite_policy_that_lets_it_through).
    return torch.amp.GradScaler("cpu", init_scale=2.0**8)


def disc_outputs() -> dict[str, Any]:
    return {
        "disc": ConvDisc(),
        "real_imgs": leaf(4, 3, 8, 8),
        "fake_imgs": leaf(4, 3, 8, 8),
        "augment": flip,
        "loss_scaler": scaler(),
    }


def pred_outputs() -> dict[str, Any]:
    return {
        "disc_pred_real": leaf(4, 1),
        "disc_pred_fake": leaf(4, 1),
        "disc_pred_fake_g": leaf(4, 1),
        "target_is_real": True,
        "is_disc": False,
    }


def gen_outputs() -> dict[str, Any]:
    return {"gen": StyleGenerator(), "batch_size": 8, "loss_scaler": scaler()}


def pixel_outputs() -> dict[str, Any]:
    return {
        "fake_imgs": leaf(2, 3, 4, 4),
        "real_imgs": torch.randn(2, 3, 4, 4),
        "pixel_weight": torch.rand(2, 1, 4, 4),
    }


def gaussian_outputs(batch: int = 2) -> dict[str, Any]:
    x = torch.rand(batch, 3, 4, 4) * 2 - 1
    x[0, 0, 0] = 1.0  # the edge bins too
    x[-1, 0, 1] = -1.0
    return {
        "real_imgs": x,
        "mean_pred": x + 0.05 * torch.randn(batch, 3, 4, 4),
        "mean_target": x + 0.05 * torch.randn(batch, 3, 4, 4),
        "logvar_pred": leaf(batch, 3, 4, 4, scale=0.1, shift=-4.0),
        "logvar_target": torch.randn(batch, 3, 4, 4) * 0.1 - 4.0,
        "timesteps": torch.tensor([0, 3, 500, 999][:batch]),
    }


def gaussian_trained_mean() -> dict[str, Any]:
    outputs = gaussian_outputs()
    outputs["mean_pred"].requires_grad_(True)
    return outputs


def perceptual_outputs() -> dict[str, Any]:
    return {"fake_imgs": leaf(2, 3, 8, 8), "real_imgs": torch.randn(2, 3, 8, 8), "vgg": Extractor()}


def feature_outputs() -> dict[str, Any]:
    shapes = [(2, 8, 4, 4), (2, 16, 2, 2), (2, 1)]
    return {
        "disc_feats_real": [torch.randn(s) for s in shapes],
        "disc_feats_fake": [leaf(*s) for s in shapes],
    }


def mse_outputs() -> dict[str, Any]:
    return {
        "eps_t_pred": leaf(4, 3, 4, 4),
        "noise": torch.randn(4, 3, 4, 4),
        "timesteps": torch.tensor([0, 3, 500, 999]),
    }


def edm_outputs() -> dict[str, Any]:
    return {
        "denoiser": TinyDenoiser(),
        "real_imgs": leaf(4, 3, 4, 4),
        "labels": torch.tensor([0, 1, 2, 3]),
    }


GAN = {"discriminator": "disc", "real_data": "real_imgs", "fake_data": "fake_imgs"}
PIXEL = {"pred": "fake_imgs", "target": "real_imgs", "weight": "pixel_weight"}
PREDS = {"disc_pred_real": "disc_pred_real", "disc_pred_fake": "disc_pred_fake"}
KLD = {k: k for k in ("mean_pred", "mean_target", "logvar_pred", "logvar_target")}
EDM = {"denoiser": "denoiser", "images": "real_imgs", "labels": "labels"}
SCALED = {"loss_scaler": "loss_scaler"}

#: name -> (config without "type", outputs factory), as in the plugins' conformance tests.
CASES: dict[str, tuple[dict[str, Any], Callable[[], dict[str, Any]]]] = {
    "DiscShiftLoss": ({"data_info": {"pred": "disc_pred_real"}}, pred_outputs),
    "GradientPenaltyLoss": ({"data_info": {**GAN, **SCALED}}, disc_outputs),
    "DRAGANGradientPenalty": (
        {"data_info": {"discriminator": "disc", "real_data": "real_imgs", **SCALED}},
        disc_outputs,
    ),
    "R1GradientPenalty": (
        {
            "norm_mode": "HWC",
            "data_info": {"discriminator": "disc", "real_data": "real_imgs", **SCALED},
        },
        disc_outputs,
    ),
    "R2GradientPenalty": (
        {"data_info": {"discriminator": "disc", "fake_data": "fake_imgs", **SCALED}},
        disc_outputs,
    ),
    "GeneratorPathRegularizer": (
        {
            "pl_batch_shrink": 2,
            "data_info": {"generator": "gen", "num_batches": "batch_size", **SCALED},
        },
        gen_outputs,
    ),
    "LeCamRegularizer": ({"data_info": PREDS}, pred_outputs),
    "BalancedConsistencyLoss": ({"data_info": {**GAN, "augment": "augment"}}, disc_outputs),
    "WGANDivPenalty": ({"data_info": {**GAN, **SCALED}}, disc_outputs),
    "MaxGradientPenalty": ({"data_info": {**GAN, **SCALED}}, disc_outputs),
    "LatentConsistencyLoss": (
        {"data_info": {"output": "disc_pred_fake", "output_perturbed": "disc_pred_fake_g"}},
        pred_outputs,
    ),
    "InfoGANMutualInformationLoss": (
        {"data_info": {"code_mean": "disc_pred_fake", "continuous_codes": "disc_pred_real"}},
        pred_outputs,
    ),
    "GANLoss": (
        {
            "gan_type": "vanilla",
            "real_label_val": 0.9,
            "data_info": {
                "input": "disc_pred_fake",
                "target_is_real": "target_is_real",
                "is_disc": "is_disc",
            },
        },
        pred_outputs,
    ),
    "DiscAdversarialLoss": (
        {
            "gan_type": "lsgan",
            "real_label": 0.9,
            "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
        },
        pred_outputs,
    ),
    "GenAdversarialLoss": (
        {
            "gan_type": "ragan",
            "data_info": {"pred_fake": "disc_pred_fake_g", "pred_real": "disc_pred_real"},
        },
        pred_outputs,
    ),
    "L1Loss": ({"data_info": PIXEL}, pixel_outputs),
    "MSELoss": ({"data_info": PIXEL, "reduction": "flatmean"}, pixel_outputs),
    "CharbonnierLoss": ({"data_info": PIXEL}, pixel_outputs),
    "GradientLoss": ({"data_info": PIXEL}, pixel_outputs),
    "MaskedTVLoss": ({"data_info": {"pred": "fake_imgs", "mask": "pixel_weight"}}, pixel_outputs),
    "PSNRLoss": ({"data_info": {"pred": "fake_imgs", "target": "real_imgs"}}, pixel_outputs),
    "GaussianKLDLoss": ({"data_info": KLD, "base": "2"}, gaussian_trained_mean),
    "DiscretizedGaussianLogLikelihoodLoss": (
        {
            "data_info": {"x": "real_imgs", "mean": "mean_pred", "logvar": "logvar_pred"},
            "reduction": "batchmean",
        },
        gaussian_trained_mean,
    ),
    "PerceptualLoss": (
        {
            "data_info": {"pred": "fake_imgs", "target": "real_imgs", "feature_extractor": "vgg"},
            "style_weight": 10.0,
        },
        perceptual_outputs,
    ),
    "FeatureMatchingLoss": (
        {"data_info": {"real_feats": "disc_feats_real", "fake_feats": "disc_feats_fake"}},
        feature_outputs,
    ),
    "DDPMMSELoss": (
        {
            "data_info": {"pred": "eps_t_pred", "target": "noise", "timesteps": "timesteps"},
            "log_cfgs": {"type": "quartile", "total_timesteps": 1000},
        },
        mse_outputs,
    ),
    "DDPMVLBLoss": (
        {
            "rescale_mode": "constant",
            "rescale_cfg": {"scale": 4.0},
            "log_cfgs": [
                {"type": "quartile", "prefix_name": "loss_vlb", "total_timesteps": 1000},
                {"type": "name"},
            ],
        },
        lambda: gaussian_outputs(batch=4),
    ),
    "EDMLoss": ({"data_info": EDM}, edm_outputs),
    "VPLoss": ({"data_info": EDM, "reduction": "batchmean"}, edm_outputs),
    "VELoss": ({"data_info": EDM}, edm_outputs),
}

# Relative tolerances: the value, and the gradients (as the L2 norm of the error over that of
# the float32 gradient). bfloat16 keeps 8 bits (a step is 2^-8 ~ 0.4%), float16 11 (0.05%).
TOLERANCES = {
    "autocast": (1e-2, 4e-2),
    "bfloat16": (1e-2, 4e-2),
    "float16": (2e-3, 1e-2),
}
MODES = list(TOLERANCES)
#: Losses whose gradients may differ more: an L1 criterion on computed features (the
#: perceptual loss's default) has the gradient sign(a - b), which flips wherever a feature
#: and its target agree to within the precision of the features.
GRAD_TOLERANCE_FACTOR = {"PerceptualLoss": 3.0}
#: Gradients are taken of the value times this, and divided by it in float32, as a
#: GradScaler does in training: unscaled, float16 gradients of 1e-5 are subnormal.
BACKWARD_SCALE = 2.0**8


# -- helpers --------------------------------------------------------------------------


def cast(value: Any, dtype: torch.dtype) -> Any:
    """``value`` with its floating-point tensors and modules in ``dtype`` (fresh leaves)."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            return value.clone()
        return value.detach().to(dtype).requires_grad_(value.requires_grad)
    if isinstance(value, nn.Module):
        return copy.deepcopy(value).to(dtype)
    if isinstance(value, dict):
        return {key: cast(item, dtype) for key, item in value.items()}
    if isinstance(value, list):
        return [cast(item, dtype) for item in value]
    return value  # callables, flags, counts, a GradScaler


def differentiable(outputs: dict[str, Any]) -> list[torch.Tensor]:
    """Every tensor of ``outputs`` a gradient may reach: leaves and parameters, in order."""
    found: list[torch.Tensor] = []
    for value in outputs.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, torch.Tensor) and item.requires_grad:
                found.append(item)
            elif isinstance(item, nn.Module):
                found.extend(p for p in item.parameters() if p.requires_grad)
    return found


def mode_inputs(base: dict[str, Any], mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(outputs for the float32 reference, outputs for the mode)."""
    if mode == "autocast":
        return cast(base, torch.float32), cast(base, torch.float32)
    dtype = getattr(torch, mode)
    return cast(cast(base, dtype), torch.float32), cast(base, dtype)


def mode_context(mode: str) -> contextlib.AbstractContextManager[Any]:
    if mode == "autocast":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def evaluate(name: str, outputs: dict[str, Any], context: Any) -> tuple[torch.Tensor, list]:
    """The loss's value on ``outputs`` (a fresh build, a fixed seed) and its input gradients."""
    config, _ = CASES[name]
    loss = build_loss({"type": name, **config})
    torch.manual_seed(1)
    with context:
        value = loss(outputs)
    grads = torch.autograd.grad(
        value.float().sum() * BACKWARD_SCALE, differentiable(outputs), allow_unused=True
    )
    return value.detach(), list(grads)


def case_ids() -> list[str]:
    return sorted(CASES)


def needs(name: str) -> None:
    if name not in AVAILABLE:
        pytest.skip(f"{name} is not installed (or is disabled by the plugin selection)")


# -- the audit --------------------------------------------------------------------------


def test_every_shipped_loss_has_an_audit_case():
    shipped = {r.name for r in available_losses() if r.distribution in SHIPPED}
    assert shipped <= set(CASES), f"no mixed-precision case for {sorted(shipped - set(CASES))}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", case_ids())
def test_loss_in_reduced_precision_matches_float32(name, mode):
    needs(name)
    value_tol, grad_tol = TOLERANCES[mode]
    grad_tol *= GRAD_TOLERANCE_FACTOR.get(name, 1.0)
    torch.manual_seed(0)
    base = CASES[name][1]()
    reference_outputs, outputs = mode_inputs(base, mode)
    reference, reference_grads = evaluate(name, reference_outputs, contextlib.nullcontext())
    value, grads = evaluate(name, outputs, mode_context(mode))

    assert value.is_floating_point() and torch.isfinite(value).all(), value
    scale = reference.abs().max().item()
    torch.testing.assert_close(
        value.float(), reference, rtol=value_tol, atol=value_tol * scale + 1e-6
    )
    reached = [g is not None for g in reference_grads]
    assert [g is not None for g in grads] == reached, "gradients reach other inputs than in float32"
    for got, expected in zip(grads, reference_grads):
        if expected is None:
            continue
        assert got.dtype == outputs_dtype(mode) and torch.isfinite(got).all()
        got, expected = got.float() / BACKWARD_SCALE, expected / BACKWARD_SCALE
        error = (got - expected).norm().item()
        assert error <= grad_tol * expected.norm().item() + 1e-7, (error, expected.norm().item())


def outputs_dtype(mode: str) -> torch.dtype:
    """The dtype of the inputs and parameters (and so of their gradients) in ``mode``."""
    return torch.float32 if mode == "autocast" else getattr(torch, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", case_ids())
def test_aggregated_log_vars_are_finite_python_floats(name, mode):
    needs(name)
    config, factory = CASES[name]
    torch.manual_seed(0)
    _, outputs = mode_inputs(factory(), mode)
    aggregator = build_aggregator([{"type": name, **config}])
    direct, _ = evaluate(name, copy.copy(outputs), mode_context(mode))
    torch.manual_seed(1)
    with mode_context(mode):
        result = aggregator(outputs)
    assert result.log_vars and all(type(v) is float for v in result.log_vars.values())
    assert all(math.isfinite(v) for v in result.log_vars.values()), result.log_vars
    # the loss's own entry is its value (the mean of a non-scalar one), rounded as it is
    (loss_name,) = aggregator.loss_names()
    assert result.log_vars[loss_name] == pytest.approx(direct.mean().item(), rel=1e-6)
    assert result.log_vars["loss"] == result.log_vars[loss_name]


#: Losses that cannot run on "meta", and why that is no device assumption.
META_UNSUPPORTED = {
    # Each sample is computed by one term only, chosen by a boolean mask of its timestep:
    # data-dependent shapes (on a GPU a host synchronisation, not a wrong device).
    "DDPMVLBLoss": "selects samples by a boolean mask of the timesteps (data-dependent shapes)",
}


def to_meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        moved = value.detach().to("meta")
        return moved.requires_grad_(value.requires_grad) if value.is_floating_point() else moved
    if isinstance(value, nn.Module):
        return copy.deepcopy(value).to("meta")
    if isinstance(value, dict):
        return {key: to_meta(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_meta(item) for item in value]
    if isinstance(value, torch.amp.GradScaler):
        return None  # a CPU scaler; a GPU run would use a GPU scaler
    return value


@pytest.mark.parametrize("name", case_ids())
def test_loss_runs_on_the_meta_device(name):
    # "meta" stands for a GPU: a tensor made on the CPU inside the loss (torch.zeros(n)
    # without device=) would meet the inputs in an op and fail, and so would any value read
    # back to the host (.item(), int(tensor)), a synchronisation on a GPU.
    needs(name)
    if name in META_UNSUPPORTED:
        pytest.skip(META_UNSUPPORTED[name])
    config, factory = CASES[name]
    torch.manual_seed(0)
    outputs = {k: v for k, v in to_meta(factory()).items() if v is not None}
    info = config.get("data_info")
    if info is not None:
        config = {**config, "data_info": {k: v for k, v in info.items() if v in outputs}}
    loss = build_loss({"type": name, **config}).to("meta")
    value = loss(outputs)
    assert value.device.type == "meta"
    assert value.requires_grad
    for buffer in loss.buffers():
        assert buffer.device.type == "meta"


# -- the core ---------------------------------------------------------------------------


def shift(key: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": ShiftLoss, "data_info": {"pred": key}, **kwargs}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_values_are_logged_exactly_and_merged_in_the_wider_dtype(dtype):
    # mean(x^2) of x = (1, 2) is 2.5 and of x = 0.5 is 0.25, exact in every dtype; the two
    # merged under one name: 2.75, in float32 (the wider dtype).
    outputs = {"half": torch.tensor([1.0, 2.0], dtype=dtype), "full": torch.tensor([0.5])}
    result = build_aggregator([shift("half"), shift("full")])(outputs)
    assert result.total.dtype == torch.float32
    assert result.log_vars == {"loss_disc_shift": 2.75, "loss": 2.75}
    assert all(type(v) is float for v in result.log_vars.values())
    alone = build_aggregator([shift("half")])(outputs)
    assert alone.total.dtype == dtype
    assert alone.log_vars == {"loss_disc_shift": 2.5, "loss": 2.5}


def test_all_skipped_total_under_autocast_is_a_float32_zero_on_the_inputs_device():
    outputs = {"pred": torch.ones(2, device="meta"), "iteration": 1}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        result = build_aggregator([shift("pred", interval=2)])(outputs)
    assert result.skipped and result.log_vars == {"loss": 0.0}
    assert result.total.dtype == torch.float32 and result.total.device.type == "meta"


def test_float16_sum_based_reductions_do_not_overflow_where_the_result_fits():
    # 1000 x 100 ones: 'mean' gives 1, 'batchmean' should give 100 (per-sample sums of 100),
    # 'mean' with avg_factor=1000 also 100. The intermediate sum, 1e5, is inf in float16.
    loss = torch.ones(1000, 100, dtype=torch.float16)
    assert reduce_loss(loss, "mean").item() == 1.0
    assert reduce_loss(loss, "batchmean").item() == 100.0
    assert weight_reduce_loss(loss, reduction="mean", avg_factor=1000.0).item() == 100.0


@pytest.mark.skipif(
    "R1GradientPenalty" not in AVAILABLE, reason="needs ganloss-regularizers' R1GradientPenalty"
)
def test_grad_scaler_overflow_is_a_warning_under_the_default_policy():
    # Under float16 autocast D's output is float16, and GradScaler's default first scale 2**16
    # is the seed gradient of each output element: beyond float16's 65504, so the first R1
    # penalty is not finite (as in MMGeneration, which scales D's output alike). GradScaler's
    # protocol expects that: the step is skipped and the scale halved. With an enabled
    # scaler in the outputs, the default nonfinite="raise" warns instead of stopping there.
    torch.manual_seed(0)
    disc, x = ConvDisc(), torch.randn(4, 3, 8, 8)
    config = {
        "type": "R1GradientPenalty",
        "data_info": {"discriminator": "disc", "real_data": "x", "loss_scaler": "scaler"},
    }
    grad_scaler = torch.amp.GradScaler("cpu")
    optimizer = torch.optim.SGD(disc.parameters(), lr=0.1)
    aggregator = build_aggregator([config])  # nonfinite="raise"
    finite, scales = [], []
    for _ in range(3):
        with torch.autocast("cpu", dtype=torch.float16), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", RuntimeWarning)
            result = aggregator({"disc": disc, "x": x, "scaler": grad_scaler})
        finite.append(math.isfinite(result.log_vars["loss"]))
        if not finite[-1]:
            assert "while the outputs hold an enabled GradScaler" in str(w[-1].message)
        grad_scaler.scale(result.total).backward()
        grad_scaler.step(optimizer)
        grad_scaler.update()
        optimizer.zero_grad()
        scales.append(grad_scaler.get_scale())
    assert finite == [False, True, True]
    assert scales == [2.0**15, 2.0**15, 2.0**15]  # halved once, then no overflow
    # without a scaler (or with a disabled one) a non-finite value still stops training
    with torch.autocast("cpu", dtype=torch.float16), pytest.raises(NonFiniteLossError):
        disabled = torch.amp.GradScaler("cpu", enabled=False)
        build_aggregator([{**config, "data_info": {"discriminator": "disc", "real_data": "x"}}])(
            {"disc": disc, "x": x * float("nan"), "scaler": disabled}
        )

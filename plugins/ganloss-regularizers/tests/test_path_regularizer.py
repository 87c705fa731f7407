from __future__ import annotations

import math

import pytest
import torch
from _regularizer_nets import StyleGenerator
from ganloss_regularizers import (
    GeneratorPathRegularizer,
    path_length_noise,
    path_lengths,
)
from torch import nn

from ganlosscore import ConfigError, LossInputError

DATA_INFO = {"generator": "gen", "num_batches": "batch_size"}


class IdentityGenerator(nn.Module):
    """The image is the latent reshaped: w of shape (n, 4) -> image (n, 1, 2, 2).

    ``gain`` multiplies w, so the generator has a parameter and
    d sum(img * y) / dw = gain * y.
    """

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(gain))

    def forward(self, z, num_batches, return_latents):
        w = torch.ones(num_batches, 4).requires_grad_(True)
        return {"fake_img": (self.gain * w).view(num_batches, 1, 2, 2), "latent": w}


class OnesNoise(GeneratorPathRegularizer):
    """Projects on y = 1 instead of random directions, so values are derivable by hand."""

    def projection_noise(self, fake_img):
        return torch.ones_like(fake_img)


def test_mean_path_length_is_a_buffer_in_state_dict():
    reg = GeneratorPathRegularizer(data_info=DATA_INFO)
    assert "mean_path_length" in dict(reg.named_buffers())
    assert reg.state_dict()["mean_path_length"].item() == 0.0


def test_decay_update_by_hand():
    # y = 1 and w of size 4: J^T y = gain * (1, 1, 1, 1), path length
    # sqrt(4 * gain^2) = 2 for gain = 1 (eps = 0), for every sample.
    # step 1: a = 0 + 0.01 * (2 - 0) = 0.02,     penalty (2 - 0.02)^2   = 3.9204
    # step 2: a = 0.02 + 0.01 * (2 - 0.02) = 0.0398, penalty (2 - 0.0398)^2 = 3.84238404
    reg = OnesNoise(eps=0.0, data_info=DATA_INFO)
    outputs = {"gen": IdentityGenerator(), "batch_size": 3}
    assert reg(outputs).item() == pytest.approx(3.9204)
    assert reg.mean_path_length.item() == pytest.approx(0.02)
    assert reg(outputs).item() == pytest.approx(3.84238404)
    assert reg.state_dict()["mean_path_length"].item() == pytest.approx(0.0398)


def test_use_apex_amp_false_builds_and_changes_nothing():
    # MMGeneration's configs carry use_apex_amp=False; the value is that of
    # test_decay_update_by_hand's first step, (2 - 0.02)^2 = 3.9204.
    reg = OnesNoise(eps=0.0, use_apex_amp=False, data_info=DATA_INFO)
    assert reg({"gen": IdentityGenerator(), "batch_size": 3}).item() == pytest.approx(3.9204)


def test_use_apex_amp_true_points_to_loss_scaler():
    with pytest.raises(ConfigError, match="torch.amp.GradScaler.*'loss_scaler'"):
        GeneratorPathRegularizer(use_apex_amp=True)


def test_state_dict_round_trip_restores_the_running_mean():
    reg = OnesNoise(eps=0.0, data_info=DATA_INFO)
    reg({"gen": IdentityGenerator(), "batch_size": 2})
    restored = OnesNoise(eps=0.0, data_info=DATA_INFO)
    restored.load_state_dict(reg.state_dict())
    # Both continue from a = 0.02: a = 0.0398, penalty 3.84238404.
    outputs = {"gen": IdentityGenerator(), "batch_size": 2}
    assert restored(outputs).item() == pytest.approx(3.84238404)


def test_eval_mode_does_not_move_the_running_mean():
    reg = OnesNoise(eps=0.0, data_info=DATA_INFO).eval()
    # The penalty still uses a = 0 + 0.01 * (2 - 0) = 0.02, but the buffer stays 0.
    assert reg({"gen": IdentityGenerator(), "batch_size": 2}).item() == pytest.approx(3.9204)
    assert reg.mean_path_length.item() == 0.0


def test_penalty_gradient_reaches_generator_parameters():
    # path length l = 2 |gain|; a = 0.01 l; penalty (l - a)^2 = (0.99 l)^2 = 0.9801 * 4 gain^2;
    # d/dgain = 0.9801 * 8 gain = 7.8408 at gain = 1 (a stays in the graph, as in StyleGAN2).
    gen = IdentityGenerator()
    OnesNoise(eps=0.0)(gen, 2).backward()
    assert gen.gain.grad.item() == pytest.approx(7.8408)


def test_eps_keeps_zero_gradients_finite():
    # gain = 0: J^T y = 0 and l = sqrt(0 + eps). d l / d gain = gain * sum(y^2) / l,
    # which is 0 / sqrt(eps) = 0 with eps > 0 and 0 / 0 = NaN without it.
    gen = IdentityGenerator(gain=0.0)
    value = OnesNoise()(gen, 2)
    assert torch.isfinite(value)
    value.backward()
    assert gen.gain.grad.item() == 0.0
    gen.gain.grad = None
    OnesNoise(eps=0.0)(gen, 2).backward()
    assert math.isnan(gen.gain.grad.item())  # what eps prevents


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 8),
        ({"pl_batch_shrink": 2}, 4),
        ({"pl_batch_shrink": 3}, 2),  # 8 // 3
        ({"pl_batch_shrink": 16}, 1),  # never below one sample
        ({"pl_batch_size": 3}, 3),
        ({"pl_batch_size": 3, "pl_batch_shrink": 2}, 3),  # pl_batch_size overrides
    ],
)
def test_generated_batch_size(kwargs, expected):
    gen = StyleGenerator(torch.randn(8, 4))
    reg = GeneratorPathRegularizer(data_info=DATA_INFO, **kwargs)
    reg({"gen": gen, "batch_size": 8})
    assert gen.calls == [expected]


def test_path_lengths_average_layers_and_sum_latent_dims():
    # w of shape (1, 2, 2), the image is w; y = [[1, 2], [3, 4]] so J^T y = y:
    # sum over D per layer: 1 + 4 = 5 and 9 + 16 = 25; mean over layers 15 -> sqrt(15).
    w = torch.zeros(1, 2, 2, requires_grad=True)
    noise = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    lengths = path_lengths(w.view(1, 1, 2, 2), w, noise, eps=0.0)
    assert lengths.item() == pytest.approx(math.sqrt(15))


def test_noise_is_standard_normal_over_sqrt_hw():
    img = torch.zeros(2, 3, 4, 5)
    torch.manual_seed(7)
    noise = path_length_noise(img)
    torch.manual_seed(7)
    torch.testing.assert_close(noise, torch.randn(2, 3, 4, 5) / math.sqrt(4 * 5))


def test_loss_scaler_gives_the_same_value():
    torch.manual_seed(0)
    gen = StyleGenerator(torch.randn(4, 4))
    values = []
    for scaler in (None, torch.amp.GradScaler("cpu", init_scale=2.0**12)):
        torch.manual_seed(1)
        values.append(GeneratorPathRegularizer()(gen, 4, loss_scaler=scaler))
    torch.testing.assert_close(values[1], values[0])


def test_under_cpu_autocast_close_to_float32():
    torch.manual_seed(0)
    gen = StyleGenerator(torch.randn(8, 4))
    torch.manual_seed(1)
    reference = GeneratorPathRegularizer()(gen, 8)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = GeneratorPathRegularizer()(gen, 8)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(reference.item(), rel=5e-2)
    value.backward()
    assert all(torch.isfinite(p.grad).all() for p in gen.parameters())


def test_sync_without_process_group_is_plain():
    gen = IdentityGenerator()
    synced = OnesNoise(eps=0.0, sync_mean_buffer=True)(gen, 2)
    assert synced.item() == pytest.approx(3.9204)


def test_generator_convention_errors_are_clear():
    def returns_tensor(z, num_batches, return_latents):
        return torch.zeros(num_batches, 1, 2, 2)

    with pytest.raises(LossInputError, match="'fake_img' and 'latent'.*Tensor"):
        GeneratorPathRegularizer()(returns_tensor, 2)

    def detached_latent(z, num_batches, return_latents):
        return {"fake_img": torch.zeros(num_batches, 1, 2, 2), "latent": torch.zeros(2, 4)}

    with pytest.raises(LossInputError, match="autograd graph"):
        GeneratorPathRegularizer()(detached_latent, 2)

    # a plain generator that does not take the StyleGAN2 call: our error, not torch's TypeError
    with pytest.raises(LossInputError, match=r"must accept MMGeneration's StyleGAN2 call"):
        GeneratorPathRegularizer()(torch.nn.Linear(8, 12), 4)

    def buggy(z, num_batches, return_latents):
        return len(None)  # a TypeError inside a generator that takes the call: left as is

    with pytest.raises(TypeError, match="NoneType") as info:
        GeneratorPathRegularizer()(buggy, 2)
    assert not isinstance(info.value, LossInputError)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"pl_batch_shrink": 0}, "pl_batch_shrink"),
        ({"pl_batch_shrink": 1.5}, "pl_batch_shrink"),
        ({"decay": 1.5}, "decay"),
        ({"decay": -0.1}, "decay"),
        ({"pl_batch_size": 0}, "pl_batch_size"),
        ({"sync_mean_buffer": "yes"}, "sync_mean_buffer"),
        ({"eps": -1e-8}, "eps"),
        ({"use_apex_amp": True}, "use_apex_amp: NVIDIA apex is not supported"),
        ({"use_apex_amp": 0}, "use_apex_amp"),
    ],
)
def test_bad_hyperparameters(kwargs, where):
    with pytest.raises(ConfigError, match=f"GeneratorPathRegularizer.{where}"):
        GeneratorPathRegularizer(**kwargs)

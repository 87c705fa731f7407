"""The conditional toybench (`--conditional`): labels, the outputs dict, the label metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ganloss_toybench import load_run_config, ring
from ganloss_toybench.data import grid
from ganloss_toybench.metrics import label_metrics
from ganloss_toybench.models import (
    ConditionalMLPGenerator,
    LabelledDiscriminator,
    ProjectionMLPDiscriminator,
)
from ganloss_toybench.training import (
    CONDITIONAL_DISC_KEYS,
    DISC_OUTPUT_KEYS,
    _conditional_disc_outputs,
    _conditional_gen_outputs,
    train,
)

from ganlosscore import ConfigError
from ganlosscore.cli import main

EXAMPLES = Path(__file__).parents[1] / "examples"
CONDITIONAL_CONFIGS = sorted(EXAMPLES.glob("conditional-*.toml"))
#: each example config -> the loss names its two aggregators log
LOGGED = {
    "ac": ({"loss_disc_adv", "loss_r1_gp", "loss_ac"}, {"loss_gen_adv", "loss_ac"}),
    "tac": ({"loss_disc_adv", "loss_r1_gp", "loss_disc_tac"}, {"loss_gen_adv", "loss_gen_tac"}),
    "adc": ({"loss_disc_adv", "loss_r1_gp", "loss_disc_adc"}, {"loss_gen_adv", "loss_gen_adc"}),
    "2c": ({"loss_disc_adv", "loss_r1_gp", "loss_2c"}, {"loss_gen_adv", "loss_2c"}),
    "d2d-ce": ({"loss_disc_adv", "loss_r1_gp", "loss_d2d_ce"}, {"loss_gen_adv", "loss_d2d_ce"}),
    "mh": ({"loss_mh"}, {"loss_mh"}),
}


def test_every_conditional_loss_has_an_example_config():
    assert [p.stem.removeprefix("conditional-") for p in CONDITIONAL_CONFIGS] == sorted(LOGGED)


@pytest.mark.parametrize("path", CONDITIONAL_CONFIGS, ids=lambda p: p.stem)
def test_each_conditional_config_builds_and_trains_a_step(path):
    # Building checks every data_info key against the conditional outputs dict;
    # two steps then feed each loss its inputs, and each logs a finite value.
    overrides = {"steps": 2, "batch_size": 16, "num_samples": 8}
    settings, disc, gen, _ = load_run_config(path, overrides)
    assert settings.conditional
    result = train(settings, disc, gen)
    disc_names, gen_names = LOGGED[path.stem.removeprefix("conditional-")]
    assert set(result.final["disc"]) == disc_names | {"loss"}
    assert set(result.final["gen"]) == gen_names | {"loss"}
    for values in result.final.values():
        assert all(np.isfinite(v) for v in values.values())


def test_the_outputs_dicts_hold_what_the_conditional_losses_read():
    torch.manual_seed(0)
    gen = ConditionalMLPGenerator(2, (8, 8), 8)
    disc = ProjectionMLPDiscriminator((8, 8), 8, embedding_dim=4)
    real, real_labels = ring().sample_with_modes(5, torch.Generator().manual_seed(1))
    fake_labels = torch.tensor([7, 6, 5, 4, 3])
    outputs = _conditional_disc_outputs(
        gen, disc, (real, real_labels), fake_labels, torch.randn(5, 2)
    )
    assert set(outputs) | {"iteration", "batch_size", "loss_scaler"} == set(
        DISC_OUTPUT_KEYS + CONDITIONAL_DISC_KEYS
    )
    shapes = {key: tuple(value.shape) for key, value in outputs.items() if torch.is_tensor(value)}
    for side in ("real", "fake"):
        assert shapes[f"cls_{side}"] == shapes[f"twin_cls_{side}"] == (5, 8)
        assert shapes[f"adc_{side}"] == (5, 16) and shapes[f"mh_{side}"] == (5, 9)
        assert shapes[f"embed_{side}"] == shapes[f"proxy_{side}"] == (5, 4)
        assert shapes[f"disc_pred_{side}"] == (5, 1)
    assert torch.equal(outputs["real_labels"], real_labels)
    assert torch.equal(outputs["fake_labels"], fake_labels)
    # the discriminator bound to each side's labels is what a gradient penalty calls
    assert torch.equal(outputs["disc"](real), outputs["disc_pred_real"])
    bound_fake = outputs["disc_fake_labels"](outputs["fake_imgs"])
    assert torch.equal(bound_fake, outputs["disc_pred_fake"])
    # the projection term: the score depends on the label
    assert not torch.equal(
        disc(real, real_labels)["score"], disc(real, (real_labels + 1) % 8)["score"]
    )

    fake = gen(torch.randn(5, 2), fake_labels)
    on_gen = _conditional_gen_outputs(gen, disc, fake, fake_labels)
    assert on_gen["cls_fake"].grad_fn is not None  # the generator step's heads reach G
    assert isinstance(on_gen["disc"], LabelledDiscriminator)


def test_the_projection_discriminator_has_no_dead_units():
    # With a ReLU trunk, units whose inputs all turn negative pass no gradient
    # again; on the ring the score went flat at every generated sample for good
    # (its gradient exactly 0 from step ~8,000 on, each label's samples left up
    # to 0.26 off their mode). LeakyReLU keeps a gradient everywhere.
    torch.manual_seed(0)
    disc = ProjectionMLPDiscriminator((8, 8), 8)
    with torch.no_grad():  # every pre-activation of the first layer negative on x >= 0
        first = disc.trunk[0]
        first.weight.copy_(-first.weight.abs())
        first.bias.fill_(-1.0)
    x = torch.rand(16, 2).requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(x, torch.arange(16) % 8)["score"].sum(), x)
    assert grad.abs().sum(dim=1).min() > 0


def test_label_metrics_on_known_cases():
    centres = grid().centre_tensor()  # 25 modes, sigma 0.05: high quality within 0.15
    labels = torch.arange(50) % 25
    # A perfect conditional generator: every sample on its label's mode.
    perfect = label_metrics(centres[labels], labels, centres, 0.05)
    assert perfect == {
        "at_label": 1.0,
        "high_quality_at_label": 1.0,
        "high_quality_and_at_label": 1.0,
    }
    # Sharp samples, each at the next label's mode: none at its own.
    shifted = label_metrics(centres[(labels + 1) % 25], labels, centres, 0.05)
    assert shifted == {
        "at_label": 0.0,
        "high_quality_at_label": 0.0,
        "high_quality_and_at_label": 0.0,
    }
    # 50 samples: 20 sharp at their mode, 10 sharp at the wrong mode, 15 at their
    # mode but 0.5 away (not high quality), 5 halfway between two modes (nearest is
    # the lower-index mode on a tie, which is not their label).
    samples = centres[labels].clone()
    samples[20:30] = centres[(labels[20:30] + 5) % 25]
    samples[30:45] += torch.tensor([0.5, 0.0])
    left = torch.arange(5)  # the modes (-4, y): grid centres are (x, y) for x, then y
    samples[45:50] = centres[left] + torch.tensor([1.0, 0.0])
    labels[45:50] = left + 5  # the mode at x = -2, right of each point, at the same distance
    m = label_metrics(samples, labels, centres, 0.05)
    # at label: 20 + 15 of 50; high quality: 30, of which 20 at their label
    assert m == {
        "at_label": 35 / 50,
        "high_quality_at_label": 20 / 30,
        "high_quality_and_at_label": 20 / 50,
    }
    # no high-quality sample: the share among them is undefined
    labels = torch.arange(50) % 25
    far = label_metrics(centres[labels] + 0.5, labels, centres, 0.05)
    assert far["high_quality_at_label"] is None and far["high_quality_and_at_label"] == 0.0


def test_sample_with_modes_draws_what_sample_draws():
    # The unconditional benchmark draws its data through sample(): unchanged, bit for bit.
    for mixture in (ring(), grid()):
        x, modes = mixture.sample_with_modes(100, torch.Generator().manual_seed(3))
        assert torch.equal(x, mixture.sample(100, torch.Generator().manual_seed(3)))
        near = torch.cdist(x.double(), mixture.centre_tensor().double()).argmin(dim=1)
        assert torch.equal(near, modes)


def test_conditional_command_end_to_end(tmp_path):
    assert (
        main(["toybench", "--conditional", "--steps", "200", "--out", str(tmp_path), "--quiet"])
        == 0
    )
    record = json.loads((tmp_path / "ring-seed0.json").read_text())
    assert record["conditional"] is True and record["config"]["toybench"]["conditional"] is True
    labelled = record["label_metrics"]
    assert set(labelled) == {"at_label", "high_quality_at_label", "high_quality_and_at_label"}
    # 200 steps of a projection discriminator already put most samples at their label's mode
    assert labelled["at_label"] > 0.5
    with np.load(tmp_path / "ring-seed0.npz") as arrays:
        assert arrays["labels"].tolist() == [i % 8 for i in range(2500)]


def test_conditional_needs_a_mixture_and_its_keys_need_conditional(tmp_path):
    with pytest.raises(ConfigError, match=r"--conditional: a conditional run trains on the 2-D"):
        load_run_config(None, {"dataset": "digits", "conditional": True})
    config = EXAMPLES / "conditional-ac.toml"
    with pytest.raises(ConfigError, match=r"'cls_real'.*it is a key of conditional runs"):
        load_run_config(config, {"conditional": False})

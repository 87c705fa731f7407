"""The training loop: what the losses see, and how it fails."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
import torch
from ganloss_toybench import MLPDiscriminator, MLPGenerator, default_config, resolve_settings, train
from ganloss_toybench.training import DISC_OUTPUT_KEYS, GEN_OUTPUT_KEYS, build_losses

from ganlosscore import ConfigError, GanLossError, LossModule

NS_DISC = {
    "type": "DiscAdversarialLoss",
    "gan_type": "ns",
    "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
}
NS_GEN = {
    "type": "GenAdversarialLoss",
    "gan_type": "ns",
    "data_info": {"pred_fake": "disc_pred_fake_g"},
}


class Probe(LossModule):
    """Records every input it is given; contributes 0 to the total."""

    default_loss_name = "loss_probe"
    seen: ClassVar[list[dict[str, Any]]] = []

    def compute(self, **inputs: Any) -> torch.Tensor:
        Probe.seen.append(dict(inputs))
        total = torch.zeros(())
        for key, value in inputs.items():
            if key.startswith("disc_pred"):
                total = total + 0.0 * value.sum()
        return total


def probe(keys: tuple[str, ...]) -> dict[str, Any]:
    return {"type": Probe, "data_info": {k: k for k in keys}}


def short(**changes: Any):
    return resolve_settings({"steps": 3, "batch_size": 8, "num_samples": 10, **changes})


def test_losses_see_mmgeneration_outputs():
    Probe.seen.clear()
    train(short(), [NS_DISC, probe(DISC_OUTPUT_KEYS)], [NS_GEN, probe(GEN_OUTPUT_KEYS)])
    disc_calls, gen_calls = Probe.seen[0::2], Probe.seen[1::2]
    assert [c["iteration"] for c in disc_calls] == [0, 1, 2]
    d, g = disc_calls[0], gen_calls[0]
    assert isinstance(d["gen"], MLPGenerator) and isinstance(d["disc"], MLPDiscriminator)
    assert d["real_imgs"].shape == d["fake_imgs"].shape == (8, 2)
    assert d["disc_pred_real"].shape == d["disc_pred_fake"].shape == (8, 1)
    assert not d["fake_imgs"].requires_grad  # detached in the discriminator step
    assert d["batch_size"] == 8 and d["loss_scaler"] is None
    assert g["fake_imgs"].requires_grad  # the generator step back-propagates through them
    assert g["disc_pred_fake_g"].shape == (8, 1)
    assert g["real_imgs"].shape == (8, 2) and g["disc_pred_real"].shape == (8, 1)


def test_gen_step_computes_real_predictions_only_on_demand():
    Probe.seen.clear()
    keys = ("disc_pred_fake_g", "iteration")
    train(short(steps=1), [NS_DISC], [NS_GEN, probe(keys)])
    assert set(Probe.seen[0]) == set(keys)


def test_networks_see_scaled_data():
    # The grid spans [-4, 4]; divided by its scale 2 the networks see [-2, 2] (plus noise).
    Probe.seen.clear()
    train(short(dataset="grid", steps=1, batch_size=64), [NS_DISC, probe(("real_imgs",))], [NS_GEN])
    assert Probe.seen[0]["real_imgs"].abs().max().item() < 2.3


def test_relativistic_generator_loss_trains():
    gen = [
        {
            "type": "GenAdversarialLoss",
            "gan_type": "rahinge",
            "data_info": {"pred_fake": "disc_pred_fake_g", "pred_real": "disc_pred_real"},
        }
    ]
    disc = [{**NS_DISC, "gan_type": "rahinge"}]
    result = train(short(), disc, gen)
    assert set(result.final["gen"]) == {"loss_gen_adv", "loss"}


def test_history_and_final_log_vars():
    config = default_config()
    result = train(short(steps=4), config["disc"], config["gen"])
    assert [i for i, _ in result.history["disc"]["loss_r1_gp"]] == [0, 1, 2, 3]
    assert set(result.final["disc"]) == {"loss_disc_adv", "loss_r1_gp", "loss"}
    d = result.final["disc"]
    assert d["loss"] == pytest.approx(d["loss_disc_adv"] + d["loss_r1_gp"], rel=1e-6)


def test_unknown_outputs_key_is_a_config_error_before_training():
    bad = [{**NS_GEN, "data_info": {"pred_fake": "disc_pred_fake"}}]
    with pytest.raises(
        ConfigError, match=r"run.toml: gen\[0\]\.data_info\.pred_fake: .*disc_pred_fake_g"
    ):
        build_losses([NS_DISC], bad, where="run.toml")


def test_loss_errors_keep_their_type_and_gain_the_file():
    with pytest.raises(ConfigError, match=r"^run.toml: disc\[0\]\.type: .*Did you mean"):
        build_losses([{**NS_DISC, "type": "DiscAdversarialLos"}], [NS_GEN], where="run.toml")


def test_a_phase_with_nothing_to_backpropagate_is_reported():
    lazy_only = [
        {
            "type": "R1GradientPenalty",
            "interval": 4,
            "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
        }
    ]
    # Iteration 0 runs R1 (0 % 4 == 0); iteration 1 skips it, leaving nothing.
    with pytest.raises(
        GanLossError, match="disc losses gave nothing to back-propagate at iteration 1"
    ):
        train(short(), lazy_only, [NS_GEN])


def test_batch_must_split_over_processes():
    with pytest.raises(ConfigError, match="divisible by the number of processes"):
        train(short(batch_size=9), [NS_DISC], [NS_GEN], world_size=2)


def test_python_api_writes_a_config_holding_a_class(tmp_path):
    from ganloss_toybench import run_toybench

    gen = [{**NS_GEN, "type": type(build_losses([NS_DISC], [NS_GEN])[1].losses[0])}]
    outcome = run_toybench(short(), [NS_DISC], gen, out_dir=tmp_path, progress=False)
    assert outcome is not None and outcome.json_path is not None
    record = json.loads(outcome.json_path.read_text())
    assert record["config"]["gen"][0]["type"].startswith("<class 'ganloss_adversarial")

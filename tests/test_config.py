import json
import sys

import pytest
import torch
from _losses import PairLoss, ShiftLoss

from ganlosscore import ConfigError, UnknownLossError, build_aggregator, build_loss, load_config


def test_build_loss_from_a_dict(local_losses):
    loss = build_loss({"type": "PairLoss", "scale": 2.0, "data_info": {"a": "x", "b": "y"}})
    assert isinstance(loss, PairLoss) and loss.scale == 2.0


def test_a_built_loss_passes_through():
    loss = ShiftLoss()
    assert build_loss(loss) is loss


def test_mmgeneration_config_dicts_work_unchanged(ganloss_registry):
    # the seed tutorial's config, renamed so it does not clash with the installed plugin
    ganloss_registry.register(ShiftLoss, name="TutorialShiftLoss")
    cfg = dict(
        type="TutorialShiftLoss", loss_weight=0.001 * 0.5, data_info=dict(pred="disc_pred_real")
    )
    loss = build_loss(cfg)
    # 0.0005 * mean([1, 9])
    assert loss({"disc_pred_real": torch.tensor([1.0, 3.0])}).item() == pytest.approx(0.0025)


def test_unknown_key_suggests_the_closest(local_losses):
    with pytest.raises(
        ConfigError, match=r"loss_wieght: PairLoss has no option 'loss_wieght'.*'loss_weight'"
    ):
        build_loss({"type": "PairLoss", "loss_wieght": 1.0})


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"loss_weight": 1.0}, "needs a 'type'"),
        ({"type": 3}, "type must be a loss name"),
        ({"type": dict}, "not a subclass of LossModule"),
        ([("type", "x")], "a loss config is a dict"),
    ],
)
def test_malformed_configs(cfg, message):
    with pytest.raises(ConfigError, match=message):
        build_loss(cfg)


def test_type_never_imports_a_module():
    sys.modules.pop("json.tool", None)
    with pytest.raises(UnknownLossError, match="unknown loss type 'json.tool:main'"):
        build_loss({"type": "json.tool:main"})
    assert "json.tool" not in sys.modules


def test_errors_inside_the_constructor_become_config_errors():
    class Picky(ShiftLoss):
        def __init__(self, mode="a", **kwargs):
            super().__init__(**kwargs)
            if mode != "a":
                raise ValueError("mode must be 'a'")

    with pytest.raises(ConfigError, match=r"building Picky failed: mode must be 'a'") as info:
        build_loss({"type": Picky, "mode": "b"}, where="gen[0]")
    assert str(info.value).startswith("gen[0]: ")
    assert isinstance(info.value.__cause__, ValueError)


def test_build_aggregator_reports_every_problem_with_its_place(local_losses):
    configs = [
        {"type": "ShiftLoss", "data_info": {"pred": "p"}},
        {"type": "ShiftLos", "data_info": {"pred": "p"}},
        {"type": "PairLoss", "data_info": {"a": "x", "bb": "y"}},
        {"type": "ShiftLoss", "data_info": {"pred": "p"}, "interval": 0},
    ]
    with pytest.raises(ConfigError) as info:
        build_aggregator(configs, name="disc")
    message = str(info.value)
    assert message.startswith("3 problems in the 'disc' losses")
    assert "disc[1].type: unknown loss type 'ShiftLos'" in message
    assert "disc[2].data_info.bb: PairLoss has no input 'bb'" in message
    assert "disc[3].interval" in message


def test_a_single_dict_is_an_aggregator_of_one(local_losses):
    agg = build_aggregator({"type": "ShiftLoss", "data_info": {"pred": "p"}})
    assert len(agg.losses) == 1


CONFIG = {
    "disc": [{"type": "ShiftLoss", "loss_weight": 0.5, "data_info": {"pred": "disc_pred_real"}}],
    "gen": [{"type": "PairLoss", "data_info": {"a": "x", "b": "y"}}],
}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_json_toml_yaml_give_the_same_config(tmp_path):
    toml = """
[[disc]]
type = "ShiftLoss"
loss_weight = 0.5
data_info = { pred = "disc_pred_real" }

[[gen]]
type = "PairLoss"
data_info = { a = "x", b = "y" }
"""
    yaml = """
disc:
  - type: ShiftLoss
    loss_weight: 0.5
    data_info: {pred: disc_pred_real}
gen:
  - {type: PairLoss, data_info: {a: x, b: y}}
"""
    assert load_config(write(tmp_path, "c.json", json.dumps(CONFIG))) == CONFIG
    assert load_config(write(tmp_path, "c.toml", toml)) == CONFIG
    assert load_config(write(tmp_path, "c.yaml", yaml)) == CONFIG
    assert load_config(write(tmp_path, "c.yml", yaml)) == CONFIG


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path, "evil.yaml", "disc: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.json", '{"disc": [', r"invalid JSON at line 1"),
        ("c.toml", "disc = [", r"invalid TOML"),
        ("c.py", "disc = []", r"unsupported config format '.py'.*not executed"),
        ("c.json", "[1, 2]", r"top level of a config file must be a mapping"),
    ],
)
def test_bad_files(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "absent.json")

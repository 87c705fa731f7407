"""The toybench config: the embedded default, settings checks, overrides."""

from __future__ import annotations

import sys

import pytest
from ganloss_toybench import default_config, resolve_settings
from ganloss_toybench.config import default_config_text, split_config

from ganlosscore import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_default_config_is_the_shipped_file():
    config = default_config()
    assert config == tomllib.loads(default_config_text())
    assert set(config) == {"disc", "gen", "toybench"}
    types = [loss["type"] for loss in config["disc"]] + [loss["type"] for loss in config["gen"]]
    assert types == ["DiscAdversarialLoss", "R1GradientPenalty", "GenAdversarialLoss"]


def test_default_settings():
    s = resolve_settings({})
    assert (s.dataset, s.steps, s.batch_size, s.num_samples, s.seed) == (
        "ring",
        12000,
        128,
        2500,
        0,
    )
    assert s.gen_hidden == (128, 128, 128) and s.betas == (0.0, 0.99)
    assert s.to_dict()["gen_hidden"] == [128, 128, 128]


def test_section_then_overrides_win():
    s = resolve_settings({"steps": 50, "dataset": "grid"}, {"steps": 7, "seed": None})
    assert (s.steps, s.dataset, s.seed) == (7, "grid", 0)


def test_unknown_setting_suggests_the_right_one():
    with pytest.raises(ConfigError, match=r"toybench\.step: unknown setting 'step'.*'steps'"):
        resolve_settings({"step": 10})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("steps", 0, "integer >= 1"),
        ("steps", 1.5, "integer >= 1"),
        ("steps", True, "integer >= 1"),
        ("dataset", "spiral", "one of ring, grid"),
        ("lr_gen", 0, r"in \(0.0, 1.0\]"),
        ("decay_start", 1.5, r"in \[0.0, 1.0\]"),
        ("betas", [0.5], "two betas"),
        ("betas", [0.5, 1.0], "two betas"),
        ("gen_hidden", [], "layer widths"),
        ("disc_hidden", [128, 0], "layer widths"),
        ("seed", -1, "integer >= 0"),
    ],
)
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=rf"toybench\.{key}: .*{message}"):
        resolve_settings({key: value})


def test_config_needs_both_loss_lists_and_no_stray_keys():
    with pytest.raises(ConfigError, match="no 'gen' loss list"):
        split_config({"disc": []}, "my.toml")
    with pytest.raises(ConfigError, match=r"my.toml: toybnech: .*Did you mean 'toybench'"):
        split_config({"disc": [], "gen": [], "toybnech": {}}, "my.toml")
    with pytest.raises(ConfigError, match="must be a table"):
        split_config({"disc": [], "gen": [], "toybench": [1]}, "my.toml")

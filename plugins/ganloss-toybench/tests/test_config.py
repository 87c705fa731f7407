"""The toybench config: the embedded default, settings checks, overrides."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from ganloss_toybench import default_config, resolve_settings
from ganloss_toybench.config import (
    MAX_THREADS,
    check_config,
    default_config_text,
    split_config,
)
from ganloss_toybench.data import load_dataset

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
        ("steps", 0, r"integer in \[1, 1000000\], got 0"),
        ("steps", 1.5, r"integer in \[1, 1000000\]"),
        ("steps", True, r"integer in \[1, 1000000\]"),
        ("dataset", "spiral", "one of 'ring', 'grid', 'digits', 'stacked-digits'"),
        ("lr_gen", 0, r"in \(0.0, 1.0\]"),
        ("decay_start", 1.5, r"in \[0.0, 1.0\]"),
        ("betas", [0.5], "two betas"),
        ("betas", [0.5, 1.0], r"\[1\]: must lie in \[0.0, 1.0\), got 1.0"),
        ("gen_hidden", [], "layer widths"),
        ("disc_hidden", [128, 0], r"\[1\]: must be an integer in \[1, 2048\], got 0"),
        ("ema", 1.0, r"must lie in \[0.0, 1.0\), got 1.0"),
        ("seed", -1, r"integer in \[0, 9223372036854775807\]"),
        # the caps: a stray digit fails here instead of exhausting memory or time
        ("steps", 1_000_001, r"integer in \[1, 1000000\], got 1000001"),
        ("batch_size", 16_385, r"integer in \[1, 16384\], got 16385"),
        ("disc_steps", 101, r"integer in \[1, 100\], got 101"),
        ("latent_dim", 1_025, r"integer in \[1, 1024\], got 1025"),
        ("gen_hidden", [128, 4096], r"\[1\]: must be an integer in \[1, 2048\], got 4096"),
        ("disc_hidden", [128] * 9, r"1 to 8 layer widths, each an integer in \[1, 2048\]"),
        ("num_samples", 100_001, r"integer in \[1, 100000\], got 100001"),
        ("seed", 2**63, r"integer in \[0, 9223372036854775807\], got 9223372036854775808"),
    ],
)
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=rf"toybench\.{key}.*{message}"):
        resolve_settings({key: value})


def test_config_needs_both_loss_lists_and_no_stray_keys():
    with pytest.raises(ConfigError, match="no 'gen' loss list"):
        split_config({"disc": []}, "my.toml")
    with pytest.raises(ConfigError, match=r"my.toml: toybnech: .*Did you mean 'toybench'"):
        split_config({"disc": [], "gen": [], "toybnech": {}}, "my.toml")
    with pytest.raises(ConfigError, match="must be a table"):
        split_config({"disc": [], "gen": [], "toybench": [1]}, "my.toml")


def test_the_largest_values_pass():
    s = resolve_settings(
        {
            "steps": 1_000_000,
            "batch_size": 16_384,
            "disc_steps": 100,
            "latent_dim": 1_024,
            "gen_hidden": [2048] * 8,
            "num_samples": 100_000,
            "seed": 2**63 - 1,
        }
    )
    assert (s.steps, s.batch_size, s.gen_hidden, s.seed) == (
        1_000_000,
        16_384,
        (2048,) * 8,
        2**63 - 1,
    )


def test_threads_are_capped_the_same_on_every_machine(monkeypatch):
    # A config is valid or not whatever machine reads it: a result run with threads = 4
    # (bit-for-bit reproducible for that thread count) can be rerun on a 2-CPU laptop.
    for cpus in (2, None):
        monkeypatch.setattr(os, "cpu_count", lambda cpus=cpus: cpus)
        assert resolve_settings({"threads": 4}).threads == 4
        assert resolve_settings({"threads": MAX_THREADS}).threads == MAX_THREADS
        with pytest.raises(ConfigError) as info:
            resolve_settings({"threads": MAX_THREADS + 1}, where="gan.toml: ")
        assert str(info.value) == (
            f"gan.toml: toybench.threads: must be an integer in [1, {MAX_THREADS}], "
            f"got {MAX_THREADS + 1}"
        )
    # a machine with more CPUs than the cap may use them all
    monkeypatch.setattr(os, "cpu_count", lambda: 2 * MAX_THREADS)
    assert resolve_settings({"threads": 2 * MAX_THREADS}).threads == 2 * MAX_THREADS


def test_a_huge_value_is_shown_shortened():
    with pytest.raises(ConfigError) as info:
        resolve_settings({"gen_hidden": [128] * 1_000_000})
    message = str(info.value)
    # ganlosscore.errors.brief: the first 6 items, then '...'
    assert message.endswith(f"got [{', '.join(['128'] * 6)}, ...]")


def test_every_setting_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        resolve_settings(
            {"step": 10, "steps": 0, "gen_hidden": [10**9], "seed": -1},
            {"seed": None, "dataset": "spiral"},
            where="gan.toml: ",
        )
    error = info.value
    assert [p.where for p in error.problems] == [
        "gan.toml: toybench.step",
        "--dataset",  # an override is named as the option that gave it
        "gan.toml: toybench.steps",
        "gan.toml: toybench.gen_hidden[0]",
        "gan.toml: toybench.seed",
    ]
    assert str(error).splitlines()[0] == "5 problems in the [toybench] settings:"
    assert str(error).splitlines()[2] == (
        "  - --dataset: must be one of 'ring', 'grid', 'digits', 'stacked-digits'; got 'spiral'."
    )


def test_every_top_level_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        split_config({"disc": [], "toybnech": {}, "extra": 1}, "my.toml")
    error = info.value
    assert error.file == "my.toml"
    assert str(error).startswith("my.toml: 3 problems in the toybench config:\n")
    assert [p.where for p in error.problems] == ["toybnech", "extra", None]
    assert "Did you mean 'toybench'?" in str(error.problems[0])
    assert "no 'gen' loss list" in str(error.problems[2])


def broken_config():
    """The default config with a problem in each part: top level, settings, both lists."""
    config = default_config()
    config["extra"] = 1
    config["toybench"] = {"step": 3, "steps": 0, "gen_hidden": [128] * 20}
    config["disc"][0]["gan_type"] = "nss"  # the first disc loss does not build ...
    # ... and the second builds but reads a key the disc step does not provide
    config["disc"][1]["data_info"] = {"discriminator": "disc", "real_data": "real_images"}
    config["gen"][0]["scael"] = 2.0
    return config


def test_check_config_reports_every_problem_of_the_file_at_once():
    with pytest.raises(ConfigError) as info:
        check_config(broken_config(), {"seed": 2**64}, where="gan.toml")
    error = info.value
    assert error.file == "gan.toml"
    assert str(error).startswith("gan.toml: 8 problems in the toybench config:\n  - extra: ")
    assert [p.where for p in error.problems] == [
        "extra",
        "toybench.step",
        "toybench.steps",
        "toybench.gen_hidden",
        "--seed",
        "disc[0].DiscAdversarialLoss.gan_type",
        "disc[1].data_info.real_data",
        "gen[0].GenAdversarialLoss.scael",
    ]
    messages = [p.message for p in error.problems]
    assert "got 'nss'" in messages[5] and "Did you mean 'ns'?" in messages[5]
    assert messages[6].startswith(
        "R1GradientPenalty reads 'real_data' from outputs key 'real_images', which the "
        "toybench's disc step does not provide"
    )
    assert messages[7].startswith("GenAdversarialLoss has no option 'scael'")


@pytest.mark.parametrize(
    ("gen", "where", "message"),
    [
        ([], "gen", "the gen loss list is empty; a toybench step needs at least one loss"),
        (None, "gen", "an aggregator config is a list of loss configs, got NoneType"),
        ([{"gan_type": "ns"}], "gen[0]", "a loss config needs a 'type'"),
    ],
)
def test_check_config_on_a_bad_loss_list(gen, where, message):
    config = default_config()
    config["gen"] = gen
    with pytest.raises(ConfigError) as info:
        check_config(config, where="gan.yaml")
    assert (info.value.file, info.value.where) == ("gan.yaml", where)
    assert info.value.message.startswith(message)


def test_check_config_returns_the_settings_and_lists_of_a_good_config():
    config = default_config()
    config["gen"] = config["gen"][0]  # MMGeneration's single-dict form is a list of one
    settings, disc, gen = check_config(config, {"steps": 7}, where="default config")
    assert settings == resolve_settings({}, {"steps": 7})
    assert (disc, gen) == (config["disc"], config["gen"])


def test_the_images_table_applies_on_image_datasets_only():
    default = default_config()["toybench"]
    images = default["images"]
    ring = resolve_settings({})
    stacked = resolve_settings({}, {"dataset": "stacked-digits"})
    assert (ring.steps, ring.latent_dim, ring.num_samples, ring.ema) == (12000, 2, 2500, 0.0)
    assert (stacked.steps, stacked.latent_dim, stacked.num_samples) == (
        images["steps"],
        images["latent_dim"],
        26000,
    )
    assert stacked.decay_start == default["decay_start"]  # not in the table: the common value


def test_layers_default_then_the_files_table_then_its_images_table_then_options():
    section = {"dataset": "digits", "steps": 50, "lr_gen": 0.01, "images": {"lr_gen": 0.02}}
    s = resolve_settings(section, {"seed": 3})
    # the file's [toybench] beats the default's images table; its own images table beats both
    assert (s.steps, s.lr_gen, s.latent_dim, s.seed) == (50, 0.02, 64, 3)
    assert resolve_settings(section, {"dataset": "ring"}).lr_gen == 0.01  # table ignored
    assert resolve_settings(section, {"steps": 9}).steps == 9


def test_a_copy_of_the_default_file_runs_as_the_default():
    copy = default_config()["toybench"]
    assert resolve_settings(copy, {"dataset": "stacked-digits"}) == resolve_settings(
        {}, {"dataset": "stacked-digits"}
    )


def test_images_table_problems_name_their_key():
    with pytest.raises(ConfigError) as info:
        resolve_settings(
            {"images": {"dataset": "digits", "step": 3, "ema": 2}}, {"dataset": "digits"}
        )
    assert [p.where for p in info.value.problems] == [
        "toybench.images.dataset",
        "toybench.images.step",
        "toybench.images.ema",
    ]
    assert "set dataset in [toybench] or with --dataset" in str(info.value)
    with pytest.raises(ConfigError, match=r"toybench\.images: must be a table"):
        resolve_settings({"images": 3})


def test_networks_choose_mlps_or_cnns_on_the_digits_only():
    from ganloss_toybench.models import (
        ConvDiscriminator,
        ConvGenerator,
        ImageMLPDiscriminator,
        ImageMLPGenerator,
    )
    from ganloss_toybench.training import build_networks

    data = load_dataset("stacked-digits")
    for networks, kinds in (
        ("mlp", (ImageMLPGenerator, ImageMLPDiscriminator)),
        ("conv", (ConvGenerator, ConvDiscriminator)),
    ):
        settings = resolve_settings({"images": {"networks": networks}}, {"dataset": "digits"})
        gen, disc = build_networks(settings, data)
        assert (type(gen), type(disc)) == kinds
        assert disc(gen(None, num_batches=5)).shape == (5, 1)
        assert gen(torch.zeros(2, settings.latent_dim)).shape == (2, 3, 8, 8)
    with pytest.raises(ConfigError) as info:
        resolve_settings({"networks": "conv"})  # the ring's points are not images
    assert info.value.where == "toybench.networks"
    assert "convolutional networks are for the image datasets" in info.value.message
    with pytest.raises(ConfigError, match=r"toybench\.networks: .*'mlp'"):
        resolve_settings({"networks": "transformer"})

"""MMCV-style ``.py`` config files, read without running them (ganlosscore.pyconfig).

The fixtures under ``tests/data/pyconfig/`` are written for these tests in
MMGeneration's style (``_base_`` files, ``dict(...)``, arithmetic, f-strings);
MMGeneration's own configs are read by ``test_mmgen_configs.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from ganlosscore import ConfigError, build_aggregator, build_loss, load_config
from ganlosscore.pyconfig import MAX_DEPTH, loss_sections

DATA = Path(__file__).parent / "data" / "pyconfig"


def test_bases_are_merged_by_mmcv_rules():
    config = load_config(DATA / "pair_gan_pairs.py")
    assert config == {
        # models/pair_gan.py, then runtime.py, then the file's own new names
        "d_reg_interval": 4,
        "domain": None,
        "model": {
            "type": "PairGAN",
            "gan_loss": {"type": "ShiftLoss", "loss_weight": 1.0},
            # merged key by key: the file's loss_weight (2 * 3) over the base's 10.0 / 2.0 * 4
            "disc_auxiliary_loss": {
                "type": "ShiftLoss",
                "loss_weight": 6,
                "interval": 4,
                "data_info": {"pred": "disc_pred_real"},
            },
            # a list replaces the base's None; scale * -4 = -0.5 * -4 = 2.0
            "gen_auxiliary_loss": [
                {
                    "type": "PairLoss",
                    "scale": 2.0,
                    "loss_name": "cycle_loss",
                    "data_info": {"a": "cycle_photo", "b": "real_photo"},
                },
                {
                    "type": "PairLoss",
                    "loss_name": "id_loss",
                    "data_info": {"a": "identity_photo", "b": "real_photo"},
                },
            ],
            "generator": {"type": "NotALoss", "channels": 64},
        },
        "train_cfg": {"buffer_size": 50},
        "total_iters": 1024,  # 2 ** 10
        # _delete_=True: the base's Adam (and its betas) is replaced, not extended
        "optimizer": {"generator": {"type": "SGD", "lr": 0.01}},
        "domain_a": "photo",
        "scale": -0.5,
    }


def test_loss_sections_are_found_under_model_by_their_keys():
    config = load_config(DATA / "pair_gan_pairs.py")
    assert list(loss_sections(config)) == [
        "model.gan_loss",
        "model.disc_auxiliary_loss",
        "model.gen_auxiliary_loss",  # not generator (no *_loss), not optimizer (not in model)
    ]
    assert loss_sections({"model": {"gan_loss": None, "pixel_loss": {"type": "L1Loss"}}}) == {
        "model.pixel_loss": {"type": "L1Loss"}
    }


def test_cyclegan_names_build_and_count_in_the_total(local_losses):
    config = load_config(DATA / "pair_gan_pairs.py")
    gen = build_aggregator(config["model"]["gen_auxiliary_loss"], name="gen")
    assert gen.loss_names() == ["cycle_loss", "id_loss"]
    outputs = {
        "cycle_photo": torch.tensor([3.0, 1.0]),
        "identity_photo": torch.tensor([2.0, 2.0]),
        "real_photo": torch.tensor([1.0, 1.0]),
    }
    result = gen(outputs)
    # cycle: mean([3-1, 1-1]) * 2.0 = 2.0; id: mean([1, 1]) * 1.0 = 1.0; both contain 'loss'
    assert result.log_vars == {"cycle_loss": 2.0, "id_loss": 1.0, "loss": 3.0}
    assert result.total.item() == 3.0


def test_a_name_without_loss_is_still_refused(local_losses):
    with pytest.raises(ConfigError, match="containing 'loss'.*got 'cycle'"):
        build_loss({"type": "ShiftLoss", "loss_name": "cycle"})


def test_ganloss_check_builds_each_loss_section(local_losses, ganloss_cli):
    path = DATA / "pair_gan_pairs.py"
    result = ganloss_cli("check", str(path))
    assert result.status == 0, result.out + result.err
    assert result.out == (
        f"{path}: ok, model.gan_loss (1 loss), model.disc_auxiliary_loss (1 loss), "
        "model.gen_auxiliary_loss (2 losses)\n"
    )


def test_ganloss_check_reports_a_loss_we_do_not_ship(tmp_path, local_losses, ganloss_cli):
    path = tmp_path / "faceid.py"
    path.write_text(
        "model = dict(type='X', gan_loss=dict(type='ShiftLoss'),\n"
        "             gen_auxiliary_loss=[dict(type='FaceIdLoss', loss_weight=1.0)])\n"
    )
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    assert result.out.splitlines() == [
        f"{path}: 1 problem",
        "  - model.gen_auxiliary_loss[0].type: unknown loss type 'FaceIdLoss'"
        + result.out.split("'FaceIdLoss'", 1)[1].splitlines()[0],
    ]


def test_ganloss_check_on_a_py_config_without_losses(tmp_path, ganloss_cli):
    path = tmp_path / "dataset.py"
    path.write_text("data = dict(samples_per_gpu=4)\n")
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    assert "holds no loss entries under model" in result.err


def hostile(tmp_path: Path, text: str, file: Path | None = None) -> str:
    """The message of the ConfigError that reading ``text`` as a .py config gives."""
    path = tmp_path / "gan.py"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(file or path)  # the file the problem is in
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("import os\n", "line 1, column 1: an import 'import os' is not read"),
        ("a = 1\nx = open('f')\n", "line 2, column 5: a call of 'open' is not read"),
        ("x = __import__('os').system('id')\n", "a call of \"__import__('os').system\""),
        ("x = dict.fromkeys('ab')\n", "a call of 'dict.fromkeys' is not read"),
        ("x = [i for i in (1, 2)]\n", "a comprehension"),
        ("x = (lambda: 1)\n", "a lambda"),
        ("x = 1 if True else 2\n", "a conditional expression"),
        ("x = {'a': 1}['a']\n", "a subscript"),
        ("x = {{_base_.model}}\n", "a set"),
        ("x = y\n", "name 'y' is not assigned earlier in this file"),
        ("x = dict\n", "dict may only be called here"),
        ("x = b'raw'\n", "a bytes literal is not read"),
        ("x = 1 << 3\n", "the operator LShift is not read"),
        ("for i in (1,):\n    x = i\n", "line 1, column 1: a loop"),
        ("x, y = 1, 2\n", "only a name can be assigned"),
        ("x = 1 / 0\n", "'1 / 0' cannot be computed: ZeroDivisionError: division by zero"),
        ("x = 'a' + 1\n", "cannot be computed: TypeError: can only concatenate str"),
        ("x = str([1])\n", "str() takes a string or a number here"),
        ("x = dict(a=1\n", "not valid Python"),
    ],
)
def test_what_is_outside_the_subset_is_named_with_its_line(tmp_path, text, message):
    assert message in hostile(tmp_path, text)


def test_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    text = f"x = __import__('pathlib').Path({str(marker)!r}).touch()\n"
    hostile(tmp_path, text)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 2 ** 10 ** 9\n", "would be an integer of more than 14,000 bits"),
        ("x = 10 ** 4000 * 10 ** 4000\n", "makes an integer of"),
        ("x = 'ab' * 10 ** 9\n", "would make a str of 2,000,000,000 items"),
        ("x = [0] * 10 ** 9\n", "would make a list of 1,000,000,000 items"),
        ("x = f'{1:>1000000000}'\n", "asks for more than 100 digits"),
        ("a = [0] * 50000\nb = [a, a, a]\n", "line 2, column 5: makes a value of 150,004 values"),
        ("x = " + "[" * 150 + "]" * 150 + "\n", f"nest more than {MAX_DEPTH} levels"),
        ("x = " + "+".join(["1"] * 300) + "\n", f"nest more than {MAX_DEPTH} levels"),
        (
            "a0 = [0]\n" + "".join(f"a{i + 1} = [a{i}]\n" for i in range(120)),
            f"makes values nested more than {MAX_DEPTH} levels deep",
        ),
        ("a = 'x' * 100000\n" + "b = a + ''\n" * 120, "makes more than 10,000,000 characters"),
        # refused by Python's parser (MemoryError, RecursionError) or by the depth bound
        ("x = " + "-" * 200_000 + "1\n", "expressions nest"),
        ("x = " + "+".join(["1"] * 100_000) + "\n", "expressions nest"),
        ("x = 1\0\n", "not valid Python: source code string cannot contain null bytes"),
        ("x = float('1e999') ** 2\n", None),  # inf ** 2 is inf: cheap, allowed
        ("x = 1.5 ** 100000\n", "cannot be computed: OverflowError"),
    ],
)
def test_the_work_is_bounded(tmp_path, text, message):
    start = time.perf_counter()
    if message is None:
        load_config(_write(tmp_path, text))
    else:
        assert message in hostile(tmp_path, text)
    assert time.perf_counter() - start < 2.0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gan.py"
    path.write_text(text)
    return path


def test_an_import_in_a_fixture_file_names_file_line_and_construct():
    path = DATA / "hostile" / "imports.py"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: line 2, column 1: an import 'import os' is not read: a .py config may hold "
        "literals, arithmetic, names assigned earlier in the file, f-strings, calls of dict(), "
        "list(), tuple(), min(), max() and a few conversions, and _base_ (it is read, never run)"
    )


def test_a_base_that_includes_itself_is_refused():
    with pytest.raises(ConfigError, match=r"_base_ 'loop_a.py' includes itself") as info:
        load_config(DATA / "hostile" / "loop_a.py")
    assert info.value.file == str(DATA / "hostile" / "loop_b.py")


def test_an_error_in_a_base_names_the_base_and_the_file_that_uses_it(tmp_path):
    (tmp_path / "base.py").write_text("model = dict(\n    type=os.name)\n")
    message = hostile(tmp_path, "_base_ = 'base.py'\n", file=tmp_path / "base.py")
    assert message.startswith(f"{tmp_path / 'base.py'}: line 2, column 10: an attribute")
    assert message.endswith(f"(a _base_ of {tmp_path / 'gan.py'})")


def test_a_missing_base_is_named(tmp_path):
    missing = tmp_path.parent / "nowhere" / "base.py"
    message = hostile(tmp_path, "_base_ = ['../nowhere/base.py']\n", file=missing)
    assert message.startswith(f"{missing}: cannot read the config file: No such file")


@pytest.mark.parametrize(
    ("bases", "child", "message"),
    [
        (
            {"a.py": "lr = 1\n", "b.py": "lr = 2\n"},
            "_base_ = ['a.py', 'b.py']\n",
            "two of its _base_ files set 'lr'",
        ),
        (
            {"a.py": "model = dict(gan_loss=[dict(type='X')])\n"},
            "_base_ = 'a.py'\nmodel = dict(gan_loss=dict(type='Y'))\n",
            "model.gan_loss: a dict here cannot extend the base's value, which is list",
        ),
        ({}, "_base_ = 'mmgen::models/base.py'\n", "inside an installed package"),
        ({"a.toml": "x = 1\n"}, "_base_ = 'a.toml'\n", "is not a .py file"),
        ({}, "_base_ = 3\n", "_base_ must be a path or a list of paths"),
    ],
)
def test_base_rules(tmp_path, bases, child, message):
    for name, text in bases.items():
        (tmp_path / name).write_text(text)
    assert message in hostile(tmp_path, child)


def test_delete_replaces_the_base_value(tmp_path):
    (tmp_path / "a.py").write_text("model = dict(gan_loss=[dict(type='X')], keep=1)\n")
    path = _write(
        tmp_path, "_base_ = 'a.py'\nmodel = dict(gan_loss=dict(_delete_=True, type='Y'))\n"
    )
    assert load_config(path) == {"model": {"gan_loss": {"type": "Y"}, "keep": 1}}


def test_private_names_and_docstrings(tmp_path):
    path = _write(tmp_path, '"""A docstring."""\n__hidden = 1\n_domain = __hidden + 1\n')
    assert load_config(path) == {"_domain": 2}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_base_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    message = hostile(tmp_path, "_base_ = 'pipe.py'\n", file=tmp_path / "pipe.py")
    assert "a named pipe (FIFO), not a regular file" in message


def test_ganloss_check_losses_option_names_sections_of_a_py_config(local_losses, ganloss_cli):
    path = DATA / "pair_gan_pairs.py"
    result = ganloss_cli("check", str(path), "--losses", "model.gen_auxiliary_loss")
    assert result.status == 0, result.out + result.err
    assert result.out == f"{path}: ok, model.gen_auxiliary_loss (2 losses)\n"

import json
import os
import resource
import subprocess
import sys
import time

import pytest
import torch
from _losses import PairLoss, ShiftLoss

from ganlosscore import (
    ConfigError,
    GanLossError,
    UnknownLossError,
    build_aggregator,
    build_loss,
    hookimpl,
    load_config,
)
from ganlosscore import config as config_module
from ganlosscore.checks import check_number
from ganlosscore.config import collect_problems, configure_plugins
from ganlosscore.errors import LossInputError


def config_error(build, *args, **kwargs) -> ConfigError:
    """The ConfigError that ``build(*args, **kwargs)`` raises."""
    with pytest.raises(ConfigError) as info:
        build(*args, **kwargs)
    return info.value


def places(error: ConfigError) -> list[str]:
    """Where each of the problems an error collects is."""
    return [problem.where for problem in error.problems]


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
        ConfigError,
        match=r"^PairLoss.loss_wieght: PairLoss has no option 'loss_wieght'.*'loss_weight'",
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


class Picky(ShiftLoss):
    """Checks its own hyperparameters, as plugins do, in several ways."""

    def __init__(self, mode="a", strict=False, **kwargs):
        super().__init__(**kwargs)
        if mode == "typeerror":
            raise TypeError("mode must be a str")
        if mode == "located":
            raise LossInputError("mode 'located' is not supported; use 'a'", where="mode")
        if mode == "own-label":
            raise ConfigError("mode 'own-label' is not supported", where="Picky.mode")
        if mode == "unlocated":
            raise ConfigError("mode 'unlocated' is not supported")
        if mode != "a":
            raise ValueError("mode must be 'a'")


@pytest.mark.parametrize(
    ("mode", "kind"), [("b", ValueError), ("typeerror", TypeError)], ids=["value", "type"]
)
def test_errors_inside_the_constructor_become_config_errors(mode, kind):
    with pytest.raises(ConfigError) as info:
        build_loss({"type": Picky, "mode": mode}, where="disc[0]")
    error = info.value
    # the config path, then the original exception's type and message
    assert error.where == "disc[0].Picky"
    assert str(error) == (
        f"disc[0].Picky: building Picky failed with {kind.__name__}: {error.__cause__}"
    )
    assert type(error.__cause__) is kind  # chained with `from`, not swallowed
    assert not isinstance(error.__cause__, GanLossError)


def test_a_gan_loss_error_from_the_constructor_gets_the_path_not_a_wrapper():
    with pytest.raises(LossInputError) as info:  # its own class, not a ConfigError around it
        build_loss({"type": Picky, "mode": "located"}, where="gen[1]")
    assert info.value.where == "gen[1].Picky.mode"
    assert str(info.value) == "gen[1].Picky.mode: mode 'located' is not supported; use 'a'"
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    ("mode", "where"),
    [("own-label", "gen[1].Picky.mode"), ("unlocated", "gen[1].Picky")],
)
def test_a_constructor_error_names_the_loss_class_once(mode, where):
    # A plugin that already names its class (most do) is not prefixed twice.
    with pytest.raises(ConfigError) as info:
        build_loss({"type": Picky, "mode": mode}, where="gen[1]")
    assert info.value.where == where


def test_every_problem_of_one_entry_is_reported_at_once(local_losses):
    error = config_error(
        build_loss,
        {"type": "PairLoss", "scael": 2.0, "lossweight": 1.0, "data_info": {"a": "x"}},
        where="gen[0]",
    )
    assert places(error) == [
        "gen[0].PairLoss.scael",
        "gen[0].PairLoss.lossweight",
        "gen[0].PairLoss.data_info",  # the class's own check of the values, too
    ]
    lines = str(error).splitlines()
    assert lines[0] == "3 problems in the PairLoss config:"
    assert lines[1].startswith("  - gen[0].PairLoss.scael: PairLoss has no option 'scael'.")
    assert "Did you mean 'scale'?" in lines[1]
    assert "Did you mean 'loss_weight'?" in lines[2]
    assert lines[3].startswith("  - gen[0].PairLoss.data_info: data_info does not map")


def test_missing_options_are_all_reported_and_nothing_is_built():
    built = []

    class NeedsTwo(ShiftLoss):
        def __init__(self, alpha, beta, **kwargs):
            built.append(self)
            super().__init__(**kwargs)

    error = config_error(build_loss, {"type": NeedsTwo, "gama": 1}, where="disc[2]")
    assert places(error) == [
        "disc[2].NeedsTwo.gama",
        "disc[2].NeedsTwo.alpha",
        "disc[2].NeedsTwo.beta",
    ]
    assert "NeedsTwo needs the option 'alpha'" in str(error)
    assert built == []  # the constructor is not called without its required options


def test_a_non_string_key_is_an_unknown_option_not_a_crash(local_losses):
    # YAML allows any key: {1: 2} must be a clean error, not a TypeError from difflib
    with pytest.raises(ConfigError, match=r"PairLoss\.1: PairLoss has no option 1\."):
        build_loss({"type": "PairLoss", 1: 2, "data_info": {"a": "x", "b": "y"}})


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
    assert message.startswith("4 problems in the 'disc' losses")
    assert "disc[1].type: unknown loss type 'ShiftLos'" in message
    # disc[2] has two: 'bb' is no input of PairLoss, and its input 'b' is unmapped
    assert "disc[2].PairLoss.data_info.bb: PairLoss has no input 'bb'" in message
    assert "disc[2].PairLoss.data_info: data_info does not map the required input(s) ['b']" in (
        message
    )
    assert "disc[3].ShiftLoss.interval" in message


def test_every_bad_common_keyword_of_a_loss_is_reported_at_once(local_losses):
    # loss_weight, interval, loss_name and data_info are each wrong: one error, four places.
    config = {
        "type": "PairLoss",
        "loss_weight": "heavy",
        "interval": 0,
        "loss_name": "pair",
        "data_info": {"a": "x", "c": "y"},
    }
    error = config_error(build_loss, config)
    assert places(error) == [
        "PairLoss.loss_weight",
        "PairLoss.interval",
        "PairLoss.loss_name",
        "PairLoss.data_info.c",
        "PairLoss.data_info",
    ]
    assert str(error).splitlines()[0] == "5 problems in the PairLoss config:"
    # built directly, the same checks, the same one error
    from _losses import PairLoss

    direct = config_error(PairLoss, loss_weight="heavy", interval=0)
    assert places(direct) == ["loss_weight", "interval"]


def refuse_modes_but_a(cls: type, mode: str) -> None:
    """A class's own check of its hyperparameter ``mode``, made before ``super().__init__``."""
    if mode != "a":
        raise ConfigError(f"mode must be 'a', got {mode!r}", where=f"{cls.__name__}.mode")


class ChecksFirst(ShiftLoss):
    """Refuses its own hyperparameter before the common keywords are looked at."""

    def __init__(self, mode="a", **kwargs):
        refuse_modes_but_a(ChecksFirst, mode)
        super().__init__(**kwargs)


def test_common_keywords_are_checked_even_when_the_class_refuses_another_value_first():
    config = {"type": ChecksFirst, "mode": "b", "loss_weight": "heavy", "loss_name": "shift"}
    error = config_error(build_loss, config, where="disc[2]")
    assert places(error) == [
        "disc[2].ChecksFirst.mode",
        "disc[2].ChecksFirst.loss_weight",
        "disc[2].ChecksFirst.loss_name",
    ]
    # a missing required option (the class is never built) does not hide them either
    missing = config_error(
        build_loss, {"type": NeedsScale, "interval": -1, "data_info": {"a": "x"}}
    )
    assert places(missing) == [
        "NeedsScale.scale",
        "NeedsScale.interval",
        "NeedsScale.data_info",
    ]
    # and what the class itself reports is not reported twice
    with pytest.raises(ConfigError) as once:
        build_loss({"type": ChecksFirst, "interval": 0})
    assert once.value.where == "ChecksFirst.interval" and not once.value.problems


class CompletesDataInfo(PairLoss):
    """Maps input 'b' itself, as the DDPM losses add 'timesteps' to data_info."""

    def __init__(self, mode="a", data_info=None, **kwargs):
        refuse_modes_but_a(CompletesDataInfo, mode)
        super().__init__(data_info={**(data_info or {}), "b": "fixed_b"}, **kwargs)


def test_a_common_keyword_the_class_declares_itself_is_left_to_the_class():
    # data_info lacks 'b' in the config, but the class adds it: no false problem
    config = {"type": CompletesDataInfo, "mode": "z", "data_info": {"a": "x"}, "interval": 2}
    with pytest.raises(ConfigError) as info:
        build_loss(config)
    assert info.value.where == "CompletesDataInfo.mode" and not info.value.problems
    # the keywords it does not declare are still checked
    both = config_error(build_loss, {**config, "loss_weight": "heavy"})
    assert places(both) == [
        "CompletesDataInfo.mode",
        "CompletesDataInfo.loss_weight",
    ]


class NeedsScale(PairLoss):
    def __init__(self, scale, **kwargs):
        super().__init__(scale=scale, **kwargs)


def test_build_aggregator_lists_the_problems_of_each_entry_one_by_one(local_losses):
    configs = [
        {"type": "PairLoss", "scael": 2.0, "sclae": 3.0, "data_info": {"a": "x", "b": "y"}},
        {"type": "ShiftLos", "data_info": {"pred": "p"}},
    ]
    error = config_error(build_aggregator, configs, name="gen")
    assert places(error) == [
        "gen[0].PairLoss.scael",
        "gen[0].PairLoss.sclae",
        "gen[1].type",
    ]
    assert str(error).splitlines()[0] == "3 problems in the 'gen' losses:"


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
        ("c.ini", "disc = []", r"unsupported config format '.ini'.*or \.py"),
        ("c.json", "[1, 2]", r"top level of a config file must be a mapping"),
    ],
)
def test_bad_files(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file") as info:
        load_config(tmp_path / "absent.json")
    assert info.value.file == str(tmp_path / "absent.json")
    assert info.value.where is None


# -- where an error is: file, config path, message ------------------------------------


def test_an_error_located_in_a_file_reads_file_path_message():
    error = ConfigError("unknown gan_type 'nss'", where="DiscAdversarialLoss.gan_type")
    error.at("disc[0]").in_file("gan.toml")
    assert str(error) == "gan.toml: disc[0].DiscAdversarialLoss.gan_type: unknown gan_type 'nss'"
    assert error.args == (str(error),)
    # the order does not matter: the file stays in front of the config path
    later = ConfigError("unknown gan_type 'nss'", where="DiscAdversarialLoss.gan_type")
    later.in_file("gan.toml").at("disc[0]")
    assert str(later) == str(error)
    assert (later.file, later.where) == ("gan.toml", "disc[0].DiscAdversarialLoss.gan_type")


def test_in_file_keeps_the_first_file():
    error = ConfigError("bad", where="disc").in_file("inner.toml").in_file("outer.toml")
    assert str(error) == "inner.toml: disc: bad"


def test_an_error_of_several_problems_locates_each():
    error = ConfigError(
        "2 problems in the 'disc' losses:",
        problems=[
            ConfigError("no option 'a'", where="[0].PairLoss.a"),
            ConfigError("no option 'b'", where="[1].PairLoss.b"),
        ],
    )
    error.at("disc").in_file("gan.toml")
    assert str(error) == (
        "gan.toml: 2 problems in the 'disc' losses:\n"
        "  - disc[0].PairLoss.a: no option 'a'\n"
        "  - disc[1].PairLoss.b: no option 'b'"
    )
    assert error.message == str(error).split(": ", 1)[1]


def test_a_config_file_error_from_build_aggregator_reads_file_path_message(tmp_path, local_losses):
    path = tmp_path / "gan.toml"
    path.write_text('[[disc]]\ntype = "PairLoss"\nscael = 2.0\ndata_info = { a = "x", b = "y" }\n')
    config = load_config(path)
    with pytest.raises(ConfigError) as info:
        build_aggregator(config["disc"], name="disc")
    assert str(info.value.in_file(path)).startswith(
        f"{path}: disc[0].PairLoss.scael: PairLoss has no option 'scael'."
    )


# -- config files that cannot give a mapping -------------------------------------------


def load_error(path):
    """The ConfigError load_config raises for ``path``; it always names the file."""
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


def test_a_directory_is_not_a_config_file_and_its_config_files_are_named(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "gan.toml").write_text("")
    (folder / "notes.txt").write_text("")
    (folder / "b.yaml").write_text("")
    assert load_error(folder).message == (
        "is a directory, not a config file; give a .json, .toml or .yaml file, "
        "such as b.yaml, gan.toml in it"
    )
    # a directory with a config suffix is a directory too, not "Is a directory" from a read
    suffixed = tmp_path / "gan.toml"
    suffixed.mkdir()
    assert load_error(suffixed).message == (
        "is a directory, not a config file; give a .json, .toml or .yaml file"
    )


def test_a_file_that_is_not_utf8_names_the_byte_and_where_it_is(tmp_path):
    path = tmp_path / "gan.toml"
    # Latin-1 'é' (0xe9) after '# ok\n' (5 bytes) and 'disc = "caf' (11 bytes): offset 16, line 2
    path.write_bytes(b'# ok\ndisc = "caf\xe9"\n')
    assert load_error(path).message == (
        "is not UTF-8 text (byte 0xe9 at offset 16, line 2); a config file is JSON, TOML or "
        "YAML text: save it as UTF-8"
    )
    utf16 = tmp_path / "gan.json"
    utf16.write_bytes('{"disc": []}'.encode("utf-16"))  # starts with the BOM ff fe
    assert load_error(utf16).message.startswith(
        "is not UTF-8 text (byte 0xff at offset 0, line 1); it looks like UTF-16"
    )


@pytest.mark.parametrize("name", ["gan.json", "gan.toml", "gan.yaml"])
def test_a_utf8_byte_order_mark_is_allowed(tmp_path, name):
    text = {"gan.json": '{"disc": []}', "gan.toml": "disc = []", "gan.yaml": "disc: []"}[name]
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_config(path) == {"disc": []}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gan.json", ""),
        ("gan.toml", "\n  \n"),
        ("gan.yaml", ""),
        ("gan.yml", "# nothing but a comment\n"),
        ("gan.yaml", "~\n"),
        ("gan.json", "null"),
    ],
)
def test_an_empty_file_says_so_with_an_example_that_loads(tmp_path, name, text):
    path = write(tmp_path, name, text)
    message = load_error(path).message
    assert message.startswith("is empty")
    assert ": a config file holds a mapping of loss lists, e.g. " in message
    # the example is a file of the same format that loads
    example = write(tmp_path, f"example{path.suffix}", message.split(", e.g. ", 1)[1])
    assert load_config(example) == {
        "disc": [{"type": "DiscShiftLoss", "data_info": {"pred": "disc_pred_real"}}]
    }


@pytest.mark.parametrize(
    ("name", "text", "holds"),
    [
        ("gan.yaml", "- 1\n- 2\n", "a list (2 items)"),
        ("gan.json", "[{}]", "a list (1 item)"),
        ("gan.json", '"disc"', "a string"),
        ("gan.json", "3.5", "a number"),
        ("gan.yaml", "true\n", "a boolean"),
    ],
)
def test_a_top_level_that_is_not_a_mapping_says_what_it_is(tmp_path, name, text, holds):
    message = load_error(write(tmp_path, name, text)).message
    assert message.startswith("the top level of a config file must be a mapping of loss lists")
    assert message.endswith(f"; this file holds {holds}")


def test_a_missing_file_suggests_a_neighbour_or_says_the_folder_is_missing(tmp_path):
    (tmp_path / "gan.toml").write_text("disc = []")
    assert load_error(tmp_path / "gna.toml").message == (
        "cannot read the config file: No such file or directory; check the path. "
        "Did you mean 'gan.toml'?"
    )
    nowhere = tmp_path / "no-such-folder" / "gan.toml"
    assert load_error(nowhere).message == (
        "cannot read the config file: No such file or directory; the folder "
        f"{nowhere.parent} does not exist either, check the path"
    )


def test_an_unreadable_file_says_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path, "gan.toml", "disc = []")
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        pass
    else:  # root reads anything: make the open fail as it does for anyone else
        real_open = os.open

        def denied(file, *args, **kwargs):
            if os.fspath(file) == os.fspath(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
    try:
        error = load_error(path)
    finally:
        path.chmod(0o644)
    assert error.message == (
        f"cannot read the config file: Permission denied; make it readable to you "
        f"(e.g. chmod a+r {path}) or copy it"
    )
    assert isinstance(error.__cause__, PermissionError)


@pytest.mark.parametrize("name", ["deep.json", "deep.toml", "deep.yaml"])
def test_a_file_nested_too_deeply_is_our_error(tmp_path, name):
    opening = {"deep.json": '{"disc": ', "deep.toml": "disc = ", "deep.yaml": "disc: "}[name]
    path = write(tmp_path, name, opening + "[" * 50_000)
    assert load_error(path).message.startswith("nests lists or tables too deeply to be read")


# -- hostile files: bounded in memory, time and what is rendered -------------------------------


def billion_laughs(levels=9):
    """YAML of ``levels`` levels of nine aliases each: 1 KB of text, 9**levels values."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append(f"disc: [{{type: ShiftLoss, loss_weight: *a{levels - 1}}}]")
    return "\n".join(lines) + "\n"


def test_a_yaml_billion_laughs_is_refused_before_anything_expands_it(tmp_path):
    pytest.importorskip("yaml")
    path = write(tmp_path, "laughs.yaml", billion_laughs())
    error = load_error(path)
    # a0 holds 9 strings + the list = 10 values; a(i) = 1 + 9 * a(i-1); a8 = 478,297,606,
    # the top mapping adds the keys, the aliases' expansions and the disc list: 926,177,120
    assert "holds 926,177,120 values once its YAML aliases" in str(error)
    assert "more than the 100,000 a config file may hold" in str(error)


def test_yaml_aliases_within_the_limit_still_work(tmp_path):
    pytest.importorskip("yaml")
    text = "info: &info {pred: disc_pred_real}\ndisc:\n  - {type: ShiftLoss, data_info: *info}\n"
    config = load_config(write(tmp_path, "shared.yaml", text))
    assert config["disc"][0]["data_info"] == {"pred": "disc_pred_real"}


def test_a_yaml_alias_inside_its_own_value_is_refused(tmp_path):
    pytest.importorskip("yaml")
    error = load_error(write(tmp_path, "loop.yaml", "disc: &a [*a]\n"))
    assert "line 1, column 7: a YAML alias refers to a value that contains it" in str(error)


def test_a_value_that_expands_hugely_is_rendered_briefly(local_losses):
    # built in code, as a YAML loader without the limit would give it: shared lists
    laughs: list = ["lol"] * 9
    for _ in range(8):
        laughs = [laughs] * 9
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        build_loss({"type": "ShiftLoss", "loss_weight": laughs})
    assert time.perf_counter() - started < 5
    assert len(str(info.value)) < 500 and "loss_weight" in str(info.value)


def test_a_huge_key_is_rendered_briefly(local_losses):
    problems = collect_problems({"disc": [{"type": "ShiftLoss", "k" * 1_000_000: 1}]})
    assert [type(p) for p in problems] == [ConfigError]
    assert len(str(problems[0])) < 1000
    assert str(problems[0]).startswith("disc[0].ShiftLoss.'kkkk")


def load_in_a_child(path):
    """``load_config(path)`` in a child process that cannot hang or eat the machine."""

    def limit():  # 2 GiB of address space and 60 s: a read of /dev/zero stops there
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    code = (
        "import sys\nfrom ganlosscore import load_config, ConfigError\n"
        "try:\n    load_config(sys.argv[1])\n"
        "except ConfigError as exc:\n    print('ConfigError:', exc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "gan.toml"
    os.mkfifo(path)
    result = load_in_a_child(path)
    assert result.stdout.strip() == (
        f"ConfigError: {path}: is a named pipe (FIFO), not a regular file; a config file is a "
        ".json, .toml or .yaml file on disk (only regular files are read, so that nothing "
        "can make the read wait or run forever)"
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_a_device_is_refused_without_reading_it(tmp_path, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    path = tmp_path / "gan.json"
    path.symlink_to(device)
    result = load_in_a_child(path)
    assert result.stdout.startswith(
        f"ConfigError: {path}: is a link to '{device}', a character device, not a regular file"
    ), result.stdout + result.stderr


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 64)
    path = write(tmp_path, "gan.json", json.dumps({"disc": [{"type": "x" * 100}]}))
    assert "is larger than 64 bytes, the most a config file may hold" in str(load_error(path))


@pytest.mark.parametrize(
    ("name", "template", "column"),
    [
        ("gan.json", '{{"disc": [{{"type": "ShiftLoss", "loss_weight": {}}}]}}', 48),
        ("gan.toml", 'disc = [{{type = "ShiftLoss", loss_weight = {}}}]', 44),
        ("gan.yaml", "disc: [{{type: ShiftLoss, loss_weight: {}}}]", 39),
    ],
)
def test_an_integer_longer_than_python_reads_is_a_config_error_with_its_place(
    tmp_path, name, template, column
):
    # column: 1 + the length of the text before the number
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    path = write(tmp_path, name, template.format("1" * 5000))
    assert str(load_error(path)) == (
        f"{path}: line 1, column {column}: an integer of 5,000 digits; Python reads integers "
        "of at most 4,300 digits, and no loss setting needs more (write a large or small "
        "number as a float, e.g. 1e-3)"
    )


def test_a_loss_weight_too_large_for_a_float_is_a_config_error_everywhere(local_losses):
    config = {"disc": [{"type": "ShiftLoss", "loss_weight": 10**400}]}
    with pytest.raises(ConfigError) as info:
        build_loss(config["disc"][0], where="disc[0]")
    assert info.value.where.startswith("disc[0].ShiftLoss")
    assert "loss_weight" in str(info.value)
    problems = collect_problems(config)
    assert [type(p) for p in problems] == [ConfigError]
    assert problems[0].where.startswith("disc[0].ShiftLoss")


def test_a_config_without_losses_names_its_keys_briefly():
    config = {"k" * 500_000: 1, **{f"setting{i}": i for i in range(100)}}
    (problem,) = collect_problems(config)
    assert len(str(problem)) < 2000
    assert str(problem).endswith("setting18 (a int, not a list of losses); and 81 more")


# -- settings of hook plugins (issue 17.1) -------------------------------------------


class Threshold:
    """A hook plugin with one setting, ``limit`` (a positive number), checked before use."""

    def __init__(self):
        self.limit = None
        self.calls = []

    @hookimpl
    def ganloss_configure(self, settings, check_only):
        self.calls.append((dict(settings), check_only))
        unknown = sorted(set(settings) - {"limit"})
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}", where=unknown[0])
        limit = check_number(settings.get("limit", 1.0), where="limit", low=0.0)
        if not check_only:
            self.limit = limit


@pytest.fixture
def threshold():
    from ganlosscore import new_plugin_manager

    pm = new_plugin_manager(installed=False)
    plugin = Threshold()
    pm.register(plugin, name="threshold")
    return plugin, pm


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (
            ".toml",
            "disc = [{type = 'ShiftLoss', data_info = {pred = 'p'}}]\n"
            "[plugins.threshold]\nlimit = 2.5\n",
        ),
        (
            ".yaml",
            "disc: [{type: ShiftLoss, data_info: {pred: p}}]\n"
            "plugins:\n  threshold: {limit: 2.5}\n",
        ),
        (
            ".json",
            '{"disc": [{"type": "ShiftLoss", "data_info": {"pred": "p"}}], '
            '"plugins": {"threshold": {"limit": 2.5}}}',
        ),
        (
            ".py",
            "disc = [dict(type='ShiftLoss', data_info=dict(pred='p'))]\n"
            "plugins = dict(threshold=dict(limit=2.5))\n",
        ),
    ],
)
def test_each_format_carries_plugin_settings_to_the_plugin(tmp_path, suffix, text, threshold):
    plugin, pm = threshold
    path = tmp_path / f"gan{suffix}"
    path.write_text(text)
    config = load_config(path)
    configure_plugins(config, plugin_manager=pm)
    assert plugin.limit == 2.5
    # checked first, then applied: nothing changes unless every table is right
    assert plugin.calls == [({"limit": 2.5}, True), ({"limit": 2.5}, False)]
    assert config_module.loss_lists(config)[1]["plugins"] == "settings of hook plugins"


def test_a_config_without_a_table_gives_the_plugin_an_empty_one(threshold):
    plugin, pm = threshold
    configure_plugins({"disc": []}, plugin_manager=pm)
    assert plugin.limit == 1.0 and plugin.calls[-1] == ({}, False)


def test_every_problem_is_reported_at_its_place_and_nothing_is_applied(threshold):
    plugin, pm = threshold
    config = {
        "plugins": {
            "threshhold": {"limit": 1},  # misspelt
            "ganloss-regularizers": {"x": 1},  # a loss package
        }
    }
    with pytest.raises(ConfigError) as caught:
        configure_plugins(config, plugin_manager=pm)
    problems = {p.where: str(p) for p in caught.value.problems}
    assert set(problems) == {"plugins.threshhold", "plugins.ganloss-regularizers"}
    assert "Did you mean 'threshold'?" in problems["plugins.threshhold"]
    assert "offers losses, not a hook plugin" in problems["plugins.ganloss-regularizers"]
    assert plugin.calls == [({}, True)]  # checked, never applied: the config was refused

    with pytest.raises(ConfigError) as caught:
        configure_plugins({"plugins": {"threshold": {"limit": -1, "limt": 2}}}, plugin_manager=pm)
    assert caught.value.where == "plugins.threshold.limt"
    assert "unknown setting 'limt'" in str(caught.value)
    assert plugin.limit is None  # refused: not applied

    with pytest.raises(ConfigError) as caught:
        configure_plugins({"plugins": {"threshold": {"limit": -1}}}, plugin_manager=pm)
    assert caught.value.where == "plugins.threshold.limit"

    with pytest.raises(ConfigError, match="plugins: holds the settings of hook plugins"):
        configure_plugins({"plugins": [1]}, plugin_manager=pm)
    with pytest.raises(ConfigError, match="the settings of threshold are a table"):
        configure_plugins({"plugins": {"threshold": 3}}, plugin_manager=pm)


def test_a_plugin_that_raises_something_else_is_a_config_error(threshold):
    _, pm = threshold

    class Sloppy:
        @hookimpl
        def ganloss_configure(self, settings):
            raise ValueError("bad")

    pm.register(Sloppy(), name="sloppy")
    with pytest.raises(ConfigError) as caught:
        configure_plugins({"plugins": {"sloppy": {"a": 1}}}, plugin_manager=pm)
    assert str(caught.value) == "plugins.sloppy: configuring sloppy failed with ValueError: bad"
    assert isinstance(caught.value.__cause__, ValueError)


def test_an_installed_hook_plugin_is_keyed_by_its_distribution(ganloss_distribution):
    from ganlosscore import new_plugin_manager

    ganloss_distribution(
        "Ganloss_Keyed",
        hooks={"keyed": "ganloss_keyed"},
        modules={
            "ganloss_keyed/__init__.py": """
                from ganlosscore import hookimpl

                SEEN = []

                @hookimpl
                def ganloss_configure(settings, check_only):
                    SEEN.append((dict(settings), check_only))
            """,
        },
    )
    pm = new_plugin_manager()
    # the name as written in pyproject.toml or normalised: both find the distribution
    configure_plugins({"plugins": {"Ganloss_Keyed": {"a": 1}}}, plugin_manager=pm)
    import ganloss_keyed

    assert ganloss_keyed.SEEN == [({"a": 1}, True), ({"a": 1}, False)]

"""The ``ganloss`` command, on real temporary distributions."""

import json
import os
import subprocess
import sys
import textwrap

import importlib_metadata
import pytest
import yaml

import ganlosscore
from ganlosscore import load_config
from ganlosscore.testing import install_distribution

LOSSES = """
from ganlosscore import LossModule


class HingeLoss(LossModule):
    \"\"\"Hinge on the margin, ``mean(relu(margin - pred)) * scale``.

    The second paragraph is not part of the summary.
    \"\"\"

    default_loss_name = "loss_hinge"

    def __init__(self, margin: float, scale: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.margin = margin
        self.scale = scale

    def compute(self, pred, mask=None):
        return (self.margin - pred).clamp(min=0).mean() * self.scale


class UndocumentedLoss(LossModule):
    default_loss_name = "loss_undocumented"

    def compute(self, pred):
        return pred.mean()
"""


def loss_dist(pkg, *names, source=LOSSES):
    """Keywords for a distribution whose package `pkg` offers the named classes of `source`."""
    return {
        "losses": {name: f"{pkg}.losses:{name}" for name in names},
        "modules": {f"{pkg}/__init__.py": "", f"{pkg}/losses.py": source},
    }


@pytest.fixture
def only(monkeypatch):
    """Select only the named distributions (GANLOSS_PLUGINS), hiding the installed plugins."""

    def select(*names):
        monkeypatch.setenv("GANLOSS_PLUGINS", ",".join(names))
        monkeypatch.delenv("GANLOSS_DISABLE_PLUGINS", raising=False)

    return select


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANLOSS_")}
    return {**env, **extra}


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
    )


# -- list ---------------------------------------------------------------------------


def test_list_imports_neither_torch_nor_any_plugin(tmp_path):
    # The probe's module would print and be in sys.modules if imported; so would the
    # plugins installed in this environment (ganloss_adversarial, ...).
    site = install_distribution(
        tmp_path / "site",
        "ganloss-probe",
        version="0.3",
        losses={"ProbeLoss": "probe_pkg.losses:ProbeLoss"},
        hooks={"probe": "probe_pkg.hooks"},
        modules={
            "probe_pkg/__init__.py": "print('PROBE IMPORTED')",
            "probe_pkg/losses.py": "raise RuntimeError('imported')",
            "probe_pkg/hooks.py": "raise RuntimeError('imported')",
        },
    )
    result = run_python(
        """
        import json, sys
        from ganlosscore.cli import main
        statuses = [main(["list"]), main(["list", "--json"]), main(["list", "--all"])]
        imported = sorted(
            m for m in sys.modules
            if m.split(".")[0] in ("torch", "probe_pkg") or m.startswith("ganloss_")
        )
        print(json.dumps({"statuses": statuses, "imported": imported}))
        """,
        PYTHONPATH=str(site),
    )
    assert result.returncode == 0, result.stderr
    *listing, last = result.stdout.strip().splitlines()
    assert json.loads(last) == {"statuses": [0, 0, 0], "imported": []}
    assert "PROBE IMPORTED" not in result.stdout
    probes = [line.split() for line in listing if line.startswith("ProbeLoss ")]
    assert probes == [["ProbeLoss", "ganloss-probe", "0.3", "ok"]] * 2  # list, list --all


def test_list_json_gives_distribution_version_status_and_target(
    ganloss_distribution, only, ganloss_cli
):
    ganloss_distribution("ganloss-hinge", version="1.2", **loss_dist("hinge_pkg", "HingeLoss"))
    only("ganloss-hinge")
    result = ganloss_cli("list", "--json")
    assert result.status == 0
    assert json.loads(result.out) == [
        {
            "name": "HingeLoss",
            "qualified_name": "ganloss-hinge:HingeLoss",
            "target": "hinge_pkg.losses:HingeLoss",
            "distribution": "ganloss-hinge",
            "version": "1.2",
            "status": "ok",
            "reason": None,
            "protocol": 1,
        }
    ]
    assert "hinge_pkg.losses" not in sys.modules


def test_a_broken_plugin_shows_its_reason_under_check(ganloss_distribution, only, ganloss_cli):
    broken = "raise ImportError('ganloss-shaky needs the frobnicator package')"
    ganloss_distribution("ganloss-shaky", **loss_dist("shaky_pkg", "ShakyLoss", source=broken))
    ganloss_distribution("ganloss-hinge", **loss_dist("hinge_pkg", "HingeLoss"))
    only("ganloss-shaky", "ganloss-hinge")

    plain = ganloss_cli("list")  # imports nothing, so it cannot know yet
    assert plain.status == 0
    (shaky,) = [line for line in plain.out.splitlines() if line.startswith("ShakyLoss")]
    assert shaky.split()[3] == "ok"
    assert "ganloss list --check" in plain.out

    checked = ganloss_cli("list", "--check")
    assert checked.status == 1
    rows = {line.split()[0]: line for line in checked.out.splitlines() if line.strip()}
    assert "broken" in rows["ShakyLoss"]
    assert (
        "importing shaky_pkg.losses:ShakyLoss failed: ImportError: "
        "ganloss-shaky needs the frobnicator package" in rows["ShakyLoss"]
    )
    assert rows["HingeLoss"].split()[3] == "ok"
    assert "2 losses (1 broken)" in checked.out

    as_json = ganloss_cli("list", "--check", "--json")
    assert as_json.status == 1
    assert {r["name"]: r["status"] for r in json.loads(as_json.out)} == {
        "HingeLoss": "ok",
        "ShakyLoss": "broken",
    }


def test_info_on_a_broken_plugin_is_one_paragraph_without_a_traceback(tmp_path):
    site = install_distribution(
        tmp_path / "site",
        "ganloss-shaky",
        losses={"ShakyLoss": "shaky_pkg.losses:ShakyLoss"},
        modules={
            "shaky_pkg/__init__.py": "",
            "shaky_pkg/losses.py": "raise ImportError('needs the frobnicator package')",
        },
    )
    result = subprocess.run(
        # -W ignore: torch's own warnings (say, about a missing numpy) are not ours
        [sys.executable, "-W", "ignore", "-m", "ganlosscore", "info", "ShakyLoss"],
        capture_output=True,
        text=True,
        env=clean_env(PYTHONPATH=str(site)),
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()  # one paragraph: what, where, what to do
    assert line.startswith(
        "ganloss: error: cannot build loss 'ShakyLoss' of ganloss-shaky: importing "
    )
    assert "ImportError: needs the frobnicator package" in line
    assert "GANLOSS_DISABLE_PLUGINS=ganloss-shaky" in line


def test_conflicts_are_flagged_and_a_qualified_name_selects(
    ganloss_distribution, only, ganloss_cli
):
    ganloss_distribution("ganloss-red", version="1.0", **loss_dist("red_pkg", "HingeLoss"))
    ganloss_distribution("ganloss-blue", version="2.0", **loss_dist("blue_pkg", "HingeLoss"))
    only("ganloss-red", "ganloss-blue")

    listed = ganloss_cli("list")
    assert listed.status == 0
    rows = [line for line in listed.out.splitlines() if line.startswith("HingeLoss")]
    assert len(rows) == 2 and all(" conflict " in row for row in rows)
    red = next(row for row in rows if row.split()[1] == "ganloss-red")
    assert "also offered by ganloss-blue; select one as 'ganloss-red:HingeLoss'" in red
    assert "2 losses (2 conflict)" in listed.out

    bare = ganloss_cli("info", "HingeLoss")
    assert (bare.status, bare.out) == (1, "")
    (line,) = bare.err.splitlines()  # one paragraph, naming both ways to select
    assert line.startswith("ganloss: error: loss type 'HingeLoss' is offered by more than one ")
    assert "'ganloss-red:HingeLoss'" in line and "'ganloss-blue:HingeLoss'" in line

    qualified = ganloss_cli("info", "Ganloss_Blue:HingeLoss", "--json")
    assert qualified.status == 0
    info = json.loads(qualified.out)
    assert (info["distribution"], info["version"]) == ("ganloss-blue", "2.0")
    assert info["class"] == "blue_pkg.losses.HingeLoss"


def test_selection_variables_are_honoured_and_all_shows_disabled(
    ganloss_distribution, monkeypatch, ganloss_cli
):
    ganloss_distribution("ganloss-keep", **loss_dist("keep_pkg", "HingeLoss"))
    ganloss_distribution("ganloss-drop", **loss_dist("drop_pkg", "UndocumentedLoss"))
    monkeypatch.setenv("GANLOSS_DISABLE_PLUGINS", "ganloss-drop")
    names = {r["name"]: r for r in json.loads(ganloss_cli("list", "--json").out)}
    assert "HingeLoss" in names and "UndocumentedLoss" not in names

    everything = json.loads(ganloss_cli("list", "--json", "--all").out)
    (dropped,) = [r for r in everything if r["name"] == "UndocumentedLoss"]
    assert (dropped["status"], dropped["reason"]) == (
        "disabled",
        "disabled by GANLOSS_DISABLE_PLUGINS",
    )
    table = ganloss_cli("list", "--all").out
    assert "disabled by GANLOSS_DISABLE_PLUGINS" in table

    monkeypatch.setenv("GANLOSS_PLUGINS", "")  # set but empty: no third-party plugin at all
    monkeypatch.delenv("GANLOSS_DISABLE_PLUGINS")
    nothing = ganloss_cli("list")
    assert nothing.status == 0
    assert nothing.out.startswith("No losses selected: ")
    assert "deselected by GANLOSS_PLUGINS / GANLOSS_DISABLE_PLUGINS" in nothing.out
    assert json.loads(ganloss_cli("list", "--json").out) == []
    hidden = json.loads(ganloss_cli("list", "--json", "--all").out)
    assert {r["reason"] for r in hidden} == {"not in GANLOSS_PLUGINS"}
    assert {"HingeLoss", "UndocumentedLoss"} <= {r["name"] for r in hidden}


# -- info ---------------------------------------------------------------------------


def test_info_describes_origin_inputs_hyperparameters_and_summary(
    ganloss_distribution, only, ganloss_cli
):
    ganloss_distribution("ganloss-hinge", version="1.2", **loss_dist("hinge_pkg", "HingeLoss"))
    only("ganloss-hinge")
    result = ganloss_cli("info", "HingeLoss", "--json")
    assert result.status == 0
    info = json.loads(result.out)
    assert info == {
        "name": "HingeLoss",
        "class": "hinge_pkg.losses.HingeLoss",
        "distribution": "ganloss-hinge",
        "version": "1.2",
        "status": "ok",
        "default_loss_name": "loss_hinge",
        "default_data_info": None,
        "inputs": [
            {"name": "pred", "required": True, "description": None},
            {"name": "mask", "required": False, "description": None},
        ],
        "accepts_any_input": False,
        "hyperparameters": [
            {
                "name": "margin",
                "required": True,
                "default": None,
                "annotation": "float",
                "description": None,
            },
            {
                "name": "scale",
                "required": False,
                "default": 2.0,
                "annotation": "float",
                "description": None,
            },
        ],
        "common": {"loss_weight": 1.0, "data_info": None, "loss_name": None, "interval": 1},
        "summary": "Hinge on the margin, ``mean(relu(margin - pred)) * scale``.",
        "doc": "Hinge on the margin, ``mean(relu(margin - pred)) * scale``.\n\n"
        "The second paragraph is not part of the summary.",
        "config": '[[losses]]\ntype = "HingeLoss"\n'
        'data_info = { pred = "pred" }  # input = key of the outputs dict\n'
        "# optional inputs: mask\n"
        "# margin = ...  # required (float): set it\n"
        "scale = 2.0\n",
    }

    text = ganloss_cli("info", "HingeLoss")
    assert text.status == 0
    lines = [line.strip() for line in text.out.splitlines()]
    assert lines[0] == "HingeLoss  (hinge_pkg.losses.HingeLoss, from ganloss-hinge 1.2)"
    assert "Hinge on the margin, ``mean(relu(margin - pred)) * scale``." in lines
    assert "default loss_name: loss_hinge" in lines
    assert lines[lines.index("inputs (data_info keys):") + 1].split() == ["pred", "required"]
    assert lines[lines.index("inputs (data_info keys):") + 2].split() == ["mask", "optional"]
    assert "margin               required  (float)" in lines
    assert "scale                default 2.0  (float)" in lines
    assert "The second paragraph is not part of the summary." in lines  # the whole docstring
    assert lines[lines.index("config (TOML):") + 1 :] == info["config"].splitlines()


def test_info_does_not_show_the_base_class_docstring(ganloss_distribution, only, ganloss_cli):
    ganloss_distribution("ganloss-hinge", **loss_dist("hinge_pkg", "UndocumentedLoss"))
    only("ganloss-hinge")
    info = json.loads(ganloss_cli("info", "UndocumentedLoss", "--json").out)
    assert info["summary"] == ""
    assert info["hyperparameters"] == []
    assert "Base class" not in ganloss_cli("info", "UndocumentedLoss").out


def test_info_on_a_local_loss(local_losses, ganloss_cli):
    info = json.loads(ganloss_cli("info", "PairLoss", "--json").out)
    assert (info["distribution"], info["status"]) == ("<local>", "local")
    assert [(i["name"], i["required"]) for i in info["inputs"]] == [
        ("a", True),
        ("b", True),
        ("mask", False),
    ]
    text = ganloss_cli("info", "PairLoss").out
    assert "registered locally with register_loss" in text.splitlines()[0]


def test_info_on_an_unknown_loss_suggests_the_closest(ganloss_distribution, only, ganloss_cli):
    ganloss_distribution("ganloss-hinge", **loss_dist("hinge_pkg", "HingeLoss"))
    only("ganloss-hinge")
    result = ganloss_cli("info", "HingLoss")
    assert result.status == 1 and result.out == ""
    (line,) = result.err.splitlines()
    assert line.startswith(
        "ganloss: error: unknown loss type 'HingLoss'. Did you mean 'HingeLoss'?"
    )


# -- check --------------------------------------------------------------------------

# Five mistakes, one per loss, each at its own place; disc[0] and gen[2] are fine.
BAD_CONFIG = {
    "disc": [
        {"type": "ShiftLoss", "data_info": {"pred": "disc_pred_real"}},
        {"type": "ShiftLos", "data_info": {"pred": "disc_pred_fake"}},
        {"type": "PairLoss", "data_info": {"a": "x", "b": "y", "pred": "z"}},
    ],
    "gen": [
        {"type": "ShiftLoss", "loss_weight": "heavy", "data_info": {"pred": "disc_pred_fake"}},
        {"type": "PairLoss", "scael": 2.0, "data_info": {"a": "x", "b": "y"}},
        {"type": "PairLoss", "loss_name": "pair", "data_info": {"a": "x", "b": "y"}},
    ],
}
BAD_TOML = """
[[disc]]
type = "ShiftLoss"
data_info = { pred = "disc_pred_real" }

[[disc]]
type = "ShiftLos"
data_info = { pred = "disc_pred_fake" }

[[disc]]
type = "PairLoss"
data_info = { a = "x", b = "y", pred = "z" }

[[gen]]
type = "ShiftLoss"
loss_weight = "heavy"
data_info = { pred = "disc_pred_fake" }

[[gen]]
type = "PairLoss"
scael = 2.0
data_info = { a = "x", b = "y" }

[[gen]]
type = "PairLoss"
loss_name = "pair"
data_info = { a = "x", b = "y" }
"""
EXPECTED_PROBLEMS = [
    "disc[1].type: unknown loss type 'ShiftLos'. Did you mean 'ShiftLoss'?",
    "disc[2].PairLoss.data_info.pred: PairLoss has no input 'pred'; its inputs are "
    "['a', 'b', 'mask'].",
    "gen[0].ShiftLoss.loss_weight: must be a finite number, got 'heavy'",
    "gen[1].PairLoss.scael: PairLoss has no option 'scael'. Did you mean 'scale'?",
    "gen[2].PairLoss.loss_name: loss_name must be a string starting with 'loss_'",
]


def write_config(path, config):
    if path.suffix == ".json":
        path.write_text(json.dumps(config))
    elif path.suffix == ".yaml":
        path.write_text(yaml.safe_dump(config))
    else:
        path.write_text(BAD_TOML if config is BAD_CONFIG else "")
    return path


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yaml"])
def test_check_reports_every_problem_with_its_place(tmp_path, suffix, local_losses, ganloss_cli):
    path = write_config(tmp_path / f"gan{suffix}", BAD_CONFIG)
    assert load_config(path) == BAD_CONFIG  # the three files say the same
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0] == f"{path}: 5 problems"
    assert len(lines) == 6
    for line, expected in zip(lines[1:], EXPECTED_PROBLEMS):
        assert line.startswith(f"  - {expected}")


def test_check_passes_a_good_file(tmp_path, local_losses, ganloss_cli):
    config = {
        "disc": [
            {"type": "ShiftLoss", "loss_weight": 0.1, "data_info": {"pred": "disc_pred_real"}},
            {"type": "PairLoss", "scale": 2.0, "data_info": {"a": "x", "b": "y"}},
        ],
        "gen": {"type": "ShiftLoss", "data_info": {"pred": "disc_pred_fake"}},
    }
    path = write_config(tmp_path / "good.yaml", config)
    result = ganloss_cli("check", str(path))
    assert (result.status, result.err) == (0, "")
    assert result.out == f"{path}: ok, disc (2 losses), gen (1 loss)\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.toml", None, "cannot read the config file: No such file or directory"),
        ("gan.ini", "disc = []", "unsupported config format '.ini'"),
        ("gan.json", "{disc: [", "invalid JSON at line 1, column 2"),
        ("gan.yaml", "- 1\n- 2\n", "the top level of a config file must be a mapping"),
        ("gan.toml", "optimizer = 'adam'\n", "the config holds no list of losses"),
    ],
)
def test_check_on_a_bad_file_is_a_one_line_error(tmp_path, name, content, message, ganloss_cli):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    assert message in result.out + result.err
    assert "Traceback" not in result.out + result.err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("configs", "directory", "is a directory, not a config file; give a .json, .toml or "),
        ("gan.toml", b'disc = "caf\xe9"', "is not UTF-8 text (byte 0xe9 at offset 11, line 1)"),
        ("gan.yaml", b"", "is empty: a config file holds a mapping of loss lists, e.g. disc: ["),
        (
            "gan.yaml",
            b"# todo\n",
            "is empty (it sets nothing, only comments or an empty mapping): ",
        ),
        (
            "gan.toml",
            b"# todo\n",
            "is empty (it sets nothing, only comments or an empty mapping): ",
        ),
        ("gan.json", b"{}", "is empty (it sets nothing, only comments or an empty mapping): "),
        ("gan.json", b"[1, 2]", "the top level of a config file must be a mapping of loss "),
        ("gan.toml", None, "cannot read the config file: No such file or directory"),
        ("gan.json", b"[" * 50_000, "nests lists or tables too deeply to be read"),
    ],
)
def test_check_on_a_file_that_gives_no_mapping_is_one_paragraph(
    tmp_path, name, content, message, ganloss_cli
):
    path = tmp_path / name
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = ganloss_cli("check", str(path))
    assert (result.status, result.out) == (1, "")
    (line,) = result.err.splitlines()
    assert line.startswith(f"ganloss: error: {path}: {message}")


# What `check` takes for losses: lists of tables with a `type`; the rest is named, not checked.
MIXED_TOML = """
lr = 0.1
seed = 3

[model]
depth = 4

[[datasets]]
path = "a"

[[datasets]]
path = "b"

[[disc]]
type = "ShiftLoss"
data_info = { pred = "disc_pred_real" }

[[gen]]
type = "PairLoss"
data_info = { a = "x", b = "y" }
"""


def test_check_leaves_out_and_names_what_is_not_a_list_of_losses(
    tmp_path, local_losses, ganloss_cli
):
    path = tmp_path / "train.toml"
    path.write_text(MIXED_TOML)
    result = ganloss_cli("check", str(path))
    assert (result.status, result.err) == (0, "")
    assert result.out == (
        f"{path}: ok, disc (1 loss), gen (1 loss); not losses: lr, seed, model, datasets\n"
    )


def test_check_takes_a_table_with_type_for_a_loss_and_says_how_to_narrow(
    tmp_path, local_losses, ganloss_cli
):
    path = tmp_path / "train.toml"
    path.write_text(MIXED_TOML.replace("depth = 4", 'type = "ResNet"\ndepth = 4'))
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0] == f"{path}: 1 problem"
    # MMGeneration's single-loss form: a table with `type` is a loss, so say it is not one
    assert lines[1].startswith("  - model.type: unknown loss type 'ResNet'")
    assert lines[2] == (
        "No 'type' in model names a loss: if it is not losses (a model's config, say), "
        f"check only the lists of losses: ganloss check {path} --losses disc,gen"
    )
    narrowed = ganloss_cli("check", str(path), "--losses", "disc,gen")
    assert (narrowed.status, narrowed.err) == (0, "")
    assert narrowed.out == f"{path}: ok, disc (1 loss), gen (1 loss)\n"


@pytest.mark.parametrize(
    ("losses", "message"),
    [
        ("disc,lr", "lr: an aggregator config is a list of loss configs, got float"),
        ("disc,datasets", "datasets[0]: a loss config needs a 'type'"),
        ("dsic", "the config has no top-level key 'dsic'. Did you mean 'disc'?"),
        ("model.dept", "the config has no key 'model.dept': no 'dept' under 'model'. Did you"),
        ("lr.x", "the config has no key 'lr.x': no 'x' under 'lr'. 'lr' is not a table"),
    ],
)
def test_check_losses_checks_exactly_the_named_keys(
    tmp_path, local_losses, ganloss_cli, losses, message
):
    path = tmp_path / "train.toml"
    path.write_text(MIXED_TOML)
    result = ganloss_cli("check", str(path), "--losses", losses)
    assert result.status == 1
    assert message in result.out
    assert "Traceback" not in result.out + result.err


def test_check_losses_needs_a_name(tmp_path, ganloss_cli):
    path = tmp_path / "train.toml"
    path.write_text(MIXED_TOML)
    result = ganloss_cli("check", str(path), "--losses", ",")
    assert (result.status, result.out) == (1, "")
    assert result.err == "ganloss: error: --losses: give at least one key, e.g. --losses disc,gen\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # nothing that looks like a loss list: the keys are named, with why
        (
            "lr: 0.1\nmodel: {depth: 4}\ndatasets: [{path: a}]\nempty: []\n",
            "the config holds no list of losses: expected top-level lists of tables with a "
            "'type', such as disc = [{type = 'DiscShiftLoss', ...}] (TOML [[disc]]). "
            "Top-level keys: lr (a float, not a list of losses); model (a table without "
            "'type'); datasets (a list without a table with 'type'); empty (an empty list)",
        ),
        # odd YAML: non-string keys, entries that are not tables
        (
            "disc: [1, {type: ShiftLoss, data_info: {pred: p}}]\n",
            "disc[0]: a loss config is a dict",
        ),
        (
            "1: [{type: ShiftLoss, 2: x, data_info: {pred: p}}]\n",
            "1[0].ShiftLoss.2: ShiftLoss has no option 2.",
        ),
        ("disc: [{type: [ShiftLoss]}]\n", "disc[0].type: type must be a loss name"),
    ],
)
def test_check_never_crashes_on_odd_files(tmp_path, local_losses, ganloss_cli, text, message):
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    assert message in result.out
    assert "Traceback" not in result.out + result.err


def test_a_config_file_error_names_the_file_first(tmp_path, ganloss_cli):
    path = tmp_path / "gan.toml"
    path.write_text("disc = [")
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    assert result.err.startswith(f"ganloss: error: {path}: invalid TOML")


# -- plugins, commands, versions ------------------------------------------------------

HOOKS = """
from ganlosscore import hookimpl


@hookimpl
def ganloss_register_commands(cli):
    parser = cli.add_parser("hello", help="say hello")
    parser.add_argument("--to", default="world")
    parser.set_defaults(func=lambda args: print(f"hello {args.to}") or 3)


@hookimpl
def ganloss_after_aggregate(result):
    pass
"""

GREEDY_HOOKS = """
from ganlosscore import hookimpl


@hookimpl
def ganloss_register_commands(cli):
    cli.add_parser("list", help="a plugin trying to take a core command's name")
"""


def test_plugins_lists_distributions_with_their_hooks(ganloss_distribution, only, ganloss_cli):
    ganloss_distribution(
        "ganloss-hello",
        version="0.9",
        hooks={"hello": "hello_pkg.hooks"},
        modules={"hello_pkg/__init__.py": "", "hello_pkg/hooks.py": HOOKS},
    )
    ganloss_distribution("ganloss-hinge", version="1.2", **loss_dist("hinge_pkg", "HingeLoss"))
    ganloss_distribution(
        "ganloss-cracked",
        hooks={"cracked": "cracked_pkg.hooks"},
        modules={"cracked_pkg/__init__.py": "", "cracked_pkg/hooks.py": "import no_such_mod"},
    )
    only("ganloss-hello", "ganloss-hinge", "ganloss-cracked")
    result = ganloss_cli("plugins", "--json")
    assert result.status == 1  # ganloss-cracked is broken
    rows = {row["distribution"]: row for row in json.loads(result.out)}
    assert rows["ganloss-hello"] == {
        "distribution": "ganloss-hello",
        "version": "0.9",
        "protocol": 1,
        "losses": [],
        "hooks": ["ganloss_after_aggregate", "ganloss_register_commands"],
        "status": "ok",
        "reason": None,
    }
    assert (rows["ganloss-hinge"]["losses"], rows["ganloss-hinge"]["hooks"]) == (["HingeLoss"], [])
    assert rows["ganloss-cracked"]["status"] == "broken"
    assert "No module named 'no_such_mod'" in rows["ganloss-cracked"]["reason"]

    table = ganloss_cli("plugins").out
    (hello,) = [line for line in table.splitlines() if line.startswith("ganloss-hello")]
    assert hello.split() == [
        "ganloss-hello",
        "0.9",
        "0",
        "ganloss_after_aggregate,",
        "ganloss_register_commands",
        "ok",
    ]


def test_plugins_shows_an_incompatible_distribution_with_its_reason(
    ganloss_distribution, only, ganloss_cli
):
    # Both declare loss protocol 2 in their ganlosscore.protocol entry points; this core
    # implements 1. One offers a loss, the other only hooks (which are never imported).
    ganloss_distribution(
        "ganloss-future", version="2.0", protocol=2, **loss_dist("future_pkg", "HingeLoss")
    )
    ganloss_distribution(
        "ganloss-future-hooks",
        version="2.1",
        protocol=2,
        hooks={"hello": "future_hooks_pkg.hooks"},
        modules={"future_hooks_pkg/__init__.py": "", "future_hooks_pkg/hooks.py": HOOKS},
    )
    ganloss_distribution("ganloss-hinge", version="1.2", **loss_dist("hinge_pkg", "HingeLoss"))
    only("ganloss-future", "ganloss-future-hooks", "ganloss-hinge")
    reason = (
        "ganloss-future 2.0 was built for loss protocol 2, but this ganlosscore implements "
        "protocol 1; install a version of ganloss-future built for protocol 1, or a "
        "ganlosscore that supports protocol 2"
    )
    # the registry's own record of the loss says the same
    (record,) = [r for r in ganlosscore.available_losses() if r.distribution == "ganloss-future"]
    assert (record.status, record.reason) == ("incompatible", reason)

    result = ganloss_cli("plugins", "--json")
    assert result.status == 1  # an incompatible plugin cannot be used
    rows = {row["distribution"]: row for row in json.loads(result.out)}
    assert rows["ganloss-future"] == {
        "distribution": "ganloss-future",
        "version": "2.0",
        "protocol": 2,
        "losses": ["HingeLoss"],
        "hooks": [],
        "status": "incompatible",
        "reason": reason,
    }
    hooks_only = rows["ganloss-future-hooks"]
    assert (hooks_only["status"], hooks_only["hooks"]) == ("incompatible", [])
    assert hooks_only["reason"].startswith(
        "ganloss-future-hooks 2.1 was built for loss protocol 2, but this ganlosscore "
    )
    assert "future_hooks_pkg.hooks" not in sys.modules
    assert (rows["ganloss-hinge"]["status"], rows["ganloss-hinge"]["reason"]) == ("ok", None)

    table = ganloss_cli("plugins").out
    (future,) = [line for line in table.splitlines() if line.startswith("ganloss-future ")]
    assert future.split()[:5] == ["ganloss-future", "2.0", "1", "-", "incompatible"]
    assert future.endswith(f"incompatible ({reason})")

    versions = ganloss_cli("--version").out.splitlines()
    assert "  ganloss-future 2.0 (incompatible: built for loss protocol 2)" in versions
    assert "  ganloss-hinge 1.2" in versions


def test_plugins_says_disabled_rather_than_incompatible_for_a_deselected_one(
    ganloss_distribution, monkeypatch, ganloss_cli
):
    # Deselected wins, as in the registry's records: the plugin is not used at all.
    ganloss_distribution("ganloss-future", protocol=2, **loss_dist("future_pkg", "HingeLoss"))
    monkeypatch.setenv("GANLOSS_DISABLE_PLUGINS", "ganloss-future")
    rows = {row["distribution"]: row for row in json.loads(ganloss_cli("plugins", "--json").out)}
    assert (rows["ganloss-future"]["status"], rows["ganloss-future"]["reason"]) == (
        "disabled",
        "disabled by GANLOSS_DISABLE_PLUGINS",
    )


def test_a_plugin_command_runs_and_a_clashing_one_is_isolated(
    ganloss_distribution, only, ganloss_cli
):
    ganloss_distribution(
        "ganloss-hello",
        hooks={"hello": "hello_pkg.hooks"},
        modules={"hello_pkg/__init__.py": "", "hello_pkg/hooks.py": HOOKS},
    )
    ganloss_distribution(
        "ganloss-greedy",
        hooks={"greedy": "greedy_pkg.hooks"},
        modules={"greedy_pkg/__init__.py": "", "greedy_pkg/hooks.py": GREEDY_HOOKS},
    )
    only("ganloss-hello", "ganloss-greedy")
    result = ganloss_cli("hello", "--to", "plugins")
    assert (result.status, result.out) == (3, "hello plugins\n")  # the command's own status
    # The clash costs the greedy plugin its command, not the CLI its `list`.
    (warning,) = result.err.splitlines()
    assert warning.startswith("ganloss: warning: plugin ganloss-greedy:greedy could not add")
    assert "conflicting subparser: list" in warning

    helped = ganloss_cli("--help")
    assert helped.status == 0
    assert "hello" in helped.out and "new-plugin" in helped.out


def test_version_shows_the_core_and_every_plugin(ganloss_distribution, monkeypatch, ganloss_cli):
    ganloss_distribution("ganloss-hinge", version="3.1.4", **loss_dist("hinge_pkg", "HingeLoss"))
    ganloss_distribution(
        "ganloss-hello",
        version="0.9",
        hooks={"hello": "hello_pkg.hooks"},
        modules={"hello_pkg/__init__.py": "", "hello_pkg/hooks.py": HOOKS},
    )
    monkeypatch.setenv("GANLOSS_DISABLE_PLUGINS", "ganloss-hello")
    result = ganloss_cli("--version")
    assert result.status == 0
    lines = result.out.splitlines()
    assert lines[0] == f"ganlosscore {ganlosscore.__version__} (loss protocol 1)"
    assert "  ganloss-hinge 3.1.4" in lines
    assert "  ganloss-hello 0.9 (disabled by GANLOSS_DISABLE_PLUGINS)" in lines
    assert lines[1:] == sorted(lines[1:])


def test_the_console_script_and_python_m_run_main():
    (script,) = importlib_metadata.entry_points(group="console_scripts", name="ganloss")
    assert script.value == "ganlosscore.cli:main"
    result = subprocess.run(
        [sys.executable, "-m", "ganlosscore", "--version"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout.startswith(f"ganlosscore {ganlosscore.__version__} ")


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        (["info"], 2, "the following arguments are required: name"),
        (["list", "--jsn"], 2, "unrecognized arguments: --jsn"),
        ([], 2, "usage: ganloss"),
    ],
)
def test_usage_mistakes_exit_non_zero_without_a_traceback(argv, status, message, ganloss_cli):
    result = ganloss_cli(*argv)
    assert result.status == status
    assert message in result.out + result.err
    assert "Traceback" not in result.out + result.err


def test_new_plugin_with_a_name_too_long_for_a_folder_is_one_paragraph(tmp_path, ganloss_cli):
    # a valid distribution name, but 8 + 300 bytes is over the 255 a folder name may have
    name = "ganloss-" + "a" * 300
    result = ganloss_cli("new-plugin", name, "--dir", str(tmp_path))
    assert (result.status, result.out) == (1, "")
    (line,) = result.err.splitlines()
    assert line == (
        f"ganloss: error: new-plugin: cannot create {tmp_path / name}: File name too long; "
        "choose a shorter name or --dir"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_selection_that_names_no_plugin_warns_in_one_paragraph(tmp_path):
    site = install_distribution(
        tmp_path / "site", "ganloss-hinge", **loss_dist("hinge_pkg", "HingeLoss")
    )
    result = subprocess.run(
        [sys.executable, "-m", "ganlosscore", "list"],
        capture_output=True,
        text=True,
        env=clean_env(PYTHONPATH=str(site), GANLOSS_DISABLE_PLUGINS="ganloss-hnge"),
        timeout=120,
    )
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()  # not Python's "file:line: Warning" and source line
    assert line.startswith(
        "ganloss: warning: GANLOSS_DISABLE_PLUGINS names 'ganloss-hnge', which is not an "
        "installed distribution offering losses or hooks, so it selects nothing. "
        "Did you mean 'ganloss-hinge'?"
    )
    assert "HingeLoss " in result.stdout


MMGEN_NESTED_TOML = """
[model]
type = "StyleGANv2"

[[model.disc_auxiliary_loss]]
type = "ShiftLoss"
data_info = { pred = "disc_pred_real" }

[gan_loss]
type = "ShiftLoss"
"""


def test_check_reaches_nested_lists_and_takes_a_single_loss_table_as_mmgeneration_does(
    tmp_path, local_losses, ganloss_cli
):
    path = tmp_path / "stylegan2.toml"
    path.write_text(MMGEN_NESTED_TOML)
    # gan_loss, a single table, is called directly by model code: it needs no data_info
    result = ganloss_cli("check", str(path), "--losses", "model.disc_auxiliary_loss,gan_loss")
    assert (result.status, result.err) == (0, "")
    assert result.out.startswith(f"{path}: ok, model.disc_auxiliary_loss (1 loss), gan_loss")
    # a problem inside the nested list is placed under its dotted name
    path.write_text(MMGEN_NESTED_TOML.replace('pred = "disc_pred_real"', 'prde = "x"'))
    broken = ganloss_cli("check", str(path), "--losses", "model.disc_auxiliary_loss")
    assert broken.status == 1
    assert "model.disc_auxiliary_loss[0].ShiftLoss.data_info.prde" in broken.out


# -- hostile input and plugins ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "utf-8"])
def test_check_prints_a_lone_surrogate_in_any_terminal_encoding(tmp_path, encoding):
    path = tmp_path / "gan.json"
    path.write_text('{"disc": [{"type": "DiscShiftLoss", "\\ud800": 1}]}')
    result = subprocess.run(
        [sys.executable, "-m", "ganlosscore", "check", str(path)],
        capture_output=True,
        env=clean_env(PYTHONIOENCODING=encoding),
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == b""
    assert (
        b"  - disc[0].DiscShiftLoss.\\ud800: DiscShiftLoss has no option '\\ud800'."
        in result.stdout
    )


def test_check_reports_a_loss_weight_too_large_for_a_float(tmp_path, local_losses, ganloss_cli):
    path = tmp_path / "gan.json"
    path.write_text('{"disc": [{"type": "ShiftLoss", "loss_weight": 1%s}]}' % ("0" * 400))
    result = ganloss_cli("check", str(path))
    assert result.status == 1 and result.err == ""
    assert result.out.startswith(f"{path}: 1 problem\n  - disc[0].ShiftLoss.loss_weight: ")


EXITING_COMMANDS = """
from ganlosscore import hookimpl

class Boom(BaseException):
    pass

@hookimpl
def ganloss_register_commands(cli):
    cli.add_parser("half", help="added before the plugin gives up")
    raise {error}
"""


@pytest.mark.parametrize(
    ("error", "shown"),
    [("SystemExit(5)", "SystemExit: it called sys.exit(5)"), ("Boom('x')", "Boom: x")],
)
def test_a_plugin_that_exits_while_adding_commands_leaves_help_working(
    ganloss_distribution, only, ganloss_cli, error, shown
):
    ganloss_distribution(
        "ganloss-exiting",
        hooks={"exiting": "exiting_hooks"},
        modules={"exiting_hooks.py": EXITING_COMMANDS.format(error=error)},
    )
    only("ganloss-exiting")
    result = ganloss_cli("--help")
    assert result.status == 0
    assert "new-plugin" in result.out
    (warning,) = result.err.splitlines()
    assert warning.startswith(
        f"ganloss: warning: plugin ganloss-exiting:exiting could not add its commands ({shown}"
    )


def test_help_works_when_a_hook_plugin_raises_a_base_exception_on_import(
    ganloss_distribution, only, ganloss_cli
):
    ganloss_distribution(
        "ganloss-boom",
        hooks={"boom": "boom_hooks"},
        modules={"boom_hooks.py": "class Boom(BaseException):\n    pass\nraise Boom('x')\n"},
    )
    only("ganloss-boom")
    result = ganloss_cli("--help")
    assert result.status == 0
    assert "new-plugin" in result.out and "Traceback" not in result.err


def test_the_cli_registers_its_own_commands_and_hooks_do_not_import_it():
    result = run_python(
        """
        import sys
        from ganlosscore.hooks import get_plugin_manager
        pm = get_plugin_manager()
        print("ganlosscore.cli" in sys.modules, pm.get_plugin("ganlosscore.commands"))
        from ganlosscore.cli import main
        try:
            main(["--help"])
        finally:
            print(type(pm.get_plugin("ganlosscore.commands")).__name__, file=sys.stderr)
        """
    )
    assert result.stdout.splitlines()[0] == "False None"
    assert result.stderr.strip() == "CoreCommands"


PRINTING = """
print("hello from the plugin's import")
from ganlosscore import LossModule, hookimpl

class LoudLoss(LossModule):
    default_loss_name = "loss_loud"

    def compute(self, pred):
        return pred.mean()

@hookimpl
def ganloss_after_aggregate(result):
    pass
"""


@pytest.mark.parametrize(
    "argv", [("list", "--check", "--json"), ("plugins", "--json"), ("info", "LoudLoss", "--json")]
)
def test_a_plugin_printing_on_import_cannot_corrupt_json_output(
    ganloss_distribution, only, ganloss_cli, argv
):
    ganloss_distribution(
        "ganloss-loud",
        losses={"LoudLoss": "loud_pkg:LoudLoss"},
        hooks={"loud": "loud_pkg"},
        modules={"loud_pkg/__init__.py": PRINTING},
    )
    only("ganloss-loud")
    result = ganloss_cli(*argv)
    assert result.status == 0, result.err
    json.loads(result.out)
    assert "hello from the plugin's import" in result.err


def test_plugins_shows_a_distribution_with_unreadable_metadata_and_exits_1(
    ganloss_distribution, only, ganloss_cli
):
    root = ganloss_distribution("ganloss-hinge", **loss_dist("hinge_pkg", "HingeLoss"))
    info = root / "nameless-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ganlosscore.losses]\nA = nowhere:A\n")
    only("ganloss-hinge")
    listed = ganloss_cli("list")
    assert listed.status == 0 and "HingeLoss" in listed.out
    warning = (
        f"ganloss: warning: skipped the distribution (a distribution without a name in {root})"
    )
    assert listed.err.startswith(f"{warning}: its METADATA has no Name: field.")
    result = ganloss_cli("plugins", "--json")
    assert result.status == 1
    rows = {row["distribution"]: row for row in json.loads(result.out)}
    assert rows["ganloss-hinge"]["status"] == "ok"
    nameless = rows[f"(a distribution without a name in {root})"]
    assert (nameless["status"], nameless["reason"]) == (
        "broken",
        "skipped, its METADATA has no Name: field",
    )


DOCUMENTED = """
from ganlosscore import LossModule


class NoteLoss(LossModule):
    \"\"\"A documented loss.

    Args:
        scale (float): Multiplies the mean,
            which is all there is to it.
        mode: ``"mean"`` or ``"sum"``.
        **kwargs: the common keywords.

    Shape:
        pred: ``(N, *)``, the discriminator's output.
        Output: scalar.
    \"\"\"

    default_loss_name = "loss_note"

    def __init__(self, scale=0.5, mode="mean", flags=(1, 2), **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def compute(self, pred):
        return pred.mean() * self.scale
"""


def test_info_describes_each_input_and_option_and_gives_a_config_that_checks(
    ganloss_distribution, only, ganloss_cli, tmp_path
):
    ganloss_distribution("ganloss-note", **loss_dist("note_pkg", "NoteLoss", source=DOCUMENTED))
    only("ganloss-note")
    info = json.loads(ganloss_cli("info", "NoteLoss", "--json").out)
    assert info["inputs"] == [
        {"name": "pred", "required": True, "description": "``(N, *)``, the discriminator's output."}
    ]
    described = {hp["name"]: hp["description"] for hp in info["hyperparameters"]}
    assert described == {
        "scale": "Multiplies the mean, which is all there is to it.",
        "mode": '``"mean"`` or ``"sum"``.',
        "flags": None,
    }
    assert info["config"] == (
        '[[losses]]\ntype = "NoteLoss"\n'
        'data_info = { pred = "pred" }  # input = key of the outputs dict\n'
        'scale = 0.5\nmode = "mean"\nflags = [1, 2]\n'
    )
    path = tmp_path / "note.toml"
    path.write_text(info["config"])
    result = ganloss_cli("check", str(path))
    assert (result.status, result.out) == (0, f"{path}: ok, losses (1 loss)\n")


def test_check_names_what_is_not_a_loss_briefly(tmp_path, local_losses, ganloss_cli):
    path = tmp_path / "gan.json"
    settings = {f"setting{i}": i for i in range(1000)}
    path.write_text(
        json.dumps(
            {
                "k" * 100_000: 1,
                **settings,
                "disc": [{"type": "ShiftLoss", "data_info": {"pred": "p"}}],
            }
        )
    )
    result = ganloss_cli("check", str(path))
    assert result.status == 0, result.out
    assert len(result.out) < 1000
    assert result.out.endswith(", setting18, and 981 more\n")


def test_help_and_plugins_do_not_import_torch():
    result = run_python(
        """
        import contextlib, io, sys
        from ganlosscore.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            statuses = main(["--help"]), main(["plugins"])
        print(statuses, "torch" in sys.modules, "new-plugin" in out.getvalue())
        """
    )
    assert result.stdout.strip() == "(0, 0) False True", result.stderr


# -- check: settings of hook plugins (issue 17.1) -------------------------------------

PACED = """
from ganlosscore import ConfigError, hookimpl
from ganlosscore.checks import check_int

APPLIED = []

@hookimpl
def ganloss_configure(settings, check_only):
    for key in settings:
        if key != "every":
            raise ConfigError(f"unknown setting {key!r}; ganloss-paced takes: every", where=key)
    every = check_int(settings.get("every", 1), where="every")
    if not check_only:
        APPLIED.append(every)
"""


@pytest.fixture
def paced_plugin(ganloss_distribution, monkeypatch):
    """ganloss-paced: an installed hook plugin that takes one setting, on a fresh manager."""
    from ganlosscore import hooks

    ganloss_distribution(
        "ganloss-paced", hooks={"paced": "ganloss_paced"}, modules={"ganloss_paced.py": PACED}
    )
    monkeypatch.setattr(hooks, "_manager", None)  # rebuilt with it; the old one comes back after


def test_check_reports_the_problems_of_plugin_settings(
    tmp_path, local_losses, paced_plugin, ganloss_cli
):
    path = tmp_path / "gan.toml"
    path.write_text(
        "disc = [{type = 'ShiftLoss', data_info = {pred = 'p'}}]\n"
        "[plugins.ganloss-pacd]\nevery = 2\n"
        "[plugins.ganloss-paced]\nevery = 0\nevry = 3\n"
    )
    result = ganloss_cli("check", str(path))
    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0] == f"{path}: 2 problems"
    assert lines[1].startswith(
        "  - plugins.ganloss-pacd: no hook plugin named 'ganloss-pacd' takes settings here. "
        "Did you mean 'ganloss-paced'?"
    )
    assert lines[2] == (
        "  - plugins.ganloss-paced.evry: unknown setting 'evry'; ganloss-paced takes: every"
    )


def test_check_passes_good_plugin_settings_without_applying_them(
    tmp_path, local_losses, paced_plugin, ganloss_cli
):
    path = tmp_path / "gan.yaml"
    path.write_text(
        "disc: [{type: ShiftLoss, data_info: {pred: p}}]\nplugins:\n  ganloss-paced: {every: 4}\n"
    )
    result = ganloss_cli("check", str(path))
    assert (result.status, result.err) == (0, "")
    assert result.out == f"{path}: ok, disc (1 loss); settings of ganloss-paced\n"
    import ganloss_paced

    assert ganloss_paced.APPLIED == []  # checked, not applied

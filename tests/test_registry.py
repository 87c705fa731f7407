import re
import subprocess
import sys
import textwrap
import warnings

import pytest
from _losses import PairLoss, ShiftLoss
from _plugins import hook_plugin

from ganlosscore import (
    ConfigError,
    IncompatiblePluginError,
    LossConflictError,
    NotALossError,
    PluginLoadError,
    PluginSelectionWarning,
    UnknownLossError,
    available_losses,
    build_aggregator,
    build_loss,
    register_loss,
)
from ganlosscore.errors import BrokenDistributionWarning
from ganlosscore.registry import refresh, unreadable_distributions, unregister_loss


def loss_module(cls_name: str, loss_name: str) -> str:
    return textwrap.dedent(
        f"""
        from ganlosscore import LossModule

        class {cls_name}(LossModule):
            default_loss_name = "{loss_name}"

            def compute(self, pred):
                return pred.mean()
        """
    )


def plugin(pkg: str, *losses: str) -> dict:
    """Keywords for ganloss_distribution: a package `pkg` offering the named losses."""
    source = "".join(loss_module(name, f"loss_{name.lower()}") for name in losses)
    return {
        "losses": {name: f"{pkg}.losses:{name}" for name in losses},
        "modules": {f"{pkg}/__init__.py": "", f"{pkg}/losses.py": source},
    }


def records_by_name():
    return {(r.name, r.distribution): r for r in available_losses(include_disabled=True)}


def test_installed_losses_are_listed_without_importing_them(ganloss_distribution):
    ganloss_distribution(
        "ganloss-alpha", version="2.3", **plugin("alpha_pkg", "AlphaLoss", "BetaLoss")
    )
    records = records_by_name()
    alpha = records[("AlphaLoss", "ganloss-alpha")]
    assert (alpha.version, alpha.status, alpha.target) == (
        "2.3",
        "ok",
        "alpha_pkg.losses:AlphaLoss",
    )
    assert alpha.qualified_name == "ganloss-alpha:AlphaLoss"
    assert ("BetaLoss", "ganloss-alpha") in records
    assert "alpha_pkg.losses" not in sys.modules


def test_building_imports_only_that_plugin(ganloss_distribution):
    ganloss_distribution("ganloss-one", **plugin("one_pkg", "OneLoss"))
    ganloss_distribution("ganloss-two", **plugin("two_pkg", "TwoLoss"))
    loss = build_loss({"type": "OneLoss"})
    assert loss.loss_name() == "loss_oneloss"
    assert "one_pkg.losses" in sys.modules
    assert "two_pkg.losses" not in sys.modules


def test_the_same_distribution_twice_on_sys_path_counts_once(ganloss_distribution):
    ganloss_distribution("ganloss-dup", **plugin("dup_pkg", "DupLoss"))
    ganloss_distribution("ganloss-dup", **plugin("dup_pkg", "DupLoss"))
    assert [r.name for r in available_losses()].count("DupLoss") == 1
    assert build_loss({"type": "DupLoss"}).loss_name() == "loss_duploss"


def test_two_distributions_with_one_name_conflict_and_qualified_names_select(ganloss_distribution):
    ganloss_distribution("ganloss-red", **plugin("red_pkg", "SameLoss"))
    ganloss_distribution("Ganloss_Blue", **plugin("blue_pkg", "SameLoss"))
    records = records_by_name()
    assert records[("SameLoss", "ganloss-red")].status == "conflict"
    assert records[("SameLoss", "ganloss-red")].reason == (
        "also offered by ganloss-blue; select one as 'ganloss-red:SameLoss'"
    )
    with pytest.raises(LossConflictError) as info:
        build_loss({"type": "SameLoss"})
    message = str(info.value)
    assert "ganloss-red" in message and "ganloss-blue" in message
    assert "'ganloss-red:SameLoss'" in message
    red = build_loss({"type": "ganloss-red:SameLoss"})
    blue = build_loss({"type": "ganloss_blue:SameLoss"})  # the dist name is normalised
    assert type(red).__module__ == "red_pkg.losses"
    assert type(blue).__module__ == "blue_pkg.losses"


def test_a_broken_plugin_is_isolated(ganloss_distribution):
    ganloss_distribution(
        "ganloss-broken",
        losses={"BrokenLoss": "broken_pkg:BrokenLoss", "NotALoss": "broken_ok:Thing"},
        modules={
            "broken_pkg.py": "raise ImportError('needs libfoo')\n",
            "broken_ok.py": "class Thing:\n    pass\n",
        },
    )
    ganloss_distribution("ganloss-fine", **plugin("fine_pkg", "FineLoss"))
    with pytest.raises(PluginLoadError) as info:
        build_loss({"type": "BrokenLoss"})
    assert isinstance(info.value.__cause__, ImportError)
    assert "needs libfoo" in str(info.value)
    with pytest.raises(PluginLoadError, match="not a subclass of ganlosscore.LossModule"):
        build_loss({"type": "NotALoss"})
    # everything else still works, and the records say why the others failed
    assert build_loss({"type": "FineLoss"}).loss_name() == "loss_fineloss"
    records = records_by_name()
    assert records[("BrokenLoss", "ganloss-broken")].status == "broken"
    assert "needs libfoo" in records[("BrokenLoss", "ganloss-broken")].reason
    assert records[("NotALoss", "ganloss-broken")].status == "broken"
    assert records[("FineLoss", "ganloss-fine")].status == "ok"
    # in a config, the place is the entry's type and the message names loss and distribution
    with pytest.raises(PluginLoadError) as placed:
        build_aggregator([{"type": "FineLoss", "data_info": {"pred": "p"}}, {"type": "BrokenLoss"}])
    assert placed.value.where == "disc[1].type"
    assert str(placed.value).startswith(
        "disc[1].type: cannot build loss 'BrokenLoss' of ganloss-broken: importing broken_pkg"
    )


def test_a_plugin_that_exits_on_import_is_broken_not_the_end_of_the_process(
    ganloss_distribution,
):
    ganloss_distribution(
        "ganloss-quits",
        losses={"QuitLoss": "quits_pkg:QuitLoss"},
        hooks={"quit": "quits_hooks"},
        modules={
            "quits_pkg.py": "import sys\nsys.exit()\n",
            "quits_hooks.py": "raise SystemExit('no GPU found')\n",
        },
    )
    with pytest.raises(
        PluginLoadError,
        match=r"quits_pkg:QuitLoss failed: SystemExit: the module called sys.exit\(None\)",
    ):
        build_loss({"type": "QuitLoss"})
    assert records_by_name()[("QuitLoss", "ganloss-quits")].status == "broken"
    from ganlosscore.hooks import get_plugin_manager, hook_plugin_failures

    get_plugin_manager()
    assert hook_plugin_failures()["ganloss-quits:quit"] == (
        "SystemExit: the module called sys.exit('no GPU found') on import"
    )


def test_strict_mode_lets_a_plugin_look_up_losses_while_it_is_imported(
    ganloss_distribution, monkeypatch
):
    ganloss_distribution(
        "ganloss-reentry",
        losses={"ReLoss": "re_pkg:ReLoss"},
        modules={
            "re_pkg.py": (
                "import ganlosscore\n"
                "from ganlosscore import LossModule\n"
                "SEEN = [r.name for r in ganlosscore.available_losses()]\n"
                "class ReLoss(LossModule):\n"
                "    default_loss_name = 'loss_re'\n"
                "    def compute(self, pred):\n"
                "        return pred.mean()\n"
            )
        },
    )
    monkeypatch.setenv("GANLOSS_STRICT_PLUGINS", "1")
    refresh()
    assert records_by_name()[("ReLoss", "ganloss-reentry")].status == "ok"
    assert "ReLoss" in sys.modules["re_pkg"].SEEN  # the index being loaded, not a second scan


def test_strict_mode_raises_at_once(ganloss_distribution, monkeypatch):
    ganloss_distribution(
        "ganloss-strict",
        losses={"BadLoss": "strict_pkg:BadLoss"},
        modules={"strict_pkg.py": "raise RuntimeError('boom')\n"},
    )
    monkeypatch.setenv("GANLOSS_STRICT_PLUGINS", "1")
    refresh()
    with pytest.raises(PluginLoadError, match="boom"):
        available_losses()
    # and again on every later lookup: the index is never left half-read
    with pytest.raises(PluginLoadError, match="boom"):
        available_losses()
    with pytest.raises(PluginLoadError, match="boom"):
        build_loss({"type": "BadLoss"})
    monkeypatch.delenv("GANLOSS_STRICT_PLUGINS")
    refresh()
    assert any(r.name == "BadLoss" for r in available_losses())


def test_deny_list_disables_a_distribution_before_import(ganloss_distribution, monkeypatch):
    ganloss_distribution("ganloss-deny", **plugin("deny_pkg", "DenyLoss"))
    monkeypatch.setenv("GANLOSS_DISABLE_PLUGINS", "Ganloss_Deny")
    refresh()
    assert "DenyLoss" not in [r.name for r in available_losses()]
    assert records_by_name()[("DenyLoss", "ganloss-deny")].status == "disabled"
    with pytest.raises(
        UnknownLossError, match="installed but not selected.*GANLOSS_DISABLE_PLUGINS"
    ):
        build_loss({"type": "DenyLoss"})
    assert "deny_pkg.losses" not in sys.modules


@pytest.mark.parametrize("variable", ["GANLOSS_DISABLE_PLUGINS", "GANLOSS_PLUGINS"])
def test_a_selection_naming_no_plugin_distribution_warns(
    variable, ganloss_distribution, monkeypatch
):
    ganloss_distribution("ganloss-typo", **plugin("typo_pkg", "TypoLoss"))
    monkeypatch.setenv(variable, "ganloss-tpyo, ganloss-typo")
    refresh()
    with pytest.warns(PluginSelectionWarning) as caught:
        available_losses()
    (warning,) = caught  # only the unknown name, once
    message = str(warning.message)
    assert message.startswith(f"{variable} names 'ganloss-tpyo', which is not an installed")
    assert warning.filename == __file__  # blames the caller, not ganlosscore's own code
    assert "Did you mean 'ganloss-typo'?" in message
    # the index is read once: no repeated warning on later lookups
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        available_losses()


def test_allow_list_selects_and_empty_allows_none(ganloss_distribution, monkeypatch):
    ganloss_distribution("ganloss-in", **plugin("in_pkg", "InLoss"))
    ganloss_distribution("ganloss-out", **plugin("out_pkg", "OutLoss"))
    monkeypatch.setenv("GANLOSS_PLUGINS", "ganloss-in")
    refresh()
    names = [r.name for r in available_losses()]
    assert "InLoss" in names and "OutLoss" not in names
    monkeypatch.setenv("GANLOSS_PLUGINS", "")
    refresh()
    assert [r for r in available_losses() if r.distribution != "<local>"] == []


def test_a_plugin_for_another_protocol_is_incompatible(ganloss_distribution):
    ganloss_distribution(
        "ganloss-future", version="9.0", protocol=99, **plugin("fut_pkg", "FutureLoss")
    )
    record = records_by_name()[("FutureLoss", "ganloss-future")]
    assert record.status == "incompatible"
    assert "protocol 99" in record.reason and "implements protocol 1" in record.reason
    assert "9.0" in record.reason
    with pytest.raises(IncompatiblePluginError, match="protocol 99"):
        build_loss({"type": "FutureLoss"})
    assert "fut_pkg.losses" not in sys.modules


def test_unknown_type_suggests_the_closest_name(local_losses):
    with pytest.raises(
        UnknownLossError, match=r"unknown loss type 'ShiftLos'.*Did you mean 'ShiftLoss'"
    ):
        build_loss({"type": "ShiftLos"})


def test_register_loss_as_decorator_and_call(ganloss_registry):
    from ganlosscore import LossModule

    @register_loss(name="RenamedLoss")
    class Local(LossModule):
        default_loss_name = "loss_local"

        def compute(self, pred):
            return pred.sum()

    try:
        assert build_loss({"type": "RenamedLoss"}).loss_name() == "loss_local"
        assert register_loss(Local, name="RenamedLoss") is Local  # the same class again: fine
        record = next(r for r in available_losses() if r.name == "RenamedLoss")
        assert record.status == "local"
    finally:
        unregister_loss("RenamedLoss")


def test_register_loss_never_silently_replaces(local_losses, ganloss_distribution):
    with pytest.raises(LossConflictError, match="already registered"):
        register_loss(PairLoss, name="ShiftLoss")
    ganloss_distribution("ganloss-taken", **plugin("taken_pkg", "TakenLoss"))
    with pytest.raises(LossConflictError, match="ganloss-taken"):
        register_loss(ShiftLoss, name="TakenLoss")


@pytest.mark.parametrize(("thing", "shown"), [(dict, "the class dict"), (3, "3")])
def test_register_loss_refuses_non_loss_classes(thing, shown):
    with pytest.raises(NotALossError, match=f"subclass of LossModule, got {shown}; a loss") as info:
        register_loss(thing)
    assert isinstance(info.value, TypeError)  # what Python code expects of a wrong argument type


def test_register_loss_given_a_name_positionally_says_how_to_pass_it():
    with pytest.raises(NotALossError) as info:
        register_loss("MyLoss")  # as in @register_loss("MyLoss")
    assert str(info.value).endswith("pass it as a keyword: @register_loss(name='MyLoss')")


@pytest.mark.parametrize("name", ["", "  ", " Padded", 5, "ganloss-x:ShiftLoss"])
def test_register_loss_refuses_names_a_config_could_not_use(name):
    with pytest.raises(ConfigError, match="registered under a non-empty name") as info:
        register_loss(ShiftLoss, name=name)
    assert info.value.where == "register_loss.name"
    assert "ganloss-x:ShiftLoss" not in [r.name for r in available_losses()]


def test_importing_the_package_imports_neither_torch_nor_plugins():
    code = (
        "import sys, ganlosscore\n"
        "from ganlosscore import available_losses\n"
        "available_losses()\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('ganloss_')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- broken distributions and plugins that raise anything ---------------------------------


def write_raw_distribution(root, folder, metadata: bytes, entry_points: str):
    """A .dist-info folder written byte by byte, as a broken installer might leave it."""
    info = root / folder
    info.mkdir()
    (info / "METADATA").write_bytes(metadata)
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


def test_a_distribution_with_unreadable_metadata_is_skipped_and_reported_once(
    ganloss_distribution,
):
    root = ganloss_distribution("ganloss-good", **plugin("good_pkg", "GoodLoss"))
    losses = "[ganlosscore.losses]\nA = nowhere:A\n"
    write_raw_distribution(root, "nameless-1.0.dist-info", b"Metadata-Version: 2.1\n", losses)
    write_raw_distribution(
        root,
        "latin-1.0.dist-info",
        b"Metadata-Version: 2.1\nName: latin\nSummary: caf\xe9\n",
        losses,
    )
    write_raw_distribution(
        root, "noeq-1.0.dist-info", b"Name: noeq\nVersion: 1.0\n", "[ganlosscore.losses]\nC x:C\n"
    )
    # someone else's broken distribution, offering no plugin: skipped without a word
    write_raw_distribution(root, "other-1.0.dist-info", b"Summary: x\n", "[console_scripts]\nx\n")
    refresh()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = records_by_name()
        available_losses()  # the index is read once: no second warning
    assert records[("GoodLoss", "ganloss-good")].status == "ok"
    assert build_loss({"type": "GoodLoss", "data_info": {"pred": "p"}}).loss_name() == (
        "loss_goodloss"
    )
    messages = sorted(str(w.message) for w in caught if w.category is BrokenDistributionWarning)
    assert len(messages) == 3, messages
    nameless = f"(a distribution without a name in {root})"
    assert messages[0].startswith(f"skipped the distribution {nameless}: its METADATA has no Name")
    assert messages[1].startswith(
        f"skipped the distribution {nameless}: its METADATA is not UTF-8 text (Unicode"
    )
    assert messages[2].startswith(
        "skipped the distribution noeq: its entry_points.txt cannot be read ("
    )
    assert all(m.endswith("the rest works. Reinstall or remove it.") for m in messages)
    assert sorted(d.label for d in unreadable_distributions()) == [nameless, nameless, "noeq"]


class Boom(BaseException):
    """Not an Exception: what a careless plugin might raise."""


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("class Boom(BaseException): pass\nraise Boom('no')\n", "Boom: no"),
        ("raise GeneratorExit('bye')\n", "GeneratorExit: bye"),
        ("import sys\nsys.exit(3)\n", "SystemExit: the module called sys.exit(3) on import"),
    ],
)
def test_anything_a_plugin_raises_on_import_is_a_plugin_load_error(
    ganloss_distribution, source, shown
):
    ganloss_distribution(
        "ganloss-bad",
        losses={"BadLoss": "bad_pkg:BadLoss"},
        modules={"bad_pkg/__init__.py": source},
    )
    with pytest.raises(
        PluginLoadError,
        match=re.escape(f"of ganloss-bad: importing bad_pkg:BadLoss failed: {shown}."),
    ):
        build_loss({"type": "BadLoss"})
    assert records_by_name()[("BadLoss", "ganloss-bad")].status == "broken"


def test_a_keyboard_interrupt_on_import_is_not_swallowed(ganloss_distribution):
    ganloss_distribution(
        "ganloss-slow",
        losses={"SlowLoss": "slow_pkg:SlowLoss"},
        modules={"slow_pkg/__init__.py": "raise KeyboardInterrupt\n"},
    )
    with pytest.raises(KeyboardInterrupt):
        build_loss({"type": "SlowLoss"})


EXITING_INIT = """
import sys
from ganlosscore import LossModule

class ExitLoss(LossModule):
    default_loss_name = "loss_exit"
    def __init__(self, code=4, **kwargs):
        super().__init__(**kwargs)
        if code == "interrupt":
            raise KeyboardInterrupt
        sys.exit(code)

    def compute(self, pred):
        return pred.mean()
"""


def test_a_loss_init_that_exits_is_a_config_error_naming_the_distribution(ganloss_distribution):
    ganloss_distribution(
        "ganloss-exit",
        losses={"ExitLoss": "exit_pkg:ExitLoss"},
        modules={"exit_pkg/__init__.py": EXITING_INIT},
    )
    with pytest.raises(ConfigError) as info:
        build_loss({"type": "ExitLoss"}, where="disc[0]")
    assert str(info.value) == (
        "disc[0].ExitLoss: building ExitLoss (from ganloss-exit) failed with SystemExit: "
        "it called sys.exit(4)"
    )
    assert isinstance(info.value.__cause__, SystemExit)
    with pytest.raises(KeyboardInterrupt):
        build_loss({"type": "ExitLoss", "code": "interrupt"})


def test_a_hook_plugin_raising_a_base_exception_on_import_is_recorded_not_raised(
    ganloss_distribution,
):
    from ganlosscore.hooks import get_plugin_manager, hook_plugin_failures

    ganloss_distribution("ganloss-boomhooks", **hook_plugin(boom="raise GeneratorExit('bye')\n"))
    get_plugin_manager()
    assert hook_plugin_failures() == {"ganloss-boomhooks:boom": "GeneratorExit: bye"}

"""The hostile-input suite: configs and plugin distributions an attacker would try.

Run it with ``python scripts/hostile_suite.py`` (``--json`` for the figures
only, ``--verbose`` for one line per case). Every case is one hostile input
given to one entry point of the project (``load_config`` + ``build_aggregator``,
``collect_problems``, the ``ganloss`` command, ``build_loss``), and ends in one
of five outcomes:

* ``typed``: a :class:`~ganlosscore.GanLossError` (the command: exit status 1,
  a one-paragraph message, no traceback), with a message of bounded size;
* ``accepted``: a valid input accepted, with the value checked;
* ``untyped``: any other exception, a traceback, or an unbounded message;
* ``hang``: no answer within the case's time limit;
* ``wrong``: a hostile input accepted, or a valid one giving a wrong value.

The project promises ``untyped``, ``hang`` and ``wrong`` are all zero
(``docs/reliability.md`` shows the figures; ``tests/test_hostile_suite.py``
runs this script and compares). The cases run in this one process, each under
a ``SIGALRM`` time limit and the process under a 4 GiB address-space limit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

OUTCOMES = ("typed", "accepted", "untyped", "hang", "wrong")
#: Seconds a case may take before it counts as a hang.
TIME_LIMIT = 20
#: A message longer than this is not "bounded".
MESSAGE_LIMIT = 4000


class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` eats it."""


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: Any) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- the entry points ---------------------------------------------------------------------


def run_api(call: Callable[[], Any], check: Callable[[Any], bool] | None) -> tuple[str, str]:
    """The outcome of a library call: ``check`` judges an accepted result (None: must refuse)."""
    from ganlosscore import GanLossError

    try:
        with _time_limit(TIME_LIMIT):
            result = call()
    except _Hang:
        return "hang", f"no answer in {TIME_LIMIT} s"
    except GanLossError as exc:
        text = str(exc)
        if len(text) > MESSAGE_LIMIT:
            return "untyped", f"a message of {len(text):,} characters"
        return ("typed", text) if check is None else ("wrong", f"refused a valid input: {text}")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return "untyped", f"{type(exc).__name__}: {str(exc)[:200]}"
    if check is None:
        return "wrong", f"accepted: {str(result)[:200]}"
    return ("accepted", "") if check(result) else ("wrong", f"wrong value: {str(result)[:200]}")


def run_cli(argv: list[str], accept: bool = False, json_out: bool = False) -> tuple[str, str]:
    """The outcome of ``ganloss ARGV`` run in this process."""
    from ganlosscore.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with _time_limit(TIME_LIMIT), contextlib.redirect_stdout(out):
            with contextlib.redirect_stderr(err):
                status = main(argv)
    except _Hang:
        return "hang", f"no answer in {TIME_LIMIT} s"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return "untyped", f"{type(exc).__name__}: {str(exc)[:200]}"
    text = out.getvalue() + err.getvalue()
    if "Traceback" in text or len(text) > MESSAGE_LIMIT * 4:
        return "untyped", text[:200]
    if json_out:
        try:
            json.loads(out.getvalue())
        except ValueError:
            return "wrong", f"stdout is not JSON: {out.getvalue()[:200]!r}"
    if accept:
        return ("accepted", "") if status == 0 else ("wrong", f"exit {status}: {text[:200]}")
    if status == 1:
        return "typed", text.strip().splitlines()[-1][:200]
    return "wrong", f"exit {status}: {text[:200]}"


def run_process(argv: list[str], env: dict[str, str]) -> tuple[str, str]:
    """The outcome of ``python -m ganlosscore ARGV`` in a fresh process (terminal encodings)."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ganlosscore", *argv],
            capture_output=True,
            timeout=TIME_LIMIT * 3,
            env={**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        return "hang", f"no answer in {TIME_LIMIT * 3} s"
    text = (result.stdout + result.stderr).decode("ascii", "replace")
    if result.returncode != 1 or "Traceback" in text:
        return "untyped", f"exit {result.returncode}: {text[-200:]}"
    return "typed", text.strip().splitlines()[-1][:200]


# -- config files ---------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append(f"disc: [{{type: DiscShiftLoss, loss_weight: *a{levels - 1}}}]")
    return "\n".join(lines) + "\n"


SHIFT = '{"type": "DiscShiftLoss", "data_info": {"pred": "disc_pred_real"}'


def config_files(root: Path) -> list[tuple[str, Path, Callable[[dict[str, Any]], bool] | None]]:
    """``(name, path, check)``: each hostile (check None) or valid config file to try."""
    cases: list[tuple[str, Path, Callable[[dict[str, Any]], bool] | None]] = []

    def add(name: str, filename: str, text: str | bytes | None, check: Any = None) -> Path:
        path = root / name / filename
        path.parent.mkdir(parents=True)
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        elif isinstance(text, bytes):
            path.write_bytes(text)
        cases.append((name, path, check))
        return path

    add("yaml billion laughs (9 levels of 9 aliases)", "laughs.yaml", billion_laughs())
    add("yaml alias inside its own value", "loop.yaml", "disc: &a [*a]\n")
    add(
        "yaml tag that would run code",
        "tag.yaml",
        'disc: !!python/object/apply:os.system ["true"]\n',
    )
    fifo = root / "fifo" / "gan.toml"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    cases.append(("a FIFO named gan.toml", fifo, None))
    for device, suffix in (("/dev/zero", ".json"), ("/dev/urandom", ".yaml")):
        link = root / f"link{device.replace('/', '-')}" / f"gan{suffix}"
        link.parent.mkdir()
        link.symlink_to(device)
        cases.append((f"a link to {device} named gan{suffix}", link, None))
    add("a directory named gan.toml", "gan.toml", None).mkdir()
    cases.append(("a file that does not exist", root / "missing" / "gan.json", None))
    add("a 2 MiB file", "big.json", '{"disc": []}' + " " * (2 << 20))
    add("text that is not UTF-8", "latin.toml", b'disc = [{type = "caf\xe9"}]\n')
    add("UTF-16 text", "wide.json", '{"disc": []}'.encode("utf-16"))
    add("an empty file", "empty.toml", "")
    add("a top level that is a list", "list.json", f"[{SHIFT}}}]")
    add("JSON nested 100,000 levels deep", "deep.json", "[" * 100_000 + "]" * 100_000)
    for suffix, template in (
        (".json", '{{"disc": [{{"type": "DiscShiftLoss", "loss_weight": {}}}]}}'),
        (".toml", 'disc = [{{type = "DiscShiftLoss", loss_weight = {}}}]'),
        (".yaml", "disc: [{{type: DiscShiftLoss, loss_weight: {}}}]"),
    ):
        add(f"an integer of 5,000 digits ({suffix})", f"long{suffix}", template.format("1" * 5000))
    bad_values = {
        "loss_weight = 10**400": '"loss_weight": 1' + "0" * 400,
        "loss_weight = 1e400 (infinity)": '"loss_weight": 1e400',
        "loss_weight = NaN": '"loss_weight": NaN',
        "loss_weight = true": '"loss_weight": true',
        "loss_weight = 'heavy'": '"loss_weight": "heavy"',
        "interval = 0": '"interval": 0',
        "interval = 2.5": '"interval": 2.5',
        "a lone surrogate as a key": '"\\ud800": 1',
        "a key of 500,000 characters": '"' + "k" * 500_000 + '": 1',
        "loss_name without loss_": '"loss_name": "shift"',
    }
    for name, entry in bad_values.items():
        add(name, "gan.json", f'{{"disc": [{SHIFT}, {entry}}}]}}')
    add("yaml loss_weight = .inf", "inf.yaml", "disc: [{type: DiscShiftLoss, loss_weight: .inf}]\n")
    add(
        "toml loss_weight = nan", "nan.toml", 'disc = [{type = "DiscShiftLoss", loss_weight = nan}]'
    )
    types = {
        "type = 'os:system'": '"os:system"',
        "type = 'ganlosscore.config:load_config'": '"ganlosscore.config:load_config"',
        "type = a list": '["DiscShiftLoss"]',
        "type = 'DiscShiftLos' (a typo)": '"DiscShiftLos"',
    }
    for name, value in types.items():
        add(name, "gan.json", f'{{"disc": [{{"type": {value}}}]}}')
    add(
        "data_info pointing at a number",
        "gan.json",
        '{"disc": [{"type": "DiscShiftLoss", "data_info": {"pred": 3}}]}',
    )
    add(
        "data_info naming an unknown input",
        "gan.json",
        '{"disc": [{"type": "DiscShiftLoss", "data_info": {"pred": "p", "x": "y"}}]}',
    )

    def weight_half(config: dict[str, Any]) -> bool:
        return config["disc"][0]["loss_weight"] == 0.5

    add(
        "valid: a JSON config",
        "ok.json",
        f'{{"disc": [{SHIFT}, "loss_weight": 0.5}}]}}',
        weight_half,
    )
    valid = f'"disc": [{SHIFT}, "loss_weight": 0.5}}]'
    key = '"' + "k" * 500_000 + '": 1'
    add(
        "valid: beside the losses, a key of 500,000 characters",
        "key.json",
        f"{{{key}, {valid}}}",
        weight_half,
    )
    many = ", ".join(f'"setting{i}": {i}' for i in range(10_000))
    add(
        "valid: beside the losses, 10,000 settings",
        "many.json",
        f"{{{many}, {valid}}}",
        weight_half,
    )
    add(
        "valid: YAML aliases within the limit",
        "ok.yaml",
        "info: &i {pred: disc_pred_real}\n"
        "disc: [{type: DiscShiftLoss, loss_weight: 0.5, data_info: *i}]\n",
        weight_half,
    )
    return cases


def config_cases(root: Path) -> Iterator[tuple[str, str, str, str]]:
    """``(group, case, outcome, detail)`` for every config file through every entry point."""
    from ganlosscore import build_aggregator, load_config
    from ganlosscore.config import collect_problems

    for name, path, check in config_files(root):

        def built(path: Path = path) -> Any:
            config = load_config(path)
            if "disc" not in config:
                return config
            aggregator = build_aggregator(config["disc"], name="disc")
            return {"disc": [{"loss_weight": loss.loss_weight} for loss in aggregator.losses]}

        def problems(path: Path = path) -> Any:
            found = collect_problems(load_config(path))
            if found:
                raise found[0]
            return load_config(path)

        yield ("config", f"{name}: load_config + build_aggregator", *run_api(built, check))
        yield ("config", f"{name}: collect_problems", *run_api(problems, check))
        yield (
            "config",
            f"{name}: ganloss check",
            *run_cli(["check", str(path)], check is not None),
        )
        if "surrogate" in name:
            for encoding in ("ascii", "utf-8"):
                outcome = run_process(["check", str(path)], {"PYTHONIOENCODING": encoding})
                yield ("config", f"{name}: ganloss check, {encoding} terminal", *outcome)


# -- plugin distributions ----------------------------------------------------------------------

LOSS = """
from ganlosscore import LossModule

class {name}(LossModule):
    default_loss_name = "loss_{lower}"

    def __init__(self, mode="ok", **kwargs):
        super().__init__(**kwargs)
        {init}

    def compute(self, pred):
        return pred.mean()
"""


def loss_source(name: str, init: str = "pass", prelude: str = "") -> str:
    return prelude + textwrap.dedent(LOSS).format(name=name, lower=name.lower(), init=init)


def plugin_cases(root: Path) -> Iterator[tuple[str, str, str, str]]:
    """Broken and hostile plugin distributions, each beside a good one."""
    from ganlosscore import build_aggregator, build_loss
    from ganlosscore.registry import available_losses, refresh
    from ganlosscore.testing import temporary_distribution

    good = {
        "losses": {"GoodLoss": "good_pkg:GoodLoss"},
        "modules": {"good_pkg/__init__.py": loss_source("GoodLoss")},
    }

    def each_installed(
        prefix: str, distribution: str, cases: dict[str, dict[str, str]], **kwargs: Any
    ) -> Iterator[str]:
        """Install ``distribution`` once per case, with the case's modules: its name, while in."""
        for index, (name, modules) in enumerate(cases.items()):
            folder = root / f"{prefix}{index}"
            with temporary_distribution(folder, distribution, modules=modules, **kwargs):
                yield name

    def good_still_works() -> Any:
        names = {r.name for r in available_losses()}
        loss = build_loss({"type": "GoodLoss", "data_info": {"pred": "p"}})
        return "GoodLoss" in names and loss.loss_name() == "loss_goodloss"

    def aggregate_good() -> Any:
        import torch

        aggregator = build_aggregator([{"type": "GoodLoss", "data_info": {"pred": "p"}}])
        return aggregator({"p": torch.ones(2)})

    def is_true(value: Any) -> bool:
        return value is True

    raw = {
        "a .dist-info with no Name:": (
            b"Metadata-Version: 2.1\nVersion: 1\n",
            "[ganlosscore.losses]\nA = a:A\n",
        ),
        "a METADATA that is not UTF-8": (
            b"Name: latin\nSummary: caf\xe9\n",
            "[ganlosscore.losses]\nB = b:B\n",
        ),
        "an entry_points.txt line without '='": (
            b"Name: noeq\nVersion: 1\n",
            "[ganlosscore.losses]\nC c:C\n",
        ),
    }
    for index, (name, (metadata, entry_points)) in enumerate(raw.items()):
        with temporary_distribution(root / f"raw{index}", "ganloss-good", **good) as where:
            info = where / f"broken{index}-1.0.dist-info"
            info.mkdir()
            (info / "METADATA").write_bytes(metadata)
            (info / "entry_points.txt").write_text(entry_points)
            refresh()
            with _quiet_warnings():
                yield (
                    "plugins",
                    f"{name}: the other losses list and build",
                    *run_api(good_still_works, is_true),
                )
                yield ("plugins", f"{name}: ganloss list", *run_cli(["list"], accept=True))
                yield ("plugins", f"{name}: ganloss plugins exits 1", *run_cli(["plugins"]))

    raising = {
        "a plugin calling sys.exit() on import": "import sys\nsys.exit(2)\n",
        "a plugin raising a BaseException on import": "class Boom(BaseException): ...\nraise Boom",
        "a plugin raising ImportError on import": "import no_such_module_anywhere\n",
        "a plugin whose target is not a class": "GoodLoss = 42\n",
    }
    raising_modules = {name: {"bad_pkg/__init__.py": src} for name, src in raising.items()}
    bad_losses = {"GoodLoss": "bad_pkg:GoodLoss"}
    for name in each_installed("raising", "ganloss-bad", raising_modules, losses=bad_losses):
        yield (
            "plugins",
            f"{name}: build_loss",
            *run_api(lambda: build_loss({"type": "GoodLoss"}), None),
        )
        yield ("plugins", f"{name}: ganloss list --check", *run_cli(["list", "--check"]))

    inits = {
        "a loss __init__ calling sys.exit()": "import sys; sys.exit(3)",
        "a loss __init__ raising a BaseException": "raise GeneratorExit('bye')",
        "a loss __init__ raising ValueError": "raise ValueError('no')",
    }
    init_modules = {
        name: {"init_pkg/__init__.py": loss_source("InitLoss", init)}
        for name, init in inits.items()
    }
    init_losses = {"InitLoss": "init_pkg:InitLoss"}
    for name in each_installed("init", "ganloss-init", init_modules, losses=init_losses):
        yield (
            "plugins",
            f"{name}: build_loss",
            *run_api(lambda: build_loss({"type": "InitLoss"}), None),
        )
        yield (
            "plugins",
            f"{name}: build_aggregator",
            *run_api(
                lambda: build_aggregator([{"type": "InitLoss", "data_info": {"pred": "p"}}]),
                None,
            ),
        )

    commands = {
        "command registration calling sys.exit()": "raise SystemExit(5)",
        "command registration raising a BaseException": "raise GeneratorExit()",
    }
    command_modules = {
        name: {
            "cmd_hooks.py": "from ganlosscore import hookimpl\n\n"
            f"@hookimpl\ndef ganloss_register_commands(cli):\n    {body}\n"
        }
        for name, body in commands.items()
    }
    cmd_hooks = {"cmd": "cmd_hooks"}
    for name in each_installed("cmd", "ganloss-cmd", command_modules, hooks=cmd_hooks):
        yield ("plugins", f"{name}: ganloss --help", *run_cli(["--help"], accept=True))
        yield (
            "plugins",
            f"{name}: ganloss plugins --json",
            *run_cli(["plugins", "--json"], accept=True, json_out=True),
        )

    hook_imports = {
        "a hook plugin calling sys.exit() on import": "import sys\nsys.exit(4)\n",
        "a hook plugin raising a BaseException on import": "raise GeneratorExit('bye')\n",
    }
    hook_modules = {name: {"exit_hooks.py": src} for name, src in hook_imports.items()}
    exit_hooks = {"x": "exit_hooks"}
    hook_plugins = each_installed("hookimport", "ganloss-exithooks", hook_modules, hooks=exit_hooks)
    for index, name in enumerate(hook_plugins):
        with temporary_distribution(root / f"hookgood{index}", "ganloss-good", **good):
            yield ("plugins", f"{name}: aggregating", *run_api(aggregate_good, None))
        yield ("plugins", f"{name}: ganloss --help", *run_cli(["--help"], accept=True))
        yield ("plugins", f"{name}: ganloss plugins exits 1", *run_cli(["plugins"]))

    loud = loss_source("LoudLoss", prelude="print('hello from the import')\n")
    with temporary_distribution(
        root / "loud",
        "ganloss-loud",
        losses={"LoudLoss": "loud_pkg:LoudLoss"},
        modules={"loud_pkg/__init__.py": loud},
    ):
        # only this plugin: `list --check` imports every selected one, and a half-edited
        # plugin of this checkout would make the command exit 1 for its own reasons
        os.environ["GANLOSS_PLUGINS"] = "ganloss-loud"
        for argv in (["list", "--check", "--json"], ["info", "LoudLoss", "--json"]):
            yield (
                "plugins",
                f"a plugin printing on import: ganloss {' '.join(argv)}",
                *run_cli(argv, accept=True, json_out=True),
            )
        del os.environ["GANLOSS_PLUGINS"]


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# -- the run ---------------------------------------------------------------------------------


def run_suite() -> list[tuple[str, str, str, str]]:
    """Every case's ``(group, case, outcome, detail)``."""
    for variable in ("GANLOSS_PLUGINS", "GANLOSS_DISABLE_PLUGINS", "GANLOSS_STRICT_PLUGINS"):
        os.environ.pop(variable, None)
    with tempfile.TemporaryDirectory(prefix="ganloss-hostile-") as tmp:
        root = Path(tmp)
        (root / "configs").mkdir()
        (root / "plugins").mkdir()
        return [*config_cases(root / "configs"), *plugin_cases(root / "plugins")]


def summary(results: list[tuple[str, str, str, str]]) -> dict[str, int]:
    counts = Counter(outcome for _, _, outcome, _ in results)
    return {"cases": len(results), **{outcome: counts[outcome] for outcome in OUTCOMES}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="one line per case")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # case details may hold a lone surrogate
        sys.stdout.reconfigure(errors="backslashreplace")
    limit = 4 << 30  # a runaway expansion ends in MemoryError, not in the machine's OOM killer
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    results = run_suite()
    figures = summary(results)
    if args.verbose:
        for group, case, outcome, detail in results:
            print(f"{outcome:<9} {group:<8} {case}" + (f"  -- {detail}" if detail else ""))
    if args.json:
        print(json.dumps(figures))
    else:
        print(", ".join(f"{key} {value}" for key, value in figures.items()))
        for group, case, outcome, detail in results:
            if outcome in ("untyped", "hang", "wrong"):
                print(f"FAILED {outcome}: {group}: {case}: {detail}")
    return 0 if figures["untyped"] == figures["hang"] == figures["wrong"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

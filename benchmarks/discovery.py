"""2. Discovery: ``ganloss list`` and building one loss, with 50 installed plugin distributions.

Fifty synthetic distributions of five losses each (one module per loss,
declaring loss protocol 1) are written as real ``.dist-info`` directories
with ``ganlosscore.testing.install_distribution`` into a temporary folder
put on ``PYTHONPATH``, beside whatever the environment already holds.

* Wall time of ``ganloss list`` (the installed console script) in a fresh
  process, against ``python -c pass`` and ``python -c "import torch"``, and
  against ``ganloss list`` without the fifty distributions; the four
  commands interleaved in a shuffled order, every round.
* The modules ``ganloss list`` imports: neither torch nor any plugin module
  may be among them.
* Building one loss by name in a process that has already imported torch
  and ganlosscore: the first build (which reads the entry-point index) and a
  later one (index in memory), against importing the same kind of module
  directly and constructing its class; and the modules the build imports,
  which must be the loss's own module (and its package) only.

Run: ``python benchmarks/discovery.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h

LOSS_SOURCE = '''\
from ganlosscore import LossModule


class {cls}(LossModule):
    """A synthetic loss: the mean of its input."""

    default_loss_name = "loss_{name}"

    def compute(self, pred):
        return pred.mean()
'''

PLUGIN_PREFIX = "bench_plugin_"

# Runs `ganloss list` as the console script does, and reports what it imported.
PROBE_LIST = r"""
import contextlib, io, sys
before = set(sys.modules)
from ganlosscore.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(["list"])
imported = sorted(set(sys.modules) - before)
import json
from ganlosscore import available_losses
packages = sorted({r.target.split(":")[0].split(".")[0] for r in available_losses()})
print(json.dumps({"status": status, "imported": imported, "plugin_packages": packages,
                  "output": out.getvalue()}))
"""

# Times build_loss (first and later) and a direct import, in one process.
PROBE_BUILD = r"""
import importlib, json, sys, time
import torch
from ganlosscore import LossModule, build_loss  # the core, warm: only discovery is timed
first, later, direct, direct_first = sys.argv[1:5]

def timed(fn):
    before = set(sys.modules)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, sorted(set(sys.modules) - before)

def by_name(name):
    return lambda: build_loss({"type": name})

def by_import(target):
    module, _, cls = target.partition(":")
    return lambda: getattr(importlib.import_module(module), cls)()

result = {"first": timed(by_name(first))}
if direct_first == "1":
    result["direct"] = timed(by_import(direct))
    result["later"] = timed(by_name(later))
else:
    result["later"] = timed(by_name(later))
    result["direct"] = timed(by_import(direct))
print(json.dumps(result))
"""


def install(root: Path, count: int, per: int) -> dict[str, str]:
    """Write ``count`` distributions of ``per`` losses; return loss name -> target."""
    from ganlosscore import PROTOCOL_VERSION
    from ganlosscore.testing import install_distribution

    targets: dict[str, str] = {}
    for i in range(count):
        package = f"{PLUGIN_PREFIX}{i:02d}"
        modules = {f"{package}/__init__.py": ""}
        losses = {}
        for j in range(per):
            cls = f"BenchLoss{i:02d}x{j}"
            modules[f"{package}/loss_{j}.py"] = LOSS_SOURCE.format(cls=cls, name=cls.lower())
            losses[cls] = targets[cls] = f"{package}.loss_{j}:{cls}"
        install_distribution(
            root,
            f"bench-plugin-{i:02d}",
            losses=losses,
            modules=modules,
            protocol=PROTOCOL_VERSION,
        )
    return targets


def ganloss_command() -> list[str]:
    """The console script pip installed, as a user runs it (not a shell shim)."""
    script = Path(sysconfig.get_path("scripts")) / "ganloss"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ganlosscore.cli"]


def environment(extra_path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if extra_path is not None:
        parts.insert(0, str(extra_path))
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True)


def time_commands(
    commands: dict[str, tuple[list[str], dict[str, str]]], rounds: int, seed: int
) -> h.Timings:
    timings = h.Timings(list(commands))
    rng = random.Random(seed)
    for round_index in range(rounds + 1):  # the first round warms the file cache
        order = list(commands)
        rng.shuffle(order)
        for name in order:
            command, env = commands[name]
            start = time.perf_counter()
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
            if round_index:
                timings.per_round[name].append(time.perf_counter() - start)
    return timings


def plugin_modules(modules: list[str], packages: list[str]) -> list[str]:
    tops = set(packages) | {PLUGIN_PREFIX}
    return [m for m in modules if m.split(".")[0] in tops or m.startswith(PLUGIN_PREFIX)]


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--distributions", type=int, default=None, help="synthetic distributions (50)")
    args = p.parse_args()
    count = args.distributions or (3 if args.quick else 50)
    per = 5
    rounds = args.rounds or (1 if args.quick else 15)
    build_rounds = 1 if args.quick else 10
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="ganloss-bench-") as tmp:
        root = Path(tmp)
        targets = install(root, count, per)
        with_plugins, without = environment(root), environment(None)
        ganloss = ganloss_command()

        listing = json.loads(run([sys.executable, "-c", PROBE_LIST], with_plugins).stdout)
        listed = re.search(r"^(\d+) losses", listing["output"], re.MULTILINE)
        synthetic = listing["output"].count("bench-plugin-")
        imported: list[str] = listing["imported"]
        torch_imported = [m for m in imported if m == "torch" or m.startswith("torch.")]
        plugins_imported = plugin_modules(imported, listing["plugin_packages"])

        timings = time_commands(
            {
                "python -c pass": ([sys.executable, "-c", "pass"], with_plugins),
                'python -c "import torch"': ([sys.executable, "-c", "import torch"], with_plugins),
                f"ganloss list ({count} distributions)": ([*ganloss, "list"], with_plugins),
                "ganloss list (no synthetic distributions)": ([*ganloss, "list"], without),
            },
            rounds,
            args.seed,
        )

        builds: list[dict[str, Any]] = []
        names = list(targets)
        for b in range(build_rounds):
            first, later, direct = rng.sample(names, 3)
            out = run(
                [sys.executable, "-c", PROBE_BUILD, first, later, targets[direct], str(b % 2)],
                with_plugins,
            )
            result = json.loads(out.stdout)
            result["names"] = (first, later, direct)
            builds.append(result)

    ours = f"ganloss list ({count} distributions)"
    list_time = timings.spread(ours)
    rows = [
        [
            name,
            timings.spread(name).fmt(h.fmt_seconds),
            timings.ratio(name, "python -c pass").fmt(h.fmt_ratio),
            timings.ratio(name, 'python -c "import torch"').fmt(h.fmt_ratio),
        ]
        for name in timings.per_round
    ]

    def own_modules_only(result: dict[str, Any], key: str, name: str) -> bool:
        package, module = targets[name].split(":")[0].split(".")
        new = plugin_modules(result[key][1], [])
        return sorted(new) == sorted({package, f"{package}.{module}"})

    only_own = all(
        own_modules_only(r, "first", r["names"][0]) and own_modules_only(r, "later", r["names"][1])
        for r in builds
    )
    other_first = sorted(
        {m for r in builds for m in r["first"][1] if not m.startswith(PLUGIN_PREFIX)}
    )
    first_t = h.Spread.of([r["first"][0] for r in builds])
    later_t = h.Spread.of([r["later"][0] for r in builds])
    direct_t = h.Spread.of([r["direct"][0] for r in builds])
    first_ratio = h.Spread.of([r["first"][0] / r["direct"][0] for r in builds])
    later_ratio = h.Spread.of([r["later"][0] / r["direct"][0] for r in builds])

    print(
        h.header(
            "2. Discovery",
            h.command_line("discovery.py"),
            [
                f"{count} synthetic distributions x {per} losses on PYTHONPATH, besides the "
                f"environment's own; `ganloss` is `{' '.join(ganloss)}`. {rounds} rounds, each "
                "running every command once in a fresh process, in a shuffled order; wall "
                "time, median [interquartile range]; ratios taken within a round.",
            ],
        )
    )
    print("\n### `ganloss list`\n")
    print(
        h.table(["command", "wall time", "ratio to python -c pass", "ratio to import torch"], rows)
    )
    top_level = sorted({m.split(".")[0] for m in imported})
    print(
        f"\n`ganloss list` listed {listed.group(1) if listed else '?'} losses "
        f"({synthetic} synthetic) and imported {len(imported)} modules beyond interpreter "
        f"start-up, from {len(top_level)} top-level packages: {', '.join(top_level)}. "
        f"torch modules: {len(torch_imported)}; plugin modules: {len(plugins_imported)}."
    )
    print(f"\n### Building one loss by name ({len(builds)} fresh processes)\n")
    print(
        h.table(
            ["step", "time", "ratio to direct import"],
            [
                [
                    "first `build_loss` (reads the index, imports the module)",
                    first_t.fmt(h.fmt_seconds),
                    first_ratio.fmt(h.fmt_ratio),
                ],
                [
                    "later `build_loss` (index in memory)",
                    later_t.fmt(h.fmt_seconds),
                    later_ratio.fmt(h.fmt_ratio),
                ],
                [
                    "direct `import_module` + construct (baseline)",
                    direct_t.fmt(h.fmt_seconds),
                    "1.000",
                ],
            ],
        )
    )
    print(
        f"\nPlugin modules a build imported: only the loss's own module and its package "
        f"in every build: {'yes' if only_own else '**no**'}. Other modules the first build "
        f"imported: {', '.join(other_first) or 'none'}."
    )
    print(
        h.targets(
            [
                [
                    f"`ganloss list`, {count} distributions",
                    list_time.fmt(h.fmt_seconds),
                    "<= 0.3 s",
                    list_time.median <= 0.3,
                ],
                [
                    "torch imported by `ganloss list`",
                    "yes" if torch_imported else "no",
                    "no",
                    not torch_imported,
                ],
                [
                    "plugin modules imported by `ganloss list`",
                    str(len(plugins_imported)),
                    "0",
                    not plugins_imported,
                ],
                [
                    "a build imports only its own module",
                    "yes" if only_own else "no",
                    "yes",
                    only_own,
                ],
            ],
        )
    )
    h.write_json(
        args.json,
        {"timings": timings.as_json(), "imported": imported, "builds": builds},
    )


if __name__ == "__main__":
    main()

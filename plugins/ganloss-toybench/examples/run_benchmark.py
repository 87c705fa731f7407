"""Run the toybench over loss configurations, datasets and seeds; print a Markdown table.

Datasets: ring and grid by default; ``--datasets stacked-digits`` (or
``digits``) adds the digits, whose rows also give the Fréchet distance.

Each run is one ``ganloss toybench`` process (timed from the outside, process
start included); ``--jobs`` runs that many at once (each uses one thread,
the default). The table gives, per configuration and dataset, the median over
seeds and every seed's value. ``--report-only`` rebuilds the table from the
result files of an earlier run.

    python plugins/ganloss-toybench/examples/run_benchmark.py --jobs 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
#: name -> config file (None: the embedded default, NS + R1)
CONFIGS: dict[str, Path | None] = {
    "ns-r1 (default)": None,
    "ns": HERE / "ns.toml",
    "hinge": HERE / "hinge.toml",
    "hinge-r1": HERE / "hinge-r1.toml",
    "lsgan": HERE / "lsgan.toml",
    "lsgan-r1": HERE / "lsgan-r1.toml",
    "wgan-gp": HERE / "wgan-gp.toml",
    "rpgan": HERE / "rpgan.toml",
    "r3gan": HERE / "r3gan.toml",
    # conditional (labels are the mode indices; the configs set conditional = true)
    "conditional-ac": HERE / "conditional-ac.toml",
    "conditional-tac": HERE / "conditional-tac.toml",
    "conditional-adc": HERE / "conditional-adc.toml",
    "conditional-2c": HERE / "conditional-2c.toml",
    "conditional-d2d-ce": HERE / "conditional-d2d-ce.toml",
    "conditional-mh": HERE / "conditional-mh.toml",
}


def slug(name: str) -> str:
    return name.split(" ")[0]


def run_one(name: str, dataset: str, seed: int, out: Path) -> float:
    command = [sys.executable, "-m", "ganlosscore.cli", "toybench", "--dataset", dataset]
    command += ["--seed", str(seed), "--out", str(out / slug(name)), "--quiet"]
    if CONFIGS[name] is not None:
        command += ["--config", str(CONFIGS[name])]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"{name} {dataset} seed {seed} failed:\n{proc.stderr}", file=sys.stderr)
        return seconds
    path = out / slug(name) / f"{dataset}-seed{seed}.json"
    record = json.loads(path.read_text())
    record["process_seconds"] = round(seconds, 2)
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"  {name:16} {dataset} seed {seed}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def table(out: Path, datasets: list[str], seeds: list[int]) -> str:
    lines = [
        "| losses | dataset | modes (median; seeds) | % high quality (median; seeds) "
        "| reverse KL (median) | Fréchet distance (median) "
        "| % of HQ samples at their label's mode (median; seeds) | seconds per run (median; max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in CONFIGS:
        for dataset in datasets:
            records = []
            for seed in seeds:
                path = out / slug(name) / f"{dataset}-seed{seed}.json"
                if path.exists():
                    records.append(json.loads(path.read_text()))
            if not records:
                continue
            modes = [r["metrics"]["modes"] for r in records]
            hq = [100 * r["metrics"]["high_quality"] for r in records]
            kls = [r["metrics"]["reverse_kl"] for r in records]
            kl = [k for k in kls if k is not None]
            secs = [r.get("process_seconds", r["wall_seconds"]) for r in records]
            total = records[0]["metrics"]["num_modes"]
            kl_text = f"{statistics.median(kl):.4f}" if kl else "-"
            fds = [
                r["metrics"]["frechet_distance"]
                for r in records
                if "frechet_distance" in r["metrics"]
            ]
            fd_text = f"{statistics.median(fds):.1f}" if fds else "-"
            at_label = [
                100 * r["label_metrics"]["high_quality_at_label"]
                for r in records
                if r.get("label_metrics", {}).get("high_quality_at_label") is not None
            ]
            label_text = (
                f"{statistics.median(at_label):.1f}; {', '.join(f'{v:.1f}' for v in at_label)}"
                if at_label
                else "-"
            )
            lines.append(
                f"| {name} | {dataset} "
                f"| {statistics.median(modes):g} / {total}; {', '.join(map(str, modes))} "
                f"| {statistics.median(hq):.1f}; {', '.join(f'{v:.1f}' for v in hq)} "
                f"| {kl_text} | {fd_text} | {label_text} "
                f"| {statistics.median(secs):.1f}; {max(secs):.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(map(slug, CONFIGS)))
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("toybench-out/benchmark"))
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    names = [n for n in CONFIGS if slug(n) in args.configs]
    if not args.report_only:
        runs = [(n, d, s) for n in names for d in args.datasets for s in args.seeds]
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda r: run_one(*r, args.out), runs))
    print(table(args.out, args.datasets, args.seeds))


if __name__ == "__main__":
    main()

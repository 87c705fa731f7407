"""Run every benchmark, one after the other, and print (or write) their Markdown reports.

Run: ``python benchmarks/run_all.py`` (``--quick`` for a smoke run of each;
``--output FILE`` also writes the combined report there). Each script runs
in its own process, so none inherits another's imports, threads or plugins.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "aggregation.py",
    "discovery.py",
    "distributed.py",
    "regularizers.py",
    "scaling.py",
    "compile.py",
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="pass --quick to every script")
    p.add_argument("--only", nargs="+", choices=SCRIPTS, default=SCRIPTS, metavar="SCRIPT")
    p.add_argument("--output", type=Path, default=None, help="also write the report here")
    args = p.parse_args()

    reports = []
    failed = []
    for script in args.only:
        command = [sys.executable, str(HERE / script)] + (["--quick"] if args.quick else [])
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            failed.append(script)
            print(f"{script} failed ({result.returncode}):\n{result.stderr}", file=sys.stderr)
            continue
        print(result.stdout, flush=True)
        print(f"<!-- {script}: {elapsed:.0f} s -->\n", flush=True)
        reports.append(result.stdout)
    if args.output is not None:
        args.output.write_text("\n".join(reports), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

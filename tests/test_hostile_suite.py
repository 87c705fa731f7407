"""The hostile-input suite runs, finds nothing untyped, hung or wrong, and matches its docs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "scripts" / "hostile_suite.py"
#: The rows of the table in docs/reliability.md, by the suite's keys.
ROWS = {
    "cases": "cases tried",
    "typed": "typed errors",
    "accepted": "valid inputs accepted with the right value",
    "untyped": "untyped crashes",
    "hang": "hangs",
    "wrong": "silently wrong values",
}


def documented_figures() -> dict[str, int]:
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    return {
        key: int(
            re.search(rf"^\| {re.escape(row)} \| ([0-9,]+) \|$", page, re.M)[1].replace(",", "")
        )
        for key, row in ROWS.items()
    }


@pytest.mark.slow
@pytest.mark.skipif(not SUITE.exists(), reason="the suite is not part of an installed wheel")
def test_the_hostile_input_suite_finds_no_untyped_crash_hang_or_wrong_value():
    pytest.importorskip("yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANLOSS_")}
    result = subprocess.run(
        [sys.executable, str(SUITE), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["untyped"], figures["hang"], figures["wrong"]) == (0, 0, 0), result.stdout
    assert result.returncode == 0
    assert figures == documented_figures(), "update the table in docs/reliability.md"

"""Smoke tests of benchmarks/: each script runs with --quick and prints its report.

Nothing here asserts a timing (those live in benchmarks/README.md, measured
side by side); a benchmark that breaks, though, fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.skipif(
    not (BENCHMARKS / "_harness.py").is_file(),
    reason="benchmarks/ is not beside these tests",
)

# Discovery starts a dozen interpreters (one imports torch); distributed two gloo ranks.
SCRIPTS = [
    "aggregation.py",
    "regularizers.py",
    "scaling.py",
    pytest.param("discovery.py", marks=pytest.mark.slow),
    pytest.param("distributed.py", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_run_prints_its_tables(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("## "), out
    assert "\n|---|" in out, out
    assert "### Targets" in out, out


def test_run_all_runs_the_scripts_it_is_asked_for() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--only", "scaling.py"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "## 5. Scaling" in result.stdout

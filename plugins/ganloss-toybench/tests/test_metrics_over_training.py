"""examples/metrics_over_training.py: its KL split, and its last row is the command's result."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parents[1] / "examples" / "metrics_over_training.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("metrics_over_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_kl_of_independent_channels_is_their_own_imbalance(script):
    first = np.array([0.2] + [0.8 / 9] * 9)
    second = np.full(10, 0.1)
    counts = np.multiply.outer(first, second).reshape(-1) * 10_000
    own, dependence = script.split_kl(counts, 2)
    by_hand = 0.2 * math.log(2.0) + 0.8 * math.log(0.8 / 0.9)  # KL(first || uniform)
    assert own == pytest.approx(by_hand)
    assert dependence == pytest.approx(0.0, abs=1e-12)


def test_split_kl_of_three_copies_of_one_digit_is_all_dependence(script):
    counts = np.zeros(1000)
    counts[[111 * d for d in range(10)]] = 7  # (d, d, d): each channel uniform
    own, dependence = script.split_kl(counts, 3)
    assert own == pytest.approx(0.0, abs=1e-12)
    assert dependence == pytest.approx(math.log(100.0))  # 1/10 against 1/1000
    assert own + dependence == pytest.approx(math.log(1000 / 10))  # the reverse KL


def test_last_row_is_what_the_command_measures(tmp_path):
    steps = ["--dataset", "digits", "--steps", "12", "--seed", "3"]
    command = [sys.executable, "-m", "ganlosscore.cli", "toybench", *steps, "--quiet"]
    subprocess.run([*command, "--out", str(tmp_path)], check=True, capture_output=True)
    metrics = json.loads((tmp_path / "digits-seed3.json").read_text())["metrics"]
    printed = subprocess.run(
        [sys.executable, str(SCRIPT), *steps, "--every", "6"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [line.split("|")[1:-1] for line in printed.splitlines()[2:]]
    assert [int(row[0]) for row in rows] == [6, 12]
    _, modes, kl, own, dependence, high_quality = rows[-1]
    assert int(modes) == metrics["modes"]
    assert float(kl) == pytest.approx(metrics["reverse_kl"], abs=1e-4)
    assert float(own) == pytest.approx(metrics["reverse_kl"], abs=1e-4)  # one channel
    assert float(dependence) == 0.0
    assert float(high_quality) == pytest.approx(100 * metrics["high_quality"], abs=0.05)


def test_a_bad_option_ends_in_our_message():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--steps: must be an integer in [1, 1000000], got 0" in done.stderr
    assert "Traceback" not in done.stderr

"""Several processes: DistributedDataParallel on gloo, spawned or under torchrun."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ranks_stay_in_sync_and_log_the_same_values(tmp_path):
    import _toybench_ddp

    mp.spawn(_toybench_ddp.run, args=(2, free_port(), str(tmp_path)), nprocs=2)
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    # Each rank drew different samples, yet DDP averaged the gradients, so the
    # generators are identical; the aggregators averaged the logged values.
    for name, tensor in rank0["gen"].items():
        assert torch.equal(tensor, rank1["gen"][name]), name
    assert rank0["final"] == rank1["final"]
    assert set(rank0["final"]["disc"]) == {"loss_disc_adv", "loss_r1_gp", "loss"}


def test_nproc_2_command(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganlosscore.cli",
            "toybench",
            "--nproc",
            "2",
            "--steps",
            "30",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("modes captured") == 1  # only rank 0 reports
    record = json.loads((tmp_path / "ring-seed0.json").read_text())
    assert record["processes"] == 2 and record["steps"] == 30


def script(name: str) -> str | None:
    """The console script installed next to this interpreter (a venv's own, not PATH's first)."""
    return shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)


def test_torchrun_gives_the_spawned_result(tmp_path):
    torchrun, ganloss = script("torchrun"), script("ganloss")
    if torchrun is None or ganloss is None:
        pytest.skip("torchrun or the ganloss command is not installed")
    common = ["toybench", "--steps", "30", "--quiet"]
    spawned = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganlosscore.cli",
            *common,
            "--nproc",
            "2",
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
    )
    launched = subprocess.run(
        [
            torchrun,
            "--nproc-per-node",
            "2",
            "--master-port",
            str(free_port()),
            "--no-python",
            ganloss,
            *common,
            "--out",
            str(tmp_path / "t"),
        ],
        capture_output=True,
        text=True,
    )
    assert spawned.returncode == 0, spawned.stderr
    assert launched.returncode == 0, launched.stderr
    a = json.loads((tmp_path / "s" / "ring-seed0.json").read_text())
    b = json.loads((tmp_path / "t" / "ring-seed0.json").read_text())
    assert a["metrics"] == b["metrics"] and a["final_log_vars"] == b["final_log_vars"]


R1_ONLY = """
[[disc]]
type = "R1GradientPenalty"
data_info = { discriminator = "disc", real_data = "real_imgs" }
{interval}
[[gen]]
type = "GenAdversarialLoss"
gan_type = "ns"
data_info = { pred_fake = "disc_pred_fake_g" }
"""


def nproc_2(tmp_path, config_text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(config_text)
    # -W ignore reaches the spawned workers too: torch's own warnings are not ours
    command = [sys.executable, "-W", "ignore", "-m", "ganlosscore.cli", "toybench", "--nproc", "2"]
    command += ["--steps", "6", "--config", str(config), "--out", str(tmp_path), "--quiet"]
    return subprocess.run(command, capture_output=True, text=True)


def test_a_loss_list_that_misses_parameters_still_runs(tmp_path):
    # R1 alone never reaches D's last bias; DDP needs a gradient for every
    # parameter, which the zero-weighted output term provides.
    proc = nproc_2(tmp_path, R1_ONLY.replace("{interval}", ""))
    assert proc.returncode == 0, proc.stderr
    assert "loss_r1_gp" in proc.stdout


def test_an_error_in_the_processes_is_one_clean_message(tmp_path):
    # R1 every 4 iterations and nothing else: iteration 1 has nothing to back-propagate.
    proc = nproc_2(tmp_path, R1_ONLY.replace("{interval}", "interval = 4"))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ganloss: error: process ")
    assert "disc losses gave nothing to back-propagate at iteration 1" in proc.stderr

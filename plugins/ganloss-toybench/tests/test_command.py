"""`ganloss toybench` end to end, through the core's command line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from ganloss_toybench import default_config, resolve_settings
from ganloss_toybench.config import default_config_text
from ganloss_toybench.figure import replot

from ganlosscore.cli import main


def run(tmp_path: Path, *options: str) -> dict:
    assert main(["toybench", "--out", str(tmp_path), "--quiet", *options]) == 0
    dataset = options[options.index("--dataset") + 1] if "--dataset" in options else "ring"
    seed = options[options.index("--seed") + 1] if "--seed" in options else "0"
    return json.loads((tmp_path / f"{dataset}-seed{seed}.json").read_text())


def test_command_module_imports_no_torch():
    # The ganloss command loads hook plugins to build its parser; ours must stay light.
    code = (
        "import sys, ganloss_toybench, ganloss_toybench.commands; sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_listed_in_help(capsys):
    try:
        status = main(["--help"])
    except SystemExit as exc:  # argparse's own exit, depending on the core's parser setup
        status = exc.code
    assert status == 0
    assert "toybench  train a toy GAN" in capsys.readouterr().out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_short_run_end_to_end(tmp_path, capsys):
    record = run(tmp_path, "--steps", "400")
    out, err = capsys.readouterr()
    assert err == ""  # --quiet, and not a terminal anyway: no progress bar
    for line in ("modes captured", "high-quality samples", "reverse KL", "wrote"):
        assert line in out

    m = record["metrics"]
    # Consistency: the counts are the high-quality samples, the modes the non-zero counts.
    assert m["num_samples"] == 2500 and m["num_modes"] == 8 and len(m["counts"]) == 8
    assert sum(m["counts"]) == round(m["high_quality"] * 2500)
    assert m["modes"] == sum(c > 0 for c in m["counts"])
    p = [c / sum(m["counts"]) for c in m["counts"] if c]
    assert m["reverse_kl"] == pytest.approx(sum(q * math.log(8 * q) for q in p))
    # 400 steps already spread the samples over the ring (an untrained generator
    # puts them all near one point): a loose, deterministic check that it trains.
    assert m["modes"] >= 6 and m["high_quality"] > 0.05

    assert record["steps"] == 400 and record["processes"] == 1
    expected = default_config()
    expected["toybench"] = resolve_settings(expected["toybench"], {"steps": 400}).to_dict()
    assert record["config"] == expected  # the settings as run, the images table applied or not
    assert len(record["curves"]["step"]) == 200
    assert set(record["curves"]["disc"]) == {"loss_disc_adv", "loss_r1_gp", "loss"}
    assert len(record["curves"]["gen"]["loss"]) == 200
    assert "frechet_distance" not in m and "PacGAN" in record["published"]

    assert png_size(tmp_path / "ring-seed0.png") == (1100, 950)
    assert (tmp_path / "ring-seed0.pdf").read_bytes().startswith(b"%PDF-")
    with np.load(tmp_path / "ring-seed0.npz") as arrays:
        assert arrays["samples"].shape == arrays["real"].shape == (2500, 2)
        assert arrays["centres"].shape == (8, 2) and float(arrays["std"]) == 0.02
        # the figure's colours are the metrics' verdicts
        assert int(arrays["high_quality"].sum()) == sum(m["counts"])


def test_stacked_digits_end_to_end_and_replot(tmp_path, capsys):
    config = tmp_path / "short.json"
    short = {"steps": 6, "num_samples": 300}
    config.write_text(json.dumps({**default_config(), "toybench": {"images": short}}, default=str))
    record = run(tmp_path, "--config", str(config), "--dataset", "stacked-digits")
    out = capsys.readouterr().out
    assert "Fréchet distance" in out and "held-out real digits" in out
    m = record["metrics"]
    assert m["num_modes"] == 1000 and m["num_samples"] == 300 and len(m["counts"]) == 1000
    assert sum(m["counts"]) == 300  # every sample counts, read with confidence or not
    assert m["modes"] == sum(c > 0 for c in m["counts"]) and m["frechet_distance"] > 0
    assert record["classifier"]["held_out_accuracy"] >= 0.98
    real = record["real_held_out"]
    assert real["num_samples"] == 300 and real["high_quality"] > 0.8
    # the images table replaced the 2-D values, the config's own table replaced those
    settings = record["config"]["toybench"]
    assert (settings["steps"], settings["latent_dim"], settings["ema"]) == (6, 64, 0.999)
    assert "published" not in record

    stem = tmp_path / "stacked-digits-seed0"
    with np.load(stem.with_suffix(".npz")) as arrays:
        assert arrays["samples"].shape == (300, 3, 8, 8) and arrays["samples"].dtype == np.uint8
        assert np.bincount(arrays["modes"], minlength=1000).tolist() == m["counts"]
    before = stem.with_suffix(".png").stat().st_mtime_ns
    stem.with_suffix(".pdf").unlink()
    assert replot(stem.with_suffix(".json")) == [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    assert (
        stem.with_suffix(".pdf").exists() and stem.with_suffix(".png").stat().st_mtime_ns >= before
    )
    assert png_size(stem.with_suffix(".png")) == (1100, 950)


def test_same_seed_same_result(tmp_path):
    a = run(tmp_path / "a", "--dataset", "grid", "--steps", "150", "--seed", "3")
    b = run(tmp_path / "b", "--dataset", "grid", "--steps", "150", "--seed", "3")
    c = run(tmp_path / "c", "--dataset", "grid", "--steps", "150", "--seed", "4")
    for key in ("metrics", "final_log_vars", "curves"):
        assert a[key] == b[key]  # bitwise: the floats are equal, not close
    assert a["final_log_vars"] != c["final_log_vars"]
    assert a["metrics"]["num_modes"] == 25


def test_config_file_and_its_settings(tmp_path):
    config = tmp_path / "hinge.json"
    config.write_text(
        json.dumps(
            {
                "disc": [
                    {
                        "type": "DiscAdversarialLoss",
                        "gan_type": "hinge",
                        "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
                    }
                ],
                "gen": [
                    {
                        "type": "GenAdversarialLoss",
                        "gan_type": "hinge",
                        "data_info": {"pred_fake": "disc_pred_fake_g"},
                    }
                ],
                "toybench": {"steps": 20, "num_samples": 100, "disc_steps": 2},
            }
        )
    )
    record = run(tmp_path, "--config", str(config))
    assert record["metrics"]["num_samples"] == 100
    assert record["config"]["toybench"]["disc_steps"] == 2
    assert set(record["final_log_vars"]["disc"]) == {"loss_disc_adv", "loss"}
    # Provenance (issue 17.2): each aggregator names the distribution of every loss it held.
    provenance = record["provenance"]
    assert set(provenance) == {"disc", "gen"}
    for phase, loss_name in (("disc", "loss_disc_adv"), ("gen", "loss_gen_adv")):
        (origin,) = provenance[phase]["losses"]
        assert origin["loss_name"] == loss_name
        assert origin["distribution"] == "ganloss-adversarial"
        assert origin["version"] == version("ganloss-adversarial")
        assert provenance[phase]["aggregator"] == phase
        assert provenance[phase]["ganlosscore"] == record["versions"]["ganlosscore"]


BAD_CONFIG = """
[[disc]]
type = "DiscAdversarialLoss"
gan_type = "nss"
data_info = { pred_real = "disc_pred_real", pred_fake = "disc_pred_fake" }

[[gen]]
type = "GenAdversarialLoss"
gan_type = "ns"
data_info = { pred_fake = "disc_pred_fake_g" }
"""


def test_bad_config_is_one_clean_message(tmp_path):
    # Through the real command: a non-zero exit and one paragraph, no traceback.
    config = tmp_path / "bad.toml"
    config.write_text(BAD_CONFIG)
    proc = subprocess.run(
        # -W ignore: torch's own warnings (say, about a missing numpy) are not ours
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "ganlosscore.cli",
            "toybench",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"ganloss: error: {config}: disc[0].DiscAdversarialLoss.gan_type")
    assert "Did you mean 'ns'?" in proc.stderr
    assert not (tmp_path / "toybench-out").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("disc = []\ngen = []\n[toybench]\nstep = 5\n", "toybench.step: unknown setting 'step'"),
        ("disc = []\n", "no 'gen' loss list"),
        ("disc = [\n", "invalid TOML"),
    ],
)
def test_config_errors_exit_1(tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    assert main(["toybench", "--config", str(config), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ganloss: error: ") and message in err


def test_every_bad_setting_of_a_config_is_reported_at_once(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(
        default_config_text()
        .replace("steps = 12000", "steps = 0")
        .replace("threads = 1 ", "threads = 100000 ")
        .replace("data_info = { pred_real", "dat_info = { pred_real", 1)  # a loss-list problem too
    )
    assert main(["toybench", "--config", str(config), "--out", str(tmp_path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"ganloss: error: {config}: 3 problems in the toybench config:"
    # the file is named once, in front; each problem says where in it
    assert lines[1] == "  - toybench.steps: must be an integer in [1, 1000000], got 0"
    assert lines[2].startswith("  - toybench.threads: must be an integer in [1, ")
    assert lines[3].startswith("  - disc[0]") and "'dat_info'" in lines[3]
    assert len(lines) == 4
    assert not list(tmp_path.glob("*.json"))


def test_a_seed_too_large_for_torch_is_our_error(tmp_path, capsys):
    # torch.manual_seed(10**30) raises ValueError (Overflow when unpacking long long)
    assert main(["toybench", "--seed", str(10**30), "--out", str(tmp_path), "--quiet"]) == 1
    assert capsys.readouterr().err == (
        "ganloss: error: default config: --seed: must be an integer in [0, 9223372036854775807], "
        "got 1000000000000000000000000000000\n"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "is a directory, not a config file"),
        (lambda path: path.write_text(""), "is empty: a config file holds a mapping of loss lists"),
        (lambda path: path.write_bytes(b"\xff\xfe"), "is not UTF-8 text (byte 0xff at offset 0"),
    ],
)
def test_a_config_path_that_gives_no_mapping_is_one_paragraph(tmp_path, capsys, make, message):
    config = tmp_path / "gan.toml"
    make(config)
    assert main(["toybench", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ganloss: error: {config}: {message}")


def test_print_config(capsys):
    assert main(["toybench", "--print-config"]) == 0
    assert capsys.readouterr().out == default_config_text()


def test_an_unusable_out_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    # --out names a file: one clean message, and no training is started.
    import ganloss_toybench.runner as runner

    def no_training(*args, **kwargs):
        raise AssertionError("training started despite a bad --out")

    monkeypatch.setattr(runner, "run_toybench", no_training)
    taken = tmp_path / "a-file"
    taken.write_text("")
    assert main(["toybench", "--out", str(taken), "--steps", "5", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ganloss: error: --out: the output folder")
    assert "Traceback" not in err and err.count("\n") == 1


def test_nproc_is_capped_per_cpu_core(tmp_path, capsys, monkeypatch):
    import os

    from ganloss_toybench.runner import MAX_PROCS_PER_CPU

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    limit = 2 * MAX_PROCS_PER_CPU
    assert main(["toybench", "--nproc", str(limit + 1), "--out", str(tmp_path), "--quiet"]) == 1
    assert capsys.readouterr().err == (
        f"ganloss: error: --nproc: must be between 1 and {limit} "
        f"({MAX_PROCS_PER_CPU} processes per CPU core of this machine), got {limit + 1}\n"
    )
    assert not list(tmp_path.glob("*.json"))  # refused before any process was spawned
    out = tmp_path / "not-created"
    assert main(["toybench", "--nproc", str(limit + 1), "--out", str(out), "--quiet"]) == 1
    assert not out.exists()  # and before --out was created


def test_a_config_with_more_threads_than_this_machine_has_cpus_still_runs(tmp_path, monkeypatch):
    # Results are bit-for-bit reproducible for a given thread count, so a config written
    # on a larger machine (threads = 4) must run here too, only slower.
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    config = tmp_path / "four.toml"
    config.write_text(default_config_text().replace("threads = 1 ", "threads = 4 "))
    record = run(tmp_path, "--config", str(config), "--steps", "2")
    assert record["config"]["toybench"]["threads"] == 4


def test_a_batch_the_processes_cannot_share_is_refused_before_spawning(tmp_path, capsys):
    out = tmp_path / "out"
    # the default batch_size is 128: 3 processes cannot share it equally
    assert main(["toybench", "--nproc", "3", "--out", str(out), "--quiet"]) == 1
    assert capsys.readouterr().err.startswith(
        "ganloss: error: toybench.batch_size: batch_size 128 must be divisible by the number "
        "of processes (3)"
    )
    assert not out.exists()


def test_ranks_checking_the_out_folder_at_once_do_not_trip_over_each_other(tmp_path):
    # under torchrun every rank checks --out at the same moment; a shared probe file
    # made one rank's unlink fail ("No such file or directory")
    from concurrent.futures import ThreadPoolExecutor

    from ganloss_toybench.commands import _prepare_out_dir

    out = tmp_path / "shared"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _prepare_out_dir(out), range(400)))
    assert list(out.iterdir()) == []  # and leave nothing behind

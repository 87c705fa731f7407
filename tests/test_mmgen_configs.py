"""``ganloss check`` over every top-level config that MMGeneration 0.7.3 ships.

MMGeneration's files are never committed here. The configs are taken from
``GANLOSS_MMGEN_CONFIGS`` (the ``configs`` folder of an unpacked
``mmgen-0.7.3`` sdist), else from a cache that this test fills with ``pip
download mmgen==0.7.3`` (the sdist is a 1.5 MB download); the test is skipped
when neither is possible (no network). To prepare the folder by hand::

    pip download --no-deps --no-build-isolation mmgen==0.7.3 -d DIR
    tar xzf DIR/mmgen-0.7.3.tar.gz -C DIR
    export GANLOSS_MMGEN_CONFIGS=DIR/mmgen-0.7.3/mmgen/.mim/configs
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from ganlosscore import available_losses
from ganlosscore.cli import main
from ganlosscore.config import load_config
from ganlosscore.pyconfig import loss_sections

VERSION = "0.7.3"
CONFIGS_IN_SDIST = f"mmgen-{VERSION}/mmgen/.mim/configs"
#: The losses MMGeneration 0.7.3's configs name, from our packages.
NEEDED = {"GANLoss", "L1Loss", "DiscShiftLoss", "GradientPenaltyLoss", "R1GradientPenalty",
          "GeneratorPathRegularizer", "DDPMMSELoss", "DDPMVLBLoss", "MSELoss"}  # fmt: skip

#: Six StyleGAN3 configs (weights converted from the official release) name a
#: ``_base_`` that MMGeneration 0.7.3 does not ship; MMCV cannot read them either.
MISSING_BASE = "styleganv3/stylegan3_base.py: cannot read the config file: No such file"

pytestmark = pytest.mark.slow


def _cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "ganlosscore-tests" / f"mmgen-{VERSION}"


def _download(target: Path) -> Path | None:
    """MMGeneration's configs unpacked under ``target``, or None without a network."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "--no-build-isolation", f"mmgen=={VERSION}", "-d", scratch],
                capture_output=True, timeout=180, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return None
        sdist = Path(scratch) / f"mmgen-{VERSION}.tar.gz"
        if done.returncode != 0 or not sdist.is_file():
            return None
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(CONFIGS_IN_SDIST)]
            if hasattr(tarfile, "data_filter"):  # refuses links and paths outside target
                archive.extractall(target, members=members, filter="data")
            else:  # pragma: no cover - Python before 3.10.12
                archive.extractall(target, members=members)
    return target / CONFIGS_IN_SDIST


@pytest.fixture(scope="module")
def mmgen_configs() -> Path:
    given = os.environ.get("GANLOSS_MMGEN_CONFIGS")
    if given:
        return Path(given)
    cached = _cache() / CONFIGS_IN_SDIST
    if cached.is_dir() or _download(_cache()) is not None:
        return cached
    pytest.skip(f"MMGeneration {VERSION}'s sdist cannot be downloaded (no network?)")


def test_every_mmgeneration_config_is_read_and_its_losses_build(mmgen_configs, capsys):
    missing = NEEDED - {record.name for record in available_losses()}
    if missing:
        pytest.skip(f"needs the loss packages that offer {', '.join(sorted(missing))}")
    files = sorted(
        p for p in mmgen_configs.rglob("*.py") if "_base_" not in p.relative_to(mmgen_configs).parts
    )
    assert len(files) == 97
    read, sections, failures = 0, 0, {}
    for path in files:
        name = str(path.relative_to(mmgen_configs))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = main(["check", str(path)])
        if status == 0:
            read += 1
            assert out.getvalue().startswith(f"{path}: ok, model."), out.getvalue()
            sections += len(loss_sections(load_config(path)))
        else:
            failures[name] = out.getvalue()
    with capsys.disabled():
        print(
            f"\nMMGeneration {VERSION}: {len(files)} top-level configs, {read} read with "
            f"{sections} loss sections built, {len(failures)} refused"
        )
    assert read == 91
    assert (
        sections == 192
    )  # gan_loss 88, disc_auxiliary_loss 49, gen_auxiliary_loss 52, ddpm_loss 3
    assert sorted(failures) == [
        f"styleganv3/stylegan3_{kind}_{data}_b4x8_cvt_official_rgb.py"
        for kind in "rt"
        for data in ("afhqv2_512", "ffhq_1024", "ffhqu_256")
    ]
    for output in failures.values():
        assert MISSING_BASE in output

"""``ganloss toybench``: train, measure, write the figure and the result file, summarise.

:func:`run_toybench` is the whole benchmark as a function; the command wraps
it with option parsing (:mod:`ganloss_toybench.commands`), and
:func:`run_distributed` runs it in several processes: spawned here with
``--nproc N``, or started by ``torchrun`` (detected from its environment
variables ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import os
import platform
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from ganlosscore import ConfigError, GanLossError, load_config
from ganlosscore import __version__ as core_version

from ._version import __version__
from .config import Settings, check_config, default_config
from .data import DigitImages, GaussianMixture, digit_arrays
from .metrics import ModeMetrics, image_metrics, label_metrics, mode_metrics
from .progress import Progress
from .training import TrainResult, check_batch_split, generate, train

__all__ = [
    "PUBLISHED",
    "RunOutcome",
    "load_run_config",
    "run_distributed",
    "run_toybench",
    "torchrun_world",
]

#: The best published results (modes captured, fraction high quality):
#: PacGAN (Lin et al. 2018, Table 1) and GDPP (Elfeki et al. 2019).
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "ring": {"PacGAN": (7.9, 0.956), "GDPP": (8.0, 0.717)},
    "grid": {"PacGAN": (24.8, 0.936), "GDPP": (24.8, 0.685)},
}
CURVE_POINTS = 200
#: The seed of the real samples the generated ones are compared with (the same for every run).
REAL_SEED = 20_260_101
#: Real images kept in the ``.npz`` for the figure.
REAL_IMAGES_KEPT = 1000


@dataclass
class RunOutcome:
    """The result of one toybench run (only on the process that writes it)."""

    settings: Settings
    metrics: ModeMetrics
    record: dict[str, Any]
    json_path: Path | None
    png_path: Path | None
    pdf_path: Path | None = None
    npz_path: Path | None = None


def load_run_config(
    config_path: str | Path | None, overrides: Mapping[str, Any] | None = None
) -> tuple[Settings, Any, Any, dict[str, Any]]:
    """Read a config file (or the embedded default), check it, apply ``overrides``.

    Returns ``(settings, disc_config, gen_config, resolved)``, where
    ``resolved`` is the whole config as run. Every loss is built once here, so
    a bad config fails before anything trains (or any process is spawned).
    """
    if config_path is None:
        config, where = default_config(), "default config"
    else:
        config, where = load_config(config_path), str(config_path)
    settings, disc_config, gen_config = check_config(config, overrides, where=where)
    resolved = {"disc": disc_config, "gen": gen_config, "toybench": settings.to_dict()}
    return settings, disc_config, gen_config, resolved


def run_toybench(
    settings: Settings,
    disc_config: Any,
    gen_config: Any,
    *,
    out_dir: str | Path | None = "toybench-out",
    resolved_config: Mapping[str, Any] | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool | None = None,
    stdout: TextIO | None = None,
) -> RunOutcome | None:
    """Train, evaluate and report one run; returns the outcome on rank 0, else ``None``.

    Rank 0 evaluates the generator on ``settings.num_samples`` samples, writes
    ``<out_dir>/<dataset>-seed<seed>.json``, ``.npz`` (the generated and real
    samples the figure shows), ``.png`` and ``.pdf`` (not when ``out_dir`` is
    ``None``) and prints the summary to ``stdout``. ``progress``: show
    progress on stderr (``None`` or ``True``: a bar in a terminal, a line
    every few seconds otherwise; ``False``: nothing).
    """
    stdout = sys.stdout if stdout is None else stdout
    wall_start = time.perf_counter()
    bar = Progress(settings.steps) if rank == 0 and progress is not False else None

    def on_step(done: int, disc: Mapping[str, float], gen: Mapping[str, float]) -> None:
        if bar is not None:
            bar.update(
                done, {"d": disc.get("loss", float("nan")), "g": gen.get("loss", float("nan"))}
            )

    with _torch_settings(settings.threads):
        try:
            result = train(
                settings, disc_config, gen_config, rank=rank, world_size=world_size, on_step=on_step
            )
        finally:
            if bar is not None:
                bar.close()
        if rank != 0:
            return None
        dataset = result.dataset
        labels = None
        if settings.conditional:  # every label equally often, in turn
            labels = torch.arange(settings.num_samples) % dataset.num_modes
        samples = generate(
            result.generator, dataset, settings.num_samples, settings.seed, labels=labels
        )
        if isinstance(dataset, DigitImages):
            metrics, extra, arrays = _measure_images(samples, dataset)
        else:
            metrics, extra, arrays = _measure_points(samples, dataset)
            if labels is not None:
                extra["label_metrics"] = label_metrics(
                    samples, labels, dataset.centre_tensor(), dataset.std
                )
                arrays["labels"] = labels.numpy().astype(np.int16)
    if resolved_config is None:
        resolved_config = {"disc": disc_config, "gen": gen_config, "toybench": settings.to_dict()}
    record = _record(settings, metrics, result, world_size, resolved_config)
    record.update(extra)
    paths: dict[str, Path] = {}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"{settings.dataset}-seed{settings.seed}"
        paths = {kind: stem.with_suffix(f".{kind}") for kind in ("json", "npz", "png", "pdf")}
        np.savez_compressed(paths["npz"], **arrays)
        from .figure import draw_figure

        draw_figure(stem, record, arrays)
    record["wall_seconds"] = round(time.perf_counter() - wall_start, 3)
    if paths:
        # default=str: a config built in Python may hold a loss class as its type
        text = json.dumps(record, indent=1, default=str)
        paths["json"].write_text(text + "\n", encoding="utf-8")
    print(summary(record, paths), file=stdout)
    return RunOutcome(
        settings,
        metrics,
        record,
        paths.get("json"),
        paths.get("png"),
        paths.get("pdf"),
        paths.get("npz"),
    )


def _measure_points(
    samples: torch.Tensor, dataset: GaussianMixture
) -> tuple[ModeMetrics, dict[str, Any], dict[str, Any]]:
    """The mixture's metrics, and the arrays of the figure."""
    centres = dataset.centre_tensor()
    metrics = mode_metrics(samples, centres, dataset.std)
    distance = torch.cdist(
        samples.double(), centres.double(), compute_mode="donot_use_mm_for_euclid_dist"
    )
    real = dataset.sample(len(samples), torch.Generator().manual_seed(REAL_SEED))
    arrays = {
        "samples": samples.numpy().astype(np.float32),
        "high_quality": (distance.min(dim=1).values < 3 * dataset.std).numpy(),
        "real": real.numpy(),
        "centres": centres.numpy(),
        "std": np.float64(dataset.std),
    }
    published = {
        k: {"modes": m, "high_quality": q} for k, (m, q) in PUBLISHED[dataset.name].items()
    }
    return metrics, {"published": published}, arrays


def _measure_images(
    samples: torch.Tensor, dataset: DigitImages
) -> tuple[ModeMetrics, dict[str, Any], dict[str, Any]]:
    """The digits' metrics, those of held-out real digits, and the arrays of the figure.

    The generated samples are compared with as many real ones drawn from the
    training digits (the GAN's data); the held-out digits, stacked the same
    way, give what real data scores: the classifier's confidence on digits it
    never saw, the reverse KL of sampling alone, and the Fréchet distance of
    one real draw to another.
    """
    from .classifier import RECIPE, load_classifier, read_digits

    classifier, accuracy = load_classifier()
    n = len(samples)
    stream = torch.Generator().manual_seed(REAL_SEED)
    real, _ = dataset.sample_with_modes(n, stream)
    real_features = read_digits(classifier, real).features
    reading = read_digits(classifier, samples)
    metrics = image_metrics(
        reading.modes, reading.confidence, reading.features, real_features, dataset.num_modes
    )
    held_images, held_labels = digit_arrays("held-out")
    held = DigitImages(dataset.name, dataset.channels, held_images, held_labels)
    held_out, held_modes = held.sample_with_modes(n, stream)
    held_reading = read_digits(classifier, held_out)
    reference = image_metrics(
        held_reading.modes,
        held_reading.confidence,
        held_reading.features,
        real_features,
        dataset.num_modes,
    ).to_dict()
    del reference["counts"]
    extra = {
        "classifier": {
            "held_out_accuracy": accuracy,
            "recipe": RECIPE,
            "held_out_stacked_read_right": float(
                (held_reading.modes == held_modes).double().mean()
            ),
        },
        "real_held_out": reference,
    }
    arrays = {
        "samples": _to_bytes(samples),
        "modes": reading.modes.numpy().astype(np.int16),
        "confidence": reading.confidence.numpy().astype(np.float32),
        "real": _to_bytes(real[:REAL_IMAGES_KEPT]),
    }
    return metrics, extra, arrays


def _to_bytes(images: torch.Tensor) -> Any:
    """Images in [-1, 1] as ``uint8`` 0..255 (a 256-level image, a quarter of the float32 size)."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


@contextlib.contextmanager
def _torch_settings(threads: int) -> Iterator[None]:
    # Deterministic kernels (free on the CPU for these ops) and the thread
    # count, restored afterwards so that calling this from Python leaves no trace.
    old_threads = torch.get_num_threads()
    old_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_deterministic)


# -- the result file, the figure and the summary --------------------------------------


def _curves(history: Mapping[str, list[tuple[int, float]]], steps: int) -> dict[str, list[float]]:
    """Each logged value averaged over ``CURVE_POINTS`` equal windows of iterations."""
    bins = min(CURVE_POINTS, steps)
    curves = {}
    for key, points in history.items():
        sums, counts = [0.0] * bins, [0] * bins
        for iteration, value in points:
            b = min(iteration * bins // steps, bins - 1)
            sums[b] += value
            counts[b] += 1
        curves[key] = [s / c if c else float("nan") for s, c in zip(sums, counts)]
    return curves


def _curve_steps(steps: int) -> list[float]:
    bins = min(CURVE_POINTS, steps)
    return [(b + 0.5) * steps / bins for b in range(bins)]


def _record(
    settings: Settings,
    metrics: ModeMetrics,
    result: TrainResult,
    world_size: int,
    resolved_config: Mapping[str, Any],
) -> dict[str, Any]:
    curves = {
        phase: _jsonable_curves(_curves(history, settings.steps))
        for phase, history in result.history.items()
    }
    return {
        "benchmark": "ganloss toybench",
        "dataset": settings.dataset,
        "seed": settings.seed,
        "steps": settings.steps,
        "conditional": settings.conditional,
        "processes": world_size,
        "metrics": metrics.to_dict(),
        "train_seconds": round(result.train_seconds, 3),
        "final_log_vars": result.final,
        "curves": {"step": _curve_steps(settings.steps), **curves},
        "config": dict(resolved_config),
        "versions": {
            "ganloss-toybench": __version__,
            "ganlosscore": core_version,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        # which distributions (and versions) the losses and active hook plugins came from
        "provenance": result.provenance,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _jsonable_curves(curves: Mapping[str, list[float]]) -> dict[str, list[float | None]]:
    return {k: [round(v, 6) if v == v else None for v in vs] for k, vs in curves.items()}


def summary(record: Mapping[str, Any], paths: Mapping[str, Path]) -> str:
    """The table printed at the end of a run."""
    m = record["metrics"]
    kl = "-" if m["reverse_kl"] is None else f"{m['reverse_kl']:.4f}"
    rows: list[tuple[str, ...]] = [
        ("modes captured", f"{m['modes']} / {m['num_modes']}"),
        ("high-quality samples", f"{100 * m['high_quality']:.1f} %"),
        ("reverse KL", kl),
    ]
    if "published" in record:
        pacgan_modes, pacgan_hq = (
            record["published"]["PacGAN"]["modes"],
            record["published"]["PacGAN"]["high_quality"],
        )
        head = ("metric", "this run", "best published (PacGAN)")
        rows = [
            (*rows[0], f"{pacgan_modes:g}"),
            (*rows[1], f"{100 * pacgan_hq:.1f} %"),
            (*rows[2], ""),
        ]
        if "label_metrics" in record:
            labelled = record["label_metrics"]
            share = labelled["high_quality_at_label"]
            rows += [
                ("samples at their label's mode", f"{100 * labelled['at_label']:.1f} %", ""),
                (
                    "high-quality samples at their label's",
                    "-" if share is None else f"{100 * share:.1f} %",
                    "",
                ),
            ]
        beats = m["modes"] >= pacgan_modes and m["high_quality"] >= pacgan_hq
        verdict = f"{'beats' if beats else 'does not beat'} PacGAN's published result"
    else:
        real = record["real_held_out"]
        head = ("metric", "this run", "held-out real digits")
        rows = [
            (*rows[0], f"{real['modes']} / {real['num_modes']}"),
            (*rows[1], f"{100 * real['high_quality']:.1f} %"),
            (*rows[2], f"{real['reverse_kl']:.4f}"),
            ("Fréchet distance", f"{m['frechet_distance']:.3f}", f"{real['frechet_distance']:.3f}"),
        ]
        accuracy = record["classifier"]["held_out_accuracy"]
        verdict = f"classifier: {100 * accuracy:.1f} % of held-out digits read right"
    table = [head, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    lines = [
        f"toybench {record['dataset']}, seed {record['seed']}, {record['steps']} steps, "
        f"{record['processes']} process{'es' if record['processes'] > 1 else ''}: "
        f"trained in {record['train_seconds']:.1f} s",
        "",
    ]
    for i, row in enumerate(table):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines += ["", f"  {verdict} on {record['dataset']}"]
    for phase in ("disc", "gen"):
        values = record["final_log_vars"].get(phase, {})
        terms = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        lines.append(f"  final {phase} losses: {terms}")
    if paths:
        lines.append(f"  wrote {', '.join(str(p) for p in paths.values())}")
    return "\n".join(lines)


# -- several processes ------------------------------------------------------------------


def torchrun_world() -> tuple[int, int] | None:
    """``(rank, world_size)`` when started by ``torchrun`` (or a launcher setting its variables)."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ:
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return None


#: Spawned processes per CPU core at most (``--nproc``).
MAX_PROCS_PER_CPU = 4


def check_nproc(nproc: int) -> None:
    """Refuse a number of processes to spawn outside ``1 .. MAX_PROCS_PER_CPU * CPUs``."""
    limit = MAX_PROCS_PER_CPU * (os.cpu_count() or 1)
    if not 1 <= nproc <= limit:
        raise ConfigError(
            f"must be between 1 and {limit} ({MAX_PROCS_PER_CPU} processes per CPU core of "
            f"this machine), got {nproc}",
            where="--nproc",
        )


def run_distributed(
    settings: Settings,
    disc_config: Any,
    gen_config: Any,
    *,
    nproc: int,
    out_dir: str | Path | None,
    resolved_config: Mapping[str, Any] | None,
    progress: bool | None,
) -> None:
    """Run the benchmark in ``nproc`` processes on gloo (spawned), or in this torchrun rank.

    Spawned runs take at most ``MAX_PROCS_PER_CPU`` processes per CPU core: gloo
    on the CPU gains nothing beyond that, and a typo (``--nproc 200``) must not
    fork a machine to a standstill.
    """
    import torch.distributed as dist

    launched = torchrun_world()
    if launched is None:  # checked here, before any process is spawned
        check_nproc(nproc)
        check_batch_split(settings.batch_size, nproc)
    # one rank's run, given its rank and world_size (picklable for spawn)
    run = functools.partial(
        run_toybench,
        settings,
        disc_config,
        gen_config,
        out_dir=out_dir,
        resolved_config=resolved_config,
        progress=progress,
    )
    if launched is not None:
        rank, world = launched
        if nproc not in (1, world):
            raise ConfigError(
                f"--nproc {nproc} under torchrun, which started {world} processes; "
                "leave --nproc out (torchrun's --nproc-per-node decides)",
                where="--nproc",
            )
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=120))
        try:
            run(rank=rank, world_size=world)
        finally:
            _teardown()
        return

    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    errors = context.SimpleQueue()
    mp.start_processes(  # type: ignore[attr-defined,no-untyped-call]
        _worker, args=(nproc, _free_port(), errors, run), nprocs=nproc, start_method="spawn"
    )
    if not errors.empty():
        raise GanLossError(errors.get())


def _worker(rank: int, world: int, port: int, errors: Any, run: Callable[..., None]) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=120)
    )
    try:
        run(rank=rank, world_size=world)
    except GanLossError as exc:  # reported by the parent as one clean message
        errors.put(f"process {rank} of {world}: {exc}")
    finally:
        _teardown()


def _teardown() -> None:
    import gc

    import torch.distributed as dist

    # Free the DDP wrappers while the group lives and let every rank finish
    # before tearing it down: gloo aborts a process whose threads outlive it.
    gc.collect()
    with contextlib.suppress(Exception):
        dist.barrier()
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

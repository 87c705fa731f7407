"""The ``ganloss toybench`` command, registered on ``ganloss_register_commands``.

This module is what the ``ganlosscore.hooks`` entry point loads whenever the
``ganloss`` command builds its parser, so it imports neither torch nor the
training code; the command imports them when it runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from ganlosscore import hookimpl

from .config import DATASET_NAMES

__all__ = ["add_toybench_command", "ganloss_register_commands", "run_command"]

DESCRIPTION = """\
Does a loss configuration train a GAN? Train a small GAN with the config's
disc and gen losses, then measure mode collapse and sample quality as VEEGAN
and PacGAN do. On a 2-D Gaussian mixture (ring: 8 modes; grid: 25 modes; MLPs)
it counts the modes captured, the high-quality samples (within 3 standard
deviations of a mode) and the reverse KL of the mode histogram. On 8 x 8
handwritten digits (digits: 10 modes; stacked-digits: three digits as the
three channels, 1,000 modes; MLPs or CNNs) a digit classifier trained with the
benchmark reads 26,000 samples: modes captured, reverse KL, the share read
with confidence, and the Frechet distance to real digits in its features.
Without --config it runs the embedded default (NS GAN + R1). Writes
<out>/<dataset>-seed<seed>.json (metrics, curves, the config as run), .npz
(the samples), and the figure as .png and .pdf.
"""


@hookimpl
def ganloss_register_commands(cli: argparse._SubParsersAction[Any]) -> None:
    add_toybench_command(cli)


def add_toybench_command(cli: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = cli.add_parser(
        "toybench",
        help="train a toy GAN (2-D points, 8x8 digits) with a loss config; count modes, quality",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a .toml, .json or .yaml config (default: the embedded one)",
    )
    parser.add_argument("--dataset", choices=DATASET_NAMES, help="overrides the config's")
    parser.add_argument("--steps", type=_positive, metavar="N", help="generator steps")
    parser.add_argument("--seed", type=_non_negative, metavar="N", help="same seed, same result")
    parser.add_argument(
        "--out", default="toybench-out", metavar="DIR", help="where to write (default: %(default)s)"
    )
    parser.add_argument(
        "--nproc",
        type=_positive,
        default=1,
        metavar="N",
        help="processes, DistributedDataParallel on gloo (under torchrun: its processes)",
    )
    parser.add_argument(
        "--conditional",
        action="store_const",
        const=True,
        help="ring and grid: labels are the mode indices, a conditional generator and a "
        "projection discriminator with class heads (overrides the config's conditional)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--print-config", action="store_true", help="print the embedded default config and exit"
    )
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``ganloss toybench`` for parsed ``args``; the exit status."""
    if args.print_config:
        from .config import default_config_text

        print(default_config_text(), end="")
        return 0
    from .runner import check_nproc, load_run_config, run_distributed, run_toybench, torchrun_world
    from .training import check_batch_split

    overrides = {
        "dataset": args.dataset,
        "steps": args.steps,
        "seed": args.seed,
        "conditional": args.conditional,
    }
    settings, disc_config, gen_config, resolved = load_run_config(args.config, overrides)
    if torchrun_world() is None:
        check_nproc(args.nproc)
        check_batch_split(settings.batch_size, args.nproc)
    if args.out is not None:
        _prepare_out_dir(args.out)  # before training: a bad --out must not cost a run
    progress = False if args.quiet else None
    if args.nproc > 1 or torchrun_world() is not None:
        run_distributed(
            settings,
            disc_config,
            gen_config,
            nproc=args.nproc,
            out_dir=args.out,
            resolved_config=resolved,
            progress=progress,
        )
    else:
        run_toybench(
            settings,
            disc_config,
            gen_config,
            out_dir=args.out,
            resolved_config=resolved,
            progress=progress,
        )
    return 0


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _prepare_out_dir(out: str | os.PathLike[str]) -> None:
    """Create ``--out`` and check it takes files, or raise a ConfigError saying why not."""
    from ganlosscore import ConfigError

    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        # a probe of this process's own: under torchrun every rank checks the folder at once
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"the output folder {str(path)!r} cannot be used ({reason}); give --out a "
            "folder that exists or can be created, and that you can write to",
            where="--out",
        ) from exc

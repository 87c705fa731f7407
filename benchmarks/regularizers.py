"""4. Regularizer cost: R1, WGAN-GP and path length against the plainest correct PyTorch.

Each step computes the penalty and back-propagates it into the network's
parameters (the way training uses it), once through the plugin's loss module
called with the outputs dict, once through a hand-written expression of
the same math:

* R1 (Mescheder et al. 2018): ``x = real.detach().requires_grad_()``,
  ``g = grad(D(x).sum(), x, create_graph=True)``, ``mean_{n,h,w} sum_c g^2``;
* WGAN-GP (Gulrajani et al. 2017): the same at ``alpha real + (1 - alpha)
  fake`` with ``mean((||g||_2 over channels - 1)^2)``;
* path length (StyleGAN2): ``grad(sum(G(w) * y), w)`` with
  ``y ~ N(0, I) / sqrt(HW)``, its per-sample norm, the running mean, the
  squared deviation (as in rosinality's stylegan2-pytorch).

Time is CPU time per step, interleaved over rounds (see ``_harness``); peak
memory is the peak of live tensor bytes the step allocates (see
``_memory``), measured in separate, interleaved runs since counting slows a
step down.

Run: ``python benchmarks/regularizers.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import _harness as h
import torch
from _memory import PeakMemory
from _models import ConvDiscriminator, StyleGenerator
from torch import Tensor, nn

from ganlosscore import build_loss

PL_DECAY = 0.01


def r1_variants(d: nn.Module, real: Tensor) -> dict[str, Callable[[], Tensor]]:
    plugin = build_loss(
        {"type": "R1GradientPenalty", "data_info": {"discriminator": "disc", "real_data": "real"}}
    )
    outputs = {"disc": d, "real": real}

    def plain() -> Tensor:
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
        return grad.pow(2).sum(dim=1).mean()

    return {"plain": plain, "plugin": lambda: plugin(outputs)}


def gp_variants(d: nn.Module, real: Tensor, fake: Tensor) -> dict[str, Callable[[], Tensor]]:
    plugin = build_loss(
        {
            "type": "GradientPenaltyLoss",
            "data_info": {"discriminator": "disc", "real_data": "real", "fake_data": "fake"},
        }
    )
    outputs = {"disc": d, "real": real, "fake": fake}

    def plain() -> Tensor:
        alpha = torch.rand(real.shape[0], 1, 1, 1)
        x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

    return {"plain": plain, "plugin": lambda: plugin(outputs)}


def pl_variants(g: nn.Module, batch: int) -> dict[str, Callable[[], Tensor]]:
    plugin = build_loss(
        {
            "type": "GeneratorPathRegularizer",
            "decay": PL_DECAY,
            "data_info": {"generator": "gen", "num_batches": "batch_size"},
        }
    )
    plugin.train()
    outputs = {"gen": g, "batch_size": batch}
    mean_path_length = torch.zeros(())

    def plain() -> Tensor:
        out = g(None, num_batches=batch, return_latents=True)
        fake_img, latents = out["fake_img"], out["latent"]
        noise = torch.randn_like(fake_img) / math.sqrt(fake_img.shape[2] * fake_img.shape[3])
        (grad,) = torch.autograd.grad((fake_img * noise).sum(), latents, create_graph=True)
        path_lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))
        path_mean = mean_path_length + PL_DECAY * (path_lengths.mean() - mean_path_length)
        mean_path_length.copy_(path_mean.detach())
        return (path_lengths - path_mean).pow(2).mean()

    return {"plain": plain, "plugin": lambda: plugin(outputs)}


def training_step(penalty: Callable[[], Tensor], net: nn.Module) -> Callable[[int], object]:
    def step(i: int) -> object:
        loss = penalty()
        loss.backward()
        net.zero_grad(set_to_none=True)
        return None

    return step


def peak_memory(step: Callable[[int], object]) -> int:
    with PeakMemory() as counter:
        step(0)
    return counter.peak


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    h.set_threads(args.threads)
    batch, channels = (4, 8) if args.quick else (64, 64)
    rounds = args.rounds or (2 if args.quick else 12)

    gen = torch.Generator().manual_seed(0)
    d = ConvDiscriminator(channels)
    g = StyleGenerator(channels)
    real = torch.randn(batch, 3, 32, 32, generator=gen)
    fake = torch.randn(batch, 3, 32, 32, generator=gen)
    suites = {
        "R1 gradient penalty": (r1_variants(d, real), d),
        "WGAN-GP gradient penalty": (gp_variants(d, real, fake), d),
        "path length (StyleGAN2)": (pl_variants(g, batch), g),
    }
    steps = {
        f"{name}/{kind}": training_step(fn, net)
        for name, (fns, net) in suites.items()
        for kind, fn in fns.items()
    }
    timings = h.time_interleaved(steps, rounds=rounds, steps=1 if args.quick else 2, seed=args.seed)

    memory: dict[str, list[int]] = {key: [] for key in steps}
    for _ in range(1 if args.quick else 3):
        for key, step in steps.items():
            memory[key].append(peak_memory(step))

    rows = []
    targets = []
    for name in suites:
        plain, plugin = f"{name}/plain", f"{name}/plugin"
        time_ratio = timings.ratio(plugin, plain)
        memory_ratios = h.Spread.of([a / b for a, b in zip(memory[plugin], memory[plain])])
        rows.append(
            [
                name,
                timings.spread(plain).fmt(h.fmt_seconds),
                timings.spread(plugin).fmt(h.fmt_seconds),
                time_ratio.fmt(h.fmt_ratio),
                h.fmt_bytes(max(memory[plain])),
                h.fmt_bytes(max(memory[plugin])),
                f"{memory_ratios.median:.3f}",
            ]
        )
        targets.append(
            [
                name,
                time_ratio.fmt(h.fmt_ratio),
                f"{memory_ratios.median:.3f}",
                "<= 1.05 both",
                h.verdict(time_ratio.median <= 1.05 and memory_ratios.median <= 1.05),
            ]
        )
    print(
        h.header(
            "4. Regularizer cost",
            h.command_line("regularizers.py"),
            [
                f"Batch {batch} of 3x32x32, {channels}-channel networks; penalty and its "
                f"backward per step; {rounds} rounds. Time: CPU time per step, median "
                "[interquartile range] over interleaved rounds, ratio taken within a round. "
                "Memory: peak live bytes of the tensors the step allocates (identical "
                "over repeats: allocation is deterministic).",
            ],
        )
    )
    print()
    print(
        h.table(
            [
                "regularizer",
                "plain time",
                "plugin time",
                "time ratio",
                "plain peak",
                "plugin peak",
                "memory ratio",
            ],
            rows,
        )
    )
    print("\n### Targets\n")
    print(h.table(["regularizer", "time ratio", "memory ratio", "target", "verdict"], targets))
    h.write_json(args.json, {"time": timings.as_json(), "peak_bytes": memory})


if __name__ == "__main__":
    main()

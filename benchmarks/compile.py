"""6. torch.compile: a compiled step with an aggregator against a compiled hand-written step.

One training step of a small convolutional GAN (batch ``--batch`` of
3x32x32): the discriminator phase (non-saturating adversarial loss and
``DiscShiftLoss`` on real and fake predictions) and the generator phase
(adversarial loss), each forward and backward. Each phase's forward, networks
and losses together, is compiled with ``torch.compile`` (default mode,
inductor); ``backward()`` runs the compiled backward. Two variants:

* ``hand-written``: direct ``torch`` calls and a sum; the values to log are
  kept as detached tensors (nothing read on the host);
* ``ganlosscore``: ``build_aggregator`` from configs with
  ``nonfinite="defer"`` (its on-device non-finite record included), log
  values not read.

R1 is left out: its ``autograd.grad(create_graph=True)`` runs outside the
compiled graph in either variant (see ``docs/compile.md``), so it would add
the same eager work to both.

The second table counts the host synchronisations per step (``.item()``,
``.tolist()``, ``float(t)``, ``bool(t)``, ``int(t)``, ``nonzero``) of the
eager loops, with a ``TorchFunctionMode`` that sees every tensor method:
the aggregator under each non-finite policy, without and with reading its
log values, and MMGeneration's loop (``_parse_losses``: one ``.item()`` per
logged value).

Run: ``python benchmarks/compile.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _harness as h
import torch
import torch.nn.functional as F
from _models import LATENT, ConvDiscriminator, ConvGenerator
from aggregation import SHIFT_WEIGHT, mmgen_losses, mmgen_parse_losses
from torch import Tensor
from torch.overrides import TorchFunctionMode

from ganlosscore import LossAggregator, build_aggregator

DISC_CONFIG = [
    {
        "type": "DiscAdversarialLoss",
        "gan_type": "ns",
        "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
    },
    {"type": "DiscShiftLoss", "loss_weight": SHIFT_WEIGHT, "data_info": {"pred": "disc_pred_real"}},
    {"type": "DiscShiftLoss", "loss_weight": SHIFT_WEIGHT, "data_info": {"pred": "disc_pred_fake"}},
]
GEN_CONFIG = [
    {"type": "GenAdversarialLoss", "gan_type": "ns", "data_info": {"pred_fake": "disc_pred_fake_g"}}
]
SYNCING = {"item", "tolist", "__float__", "__bool__", "__int__", "__index__", "nonzero"}

Phase = Callable[..., Any]


def hand_written() -> tuple[Phase, Phase]:
    def disc(d: torch.nn.Module, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        pred_real, pred_fake = d(real), d(fake)
        adv = (
            F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
            + F.softplus(pred_fake).mean()
        )
        shift = pred_real.pow(2).mean() * SHIFT_WEIGHT + pred_fake.pow(2).mean() * SHIFT_WEIGHT
        total = adv + shift
        logs = {"loss_disc_adv": adv.detach(), "loss_disc_shift": shift.detach()}
        return total, {**logs, "loss": total.detach()}

    def gen(d: torch.nn.Module, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        adv = F.softplus(-d(fake)).mean()
        return adv, {"loss_gen_adv": adv.detach(), "loss": adv.detach()}

    return disc, gen


def through_aggregator(disc_agg: LossAggregator, gen_agg: LossAggregator) -> tuple[Phase, Phase]:
    def disc(d: torch.nn.Module, real: Tensor, fake: Tensor) -> Any:
        result = disc_agg({"disc_pred_real": d(real), "disc_pred_fake": d(fake)})
        return result.total, result

    def gen(d: torch.nn.Module, fake: Tensor) -> Any:
        result = gen_agg({"disc_pred_fake_g": d(fake)})
        return result.total, result

    return disc, gen


def compiled_steps(batch: int, channels: int) -> dict[str, h.Step]:
    g = torch.Generator().manual_seed(0)
    real = torch.randn(batch, 3, 32, 32, generator=g)
    z = torch.randn(batch, LATENT, generator=g)
    disc_agg = build_aggregator(DISC_CONFIG, name="disc", nonfinite="defer")
    gen_agg = build_aggregator(GEN_CONFIG, name="gen", nonfinite="defer")
    steps = {}
    for name, (disc, gen) in {
        "hand-written": hand_written(),
        "ganlosscore": through_aggregator(disc_agg, gen_agg),
    }.items():
        d, gnet = ConvDiscriminator(channels), ConvGenerator(channels)
        disc_c, gen_c, gnet_c = torch.compile(disc), torch.compile(gen), torch.compile(gnet)

        def step(i: int, d=d, gnet=gnet, disc_c=disc_c, gen_c=gen_c, gnet_c=gnet_c) -> None:
            fake = gnet_c(z)
            total_d, _ = disc_c(d, real, fake.detach())
            d.zero_grad(set_to_none=True)
            total_d.backward()
            total_g, _ = gen_c(d, fake)
            gnet.zero_grad(set_to_none=True)
            total_g.backward()

        steps[name] = step
    return steps


class SyncCounter(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if getattr(func, "__name__", "") in SYNCING:
            self.count += 1
        return func(*args, **(kwargs or {}))


def syncs_per_step(steps: int = 20) -> list[list[str]]:
    """Host synchronisations per eager training step, counted over ``steps`` steps.

    Counted as on an accelerator: on the CPU the aggregator reads values one
    ``.item()`` each (nothing to wait for, and cheaper than stacking them),
    elsewhere one ``.tolist()`` of their stack; ``Tensor.is_cpu`` is made
    false while counting so that the CPU takes the accelerator's path.
    """
    original = torch.Tensor.is_cpu
    torch.Tensor.is_cpu = property(lambda self: False)  # type: ignore[assignment,method-assign]
    try:
        return _syncs_per_step(steps)
    finally:
        torch.Tensor.is_cpu = original  # type: ignore[method-assign]


def _syncs_per_step(steps: int) -> list[list[str]]:
    d, gnet = ConvDiscriminator(8), ConvGenerator(8)
    real, z = torch.randn(2, 3, 32, 32), torch.randn(2, LATENT)

    def loop(phase: Callable[[Tensor, Tensor], None]) -> float:
        counter = SyncCounter()
        with counter:
            for _ in range(steps):
                fake = gnet(z)
                phase(d(real), d(fake.detach()))
        return counter.count / steps

    rows = []
    for policy in ("defer", "ignore", "raise", "warn"):
        for read in (False, True):
            disc_agg = build_aggregator(DISC_CONFIG, nonfinite=policy)

            def phase(pr: Tensor, pf: Tensor, agg=disc_agg, read=read) -> None:
                result = agg({"disc_pred_real": pr, "disc_pred_fake": pf})
                if read:
                    result.log_vars  # noqa: B018 - reading is what is measured
                result.total.backward()

            rows.append(
                [
                    f'ganlosscore, nonfinite="{policy}"',
                    "every step" if read else "never",
                    f"{loop(phase):g}",
                ]
            )
    mmgen_agg = build_aggregator(DISC_CONFIG)

    def mmgen(pr: Tensor, pf: Tensor) -> None:
        outputs = {"disc_pred_real": pr, "disc_pred_fake": pf}
        total, _ = mmgen_parse_losses(mmgen_losses(mmgen_agg.losses, outputs))
        total.backward()

    rows.append(["MMGeneration loop (`_parse_losses`)", "every step", f"{loop(mmgen):g}"])
    return rows


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=None, help="batch size (32)")
    p.add_argument("--channels", type=int, default=None, help="network width (32)")
    args = p.parse_args()
    h.set_threads(args.threads)
    batch = args.batch or (4 if args.quick else 32)
    channels = args.channels or (8 if args.quick else 32)
    rounds = args.rounds or (2 if args.quick else 20)
    block = 2 if args.quick else 5
    timings = h.time_interleaved(
        compiled_steps(batch, channels), rounds=rounds, steps=block, warmup_rounds=2, seed=args.seed
    )
    print(
        h.header(
            "6. torch.compile and host synchronisations",
            h.command_line("compile.py"),
            [
                f"Conv D and G ({channels} channels), batch {batch} of 3x32x32; each phase's "
                "forward compiled (default mode, inductor), backward through the compiled "
                "graph. CPU time per step, median [interquartile range] over "
                f"{rounds} rounds of {block} steps per variant, interleaved.",
            ],
        )
    )
    ratio = timings.ratio("ganlosscore", "hand-written")
    rows = [
        [name, timings.spread(name).fmt(h.fmt_seconds), timings.ratio(name, "hand-written").fmt()]
        for name in ("hand-written", "ganlosscore")
    ]
    print("\n### Compiled step\n")
    print(h.table(["variant", "time per step", "ratio to hand-written"], rows))
    sync_rows = syncs_per_step()
    print(
        "\n### Host synchronisations per step (eager, discriminator phase, 3 values logged; "
        "values read as on an accelerator)\n"
    )
    print(h.table(["loop", "log values read", "synchronising calls per step"], sync_rows))
    deferred = float(sync_rows[0][2])
    print(
        h.targets(
            [
                [
                    "compiled step, ganlosscore / hand-written",
                    ratio.fmt(),
                    "<= 1.05",
                    ratio.median <= 1.05,
                ],
                [
                    'syncs per step, nonfinite="defer", log values not read',
                    f"{deferred:g}",
                    "0",
                    deferred == 0,
                ],
            ],
        )
    )
    h.write_json(args.json, {"compiled": timings.as_json(), "syncs": sync_rows})


if __name__ == "__main__":
    main()

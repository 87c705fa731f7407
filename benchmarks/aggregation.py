"""1. Aggregation overhead: ``LossAggregator`` against hand-written PyTorch and MMGeneration.

One training step has a discriminator phase (adversarial loss on real and
fake predictions, ``DiscShiftLoss`` on both, R1 every ``--r1-interval``
steps) and a generator phase (adversarial loss). Three variants compute the
same math:

* ``hand-written``: direct ``torch`` calls, a sum, and one ``.tolist()`` for
  every value to log (a single device synchronisation, like the aggregator's);
  no ganlosscore at all;
* ``ganlosscore``: ``build_aggregator`` from configs, called with the outputs
  dict, with the default hooks (the installed plugins' losses);
* ``MMGeneration loop``: the same loss modules, called in the tutorial's
  per-loss loop (merge by ``loss_name()``), then MMGeneration's
  ``_parse_losses`` (one ``.item()`` per logged value).

(a) ``tiny``: predictions of 4 samples and a 48-input discriminator, where
only overhead shows; the step is loss computation and aggregation only (no
network forward, no backward), the strictest setting for the ratio. Two
more variants in between, ``compute() calls`` and ``loss module calls``
(see :func:`breakdown_stages`), split the overhead into the plugins' math
layers, the loss protocol and the aggregator.
(b) ``conv``: convolutional D and G, batch 64 of 3x32x32, a whole step:
G forward, D forward on real and fake, the discriminator losses and their
backward, D forward on the fake again, the generator loss and its backward.

Run: ``python benchmarks/aggregation.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import _harness as h
import torch
import torch.distributed as dist
import torch.nn.functional as F
from _models import LATENT, ConvDiscriminator, ConvGenerator
from torch import Tensor, nn

from ganlosscore import LossAggregator, build_aggregator

SHIFT_WEIGHT = 0.001
R1_WEIGHT = 5.0  # gamma / 2 with gamma = 10
LOSSES_PER_STEP = 5  # four discriminator loss modules (R1 included) and one generator loss


def disc_config(r1_interval: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "DiscAdversarialLoss",
            "gan_type": "ns",
            "data_info": {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"},
        },
        {
            "type": "DiscShiftLoss",
            "loss_weight": SHIFT_WEIGHT,
            "data_info": {"pred": "disc_pred_real"},
        },
        {
            "type": "DiscShiftLoss",
            "loss_weight": SHIFT_WEIGHT,
            "data_info": {"pred": "disc_pred_fake"},
        },
        {
            "type": "R1GradientPenalty",
            "loss_weight": R1_WEIGHT,
            "interval": r1_interval,
            "data_info": {"discriminator": "disc", "real_data": "real_imgs"},
        },
    ]


GEN_CONFIG = [
    {"type": "GenAdversarialLoss", "gan_type": "ns", "data_info": {"pred_fake": "disc_pred_fake_g"}}
]


# -- the three ways of computing a phase's losses -------------------------------------

DiscLosses = Callable[[int, Tensor, Tensor, Tensor, nn.Module], tuple[Tensor, dict[str, float]]]
GenLosses = Callable[[int, Tensor], tuple[Tensor, dict[str, float]]]


def hand_written(r1_interval: int) -> tuple[DiscLosses, GenLosses]:
    """The plainest PyTorch for the same math: direct calls, a sum, one ``.tolist()``."""

    def disc(
        i: int, pred_real: Tensor, pred_fake: Tensor, real: Tensor, d: nn.Module
    ) -> tuple[Tensor, dict[str, float]]:
        adv = (
            F.binary_cross_entropy_with_logits(pred_real, torch.full_like(pred_real, 1.0))
            + F.softplus(pred_fake).mean()
        )
        shift = pred_real.pow(2).mean() * SHIFT_WEIGHT + pred_fake.pow(2).mean() * SHIFT_WEIGHT
        total = adv + shift
        if i % r1_interval == 0:
            x = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
            r1 = grad.pow(2).sum(dim=1).mean() * R1_WEIGHT
            total = total + r1
            values = torch.stack([adv.detach(), shift.detach(), r1.detach(), total.detach()])
            names = ("loss_disc_adv", "loss_disc_shift", "loss_r1_gp", "loss")
        else:
            values = torch.stack([adv.detach(), shift.detach(), total.detach()])
            names = ("loss_disc_adv", "loss_disc_shift", "loss")
        return total, dict(zip(names, values.tolist()))

    def gen(i: int, pred_fake_g: Tensor) -> tuple[Tensor, dict[str, float]]:
        adv = F.softplus(-pred_fake_g).mean()
        values = torch.stack([adv.detach(), adv.detach()])
        return adv, dict(zip(("loss_gen_adv", "loss"), values.tolist()))

    return disc, gen


OutputsLosses = Callable[[dict[str, Any]], tuple[Tensor, dict[str, float]]]


def from_outputs(
    disc_losses: OutputsLosses, gen_losses: OutputsLosses
) -> tuple[DiscLosses, GenLosses]:
    """Each phase's losses computed from the outputs dict that the configs' ``data_info`` names."""

    def disc(
        i: int, pred_real: Tensor, pred_fake: Tensor, real: Tensor, d: nn.Module
    ) -> tuple[Tensor, dict[str, float]]:
        outputs = {
            "disc_pred_real": pred_real,
            "disc_pred_fake": pred_fake,
            "disc": d,
            "real_imgs": real,
            "iteration": i,
        }
        return disc_losses(outputs)

    def gen(i: int, pred_fake_g: Tensor) -> tuple[Tensor, dict[str, float]]:
        return gen_losses({"disc_pred_fake_g": pred_fake_g, "iteration": i})

    return disc, gen


def aggregated(agg: LossAggregator) -> OutputsLosses:
    def losses(outputs: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        total, log_vars = agg(outputs)
        return total, log_vars

    return losses


def through_aggregator(
    disc_agg: LossAggregator, gen_agg: LossAggregator
) -> tuple[DiscLosses, GenLosses]:
    return from_outputs(aggregated(disc_agg), aggregated(gen_agg))


def mmgen_parse_losses(losses: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
    """``BaseGAN._parse_losses`` of MMGeneration (mmgen/models/gans/base_gan.py), verbatim."""
    log_vars = OrderedDict()
    for loss_name, loss_value in losses.items():
        if isinstance(loss_value, torch.Tensor):
            log_vars[loss_name] = loss_value.mean()
        elif isinstance(loss_value, list):
            log_vars[loss_name] = sum(_loss.mean() for _loss in loss_value)
        else:
            raise TypeError(f"{loss_name} is not a tensor or list of tensors")

    loss = sum(_value for _key, _value in log_vars.items() if "loss" in _key)

    log_vars["loss"] = loss
    for loss_name, loss_value in log_vars.items():
        # reduce loss when distributed training
        if dist.is_available() and dist.is_initialized():
            loss_value = loss_value.data.clone()
            dist.all_reduce(loss_value.div_(dist.get_world_size()))
        log_vars[loss_name] = loss_value.item()

    return loss, log_vars  # type: ignore[return-value]


def mmgen_losses(modules: nn.ModuleList, outputs: dict[str, Any]) -> dict[str, Tensor]:
    """The per-loss loop of MMGeneration's tutorial (``_get_disc_loss``)."""
    losses_dict: dict[str, Tensor] = {}
    for loss_module in modules:
        loss_ = loss_module(outputs)
        if loss_ is None:
            continue
        # the `loss_name()` function return name as 'loss_xxx'
        if loss_module.loss_name() in losses_dict:
            losses_dict[loss_module.loss_name()] = losses_dict[loss_module.loss_name()] + loss_
        else:
            losses_dict[loss_module.loss_name()] = loss_
    return losses_dict


def mmgen_loop(disc_agg: LossAggregator, gen_agg: LossAggregator) -> tuple[DiscLosses, GenLosses]:
    """The same loss modules as the aggregator's, in MMGeneration's loop."""
    return from_outputs(
        lambda outputs: mmgen_parse_losses(mmgen_losses(disc_agg.losses, outputs)),
        lambda outputs: mmgen_parse_losses(mmgen_losses(gen_agg.losses, outputs)),
    )


def finish(values: list[tuple[str, Tensor]]) -> tuple[Tensor, dict[str, float]]:
    """The hand-written ending of a phase: a sum and one ``.tolist()``."""
    total = values[0][1]
    for _, value in values[1:]:
        total = total + value
    names = [name for name, _ in values] + ["loss"]
    logged = torch.stack([value.detach() for _, value in values] + [total.detach()])
    return total, dict(zip(names, logged.tolist()))


def breakdown_stages(
    disc_agg: LossAggregator, gen_agg: LossAggregator, r1_interval: int
) -> dict[str, tuple[DiscLosses, GenLosses]]:
    """Two variants between hand-written and ganlosscore, to locate the overhead.

    ``compute() calls`` runs the plugins' math (``compute``, then the weight
    by hand) with the hand-written ending; ``loss module calls`` calls the
    modules as the protocol defines, ``loss(outputs)``, with the same ending.
    """
    adv, shift_real, shift_fake, r1 = disc_agg.losses
    (gen_adv,) = gen_agg.losses

    def compute_disc(
        i: int, pred_real: Tensor, pred_fake: Tensor, real: Tensor, d: nn.Module
    ) -> tuple[Tensor, dict[str, float]]:
        shift = (
            shift_real.compute(pred=pred_real) * SHIFT_WEIGHT
            + shift_fake.compute(pred=pred_fake) * SHIFT_WEIGHT
        )
        values = [
            ("loss_disc_adv", adv.compute(pred_real=pred_real, pred_fake=pred_fake)),
            ("loss_disc_shift", shift),
        ]
        if i % r1_interval == 0:
            values.append(("loss_r1_gp", r1.compute(discriminator=d, real_data=real) * R1_WEIGHT))
        return finish(values)

    def compute_gen(i: int, pred_fake_g: Tensor) -> tuple[Tensor, dict[str, float]]:
        return finish([("loss_gen_adv", gen_adv.compute(pred_fake=pred_fake_g))])

    def module_disc(outputs: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        values = [
            ("loss_disc_adv", adv(outputs)),
            ("loss_disc_shift", shift_real(outputs) + shift_fake(outputs)),
        ]
        r1_value = r1(outputs)
        if r1_value is not None:
            values.append(("loss_r1_gp", r1_value))
        return finish(values)

    def module_gen(outputs: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        return finish([("loss_gen_adv", gen_adv(outputs))])

    return {
        "compute() calls": (compute_disc, compute_gen),
        "loss module calls": from_outputs(module_disc, module_gen),
    }


# -- scenarios --------------------------------------------------------------------------


def variants(r1_interval: int, breakdown: bool = False) -> dict[str, tuple[DiscLosses, GenLosses]]:
    disc_agg = build_aggregator(disc_config(r1_interval), name="disc")
    gen_agg = build_aggregator(GEN_CONFIG, name="gen")
    built = {
        "hand-written": hand_written(r1_interval),
        "ganlosscore": through_aggregator(disc_agg, gen_agg),
        "MMGeneration loop": mmgen_loop(disc_agg, gen_agg),
    }
    if breakdown:
        built.update(breakdown_stages(disc_agg, gen_agg, r1_interval))
    return built


def tiny_steps(r1_interval: int) -> dict[str, h.Step]:
    """Loss computation and aggregation of both phases on tiny leaf tensors."""
    g = torch.Generator().manual_seed(0)
    pred_real = torch.randn(4, 1, generator=g).requires_grad_(True)
    pred_fake = torch.randn(4, 1, generator=g).requires_grad_(True)
    pred_fake_g = torch.randn(4, 1, generator=g).requires_grad_(True)
    real = torch.randn(4, 3, 4, 4, generator=g)
    d = nn.Sequential(nn.Flatten(), nn.Linear(48, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))

    def make(disc: DiscLosses, gen: GenLosses) -> h.Step:
        def step(i: int) -> object:
            disc(i, pred_real, pred_fake, real, d)
            return gen(i, pred_fake_g)

        return step

    built = variants(r1_interval, breakdown=True)
    check_same_math(built, pred_real, pred_fake, pred_fake_g, real, d)
    return {name: make(*fns) for name, fns in built.items()}


def conv_steps(r1_interval: int, batch: int, channels: int) -> dict[str, h.Step]:
    """A whole GAN training step (forward and backward of both phases), no optimizer."""
    g = torch.Generator().manual_seed(0)
    d = ConvDiscriminator(channels)
    gnet = ConvGenerator(channels)
    real = torch.randn(batch, 3, 32, 32, generator=g)
    z = torch.randn(batch, LATENT, generator=g)

    def make(disc: DiscLosses, gen: GenLosses) -> h.Step:
        def step(i: int) -> object:
            fake = gnet(z)
            total_d, _ = disc(i, d(real), d(fake.detach()), real, d)
            d.zero_grad(set_to_none=True)
            total_d.backward()
            total_g, _ = gen(i, d(fake))
            gnet.zero_grad(set_to_none=True)
            total_g.backward()
            return None

        return step

    return {name: make(*fns) for name, fns in variants(r1_interval).items()}


def check_same_math(
    built: dict[str, tuple[DiscLosses, GenLosses]],
    pred_real: Tensor,
    pred_fake: Tensor,
    pred_fake_g: Tensor,
    real: Tensor,
    d: nn.Module,
) -> None:
    """Every variant logs the same values, with and without the lazy R1 term."""
    for i in (0, 1):
        logs = {}
        for name, (disc, gen) in built.items():
            disc_logs = disc(i, pred_real, pred_fake, real, d)[1]
            gen_logs = gen(i, pred_fake_g)[1]
            logs[name] = {**{f"d.{k}": v for k, v in disc_logs.items()}, "g": gen_logs["loss"]}
        reference = logs["hand-written"]
        for name, values in logs.items():
            assert values.keys() == reference.keys(), (name, values, reference)
            for key, value in values.items():
                assert abs(value - reference[key]) <= 1e-5 * max(1.0, abs(value)), (name, key)


# -- report -------------------------------------------------------------------------------

MAIN_VARIANTS = ("hand-written", "ganlosscore", "MMGeneration loop")


def summarise(timings: h.Timings, per_loss: bool) -> list[list[str]]:
    rows = []
    for name in MAIN_VARIANTS:
        row = [
            name,
            timings.spread(name).fmt(h.fmt_seconds),
            timings.ratio(name, "hand-written").fmt(h.fmt_ratio),
            "—"
            if name == "hand-written"
            else timings.difference(name, "hand-written").fmt(h.fmt_us),
        ]
        if per_loss:
            over = timings.difference(name, "hand-written", LOSSES_PER_STEP)
            row.append("—" if name == "hand-written" else over.fmt(h.fmt_us))
        rows.append(row)
    return rows


def breakdown(timings: h.Timings) -> list[list[str]]:
    """Differences between successive stages, per step and per unit of work."""
    stages = [
        (
            "plugins' math layers (compute() calls − hand-written)",
            "compute() calls",
            "hand-written",
            LOSSES_PER_STEP,
            "per loss",
        ),
        (
            "loss protocol: loss(outputs) (loss module calls − compute() calls)",
            "loss module calls",
            "compute() calls",
            LOSSES_PER_STEP,
            "per loss",
        ),
        (
            "aggregator: hooks, parse, reduce, checks (ganlosscore − loss module calls)",
            "ganlosscore",
            "loss module calls",
            2,
            "per aggregation",
        ),
    ]
    return [
        [
            label,
            timings.difference(name, base).fmt(h.fmt_us),
            f"{timings.difference(name, base, per).fmt(h.fmt_us)} {unit}",
        ]
        for label, name, base, per, unit in stages
    ]


def profile(step: h.Step, steps: int, top: int) -> str:
    """cProfile of the tiny ganlosscore step: the functions with the most own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        step(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_, calls, own, cumulative, _) in entries[:top]:
        where = func if path == "~" else f"{_short(path)}:{line} {func}"
        rows.append(
            [
                f"`{where}`",
                f"{calls / steps:.1f}",
                f"{own / steps * 1e6:.2f}",
                f"{cumulative / steps * 1e6:.2f}",
            ]
        )
    return h.table(
        ["function", "calls per step", "own µs per step", "cumulative µs per step"], rows
    )


def _short(path: str) -> str:
    """A source path from its package on: ``ganlosscore/aggregation.py``."""
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    parts = path.split("/")
    return "/".join(parts[-2:])


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--r1-interval", type=int, default=None, help="lazy R1 interval (16)")
    p.add_argument("--skip-conv", action="store_true", help="only the tiny-tensor scenario")
    p.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also print the N functions with the most own time in the tiny ganlosscore step",
    )
    args = p.parse_args()
    h.set_threads(args.threads)
    quick = args.quick
    interval = args.r1_interval or (2 if quick else 16)

    tiny_rounds = args.rounds or (3 if quick else 200)
    tiny_variants = tiny_steps(interval)
    tiny = h.time_interleaved(tiny_variants, rounds=tiny_rounds, steps=interval, seed=args.seed)
    batch, channels = (4, 8) if quick else (64, 64)
    conv_rounds = args.rounds or (2 if quick else 8)
    conv = None
    if not args.skip_conv:
        conv = h.time_interleaved(
            conv_steps(interval, batch, channels),
            rounds=conv_rounds,
            steps=interval,
            warmup_rounds=1,
            seed=args.seed,
        )

    head = [
        "variant",
        "time per step",
        "ratio to hand-written",
        "µs per step over hand-written",
        "µs per loss over hand-written",
    ]
    print(
        h.header(
            "1. Aggregation overhead",
            h.command_line("aggregation.py"),
            [
                f"R1 every {interval} steps; {LOSSES_PER_STEP} loss modules per step (4 in "
                "the discriminator phase, 1 in the generator phase). Time: CPU time per step, "
                "median [interquartile range] over rounds; each round times one block of "
                f"{interval} steps of every variant, interleaved in a shuffled order, and "
                "ratios and differences are taken within a round.",
            ],
        )
    )
    print(f"\n### (a) tiny tensors: losses and aggregation only ({tiny_rounds} rounds)\n")
    print(h.table(head, summarise(tiny, per_loss=True)))
    print("\nWhere the overhead goes (same run, two intermediate variants):\n")
    print(h.table(["layer", "µs per step", "µs per unit"], breakdown(tiny)))
    if conv is not None:
        print(
            f"\n### (b) conv D and G ({channels} channels), batch {batch} of 3x32x32, "
            f"forward and backward ({conv_rounds} rounds)\n"
        )
        # Per loss would divide noise of milliseconds by 5: the step is what counts here.
        print(h.table(head[:-1], summarise(conv, per_loss=False)))

    ratio_a = tiny.ratio("ganlosscore", "hand-written")
    per_loss = tiny.difference("ganlosscore", "hand-written", LOSSES_PER_STEP)
    vs_mmgen = tiny.ratio("ganlosscore", "MMGeneration loop")
    targets = [
        [
            "(1a) ratio to hand-written",
            ratio_a.fmt(h.fmt_ratio),
            "<= 1.5",
            ratio_a.median <= 1.5,
        ],
        [
            "(1a) µs per loss over hand-written",
            per_loss.fmt(h.fmt_us),
            "<= 5",
            per_loss.median <= 5e-6,
        ],
        [
            "(1a) ratio to MMGeneration loop",
            vs_mmgen.fmt(h.fmt_ratio),
            "< 1",
            vs_mmgen.median < 1.0,
        ],
    ]
    if conv is not None:
        ratio_b = conv.ratio("ganlosscore", "hand-written")
        targets.append(
            [
                "(1b) ratio to hand-written",
                ratio_b.fmt(h.fmt_ratio),
                "<= 1.02",
                ratio_b.median <= 1.02,
            ]
        )
    print(h.targets(targets))
    if args.profile:
        steps = interval * (2 if quick else 100)
        print(f"\n### Profile of the tiny ganlosscore step (cProfile, {steps} steps)\n")
        print("cProfile's own cost inflates every figure; compare them with each other.\n")
        print(profile(tiny_variants["ganlosscore"], steps, args.profile))
    h.write_json(
        args.json,
        {"tiny": tiny.as_json(), "conv": conv.as_json() if conv is not None else None},
    )


if __name__ == "__main__":
    main()

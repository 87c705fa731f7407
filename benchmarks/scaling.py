"""5. Scaling: aggregation time as losses and hook implementations are added.

(a) An aggregator of n ``DiscShiftLoss`` terms (n = 1, 4, 16, 64, each under
its own name), against the same n terms written by hand (direct calls, a
sum, one ``.tolist()``). Linear means a constant cost per added loss: the
slope from 16 to 64 losses over the slope from 4 to 16 should be about 1.

(b) An aggregator of 4 losses whose plugin manager holds the core defaults
and k pass-through plugins (k = 0, 1, 4, 16, 64), each implementing
``ganloss_compute_loss`` (returns ``None``, so the default still computes
the loss: called once per loss) and ``ganloss_after_aggregate`` (an observer:
called once per aggregation). With k = 0 the aggregator calls the defaults
directly; from k = 1 on, pluggy calls the hooks. Linear means a constant
cost per added implementation.

Tiny tensors, so only overhead shows. CPU time, interleaved rounds (see
``_harness``).

Run: ``python benchmarks/scaling.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import _harness as h
import pluggy
import torch
from torch import Tensor

from ganlosscore import LossAggregator, build_loss, hookimpl, hookspecs

LOSS_COUNTS = (1, 4, 16, 64)
HOOK_COUNTS = (0, 1, 4, 16, 64)
HOOK_LOSSES = 4


def shift_losses(n: int) -> list[Any]:
    return [
        build_loss(
            {
                "type": "DiscShiftLoss",
                "loss_name": f"loss_term_{i:02d}",
                "data_info": {"pred": "pred"},
            }
        )
        for i in range(n)
    ]


def hand_written(pred: Tensor, n: int) -> h.Step:
    names = [f"loss_term_{i:02d}" for i in range(n)] + ["loss"]

    def step(i: int) -> object:
        values = [pred.pow(2).mean() for _ in range(n)]
        total = values[0]
        for v in values[1:]:
            total = total + v
        logged = torch.stack([v.detach() for v in values] + [total.detach()])
        return total, dict(zip(names, logged.tolist()))

    return step


def aggregated(aggregator: LossAggregator, pred: Tensor) -> h.Step:
    def step(i: int) -> object:
        return aggregator({"pred": pred, "iteration": i})

    return step


class PassThrough:
    """A plugin that watches every loss and every aggregation, changing nothing."""

    @hookimpl
    def ganloss_compute_loss(self, loss: Any) -> None:
        return None

    @hookimpl
    def ganloss_after_aggregate(self, result: Any) -> None:
        return None


def plugin_manager(implementations: int) -> pluggy.PluginManager:
    """The core's hookspecs and defaults, as ``get_plugin_manager`` builds them, plus k plugins."""
    from ganlosscore import defaults

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(defaults, name="ganlosscore.defaults")
    for j in range(implementations):
        pm.register(PassThrough(), name=f"pass-through-{j}")
    pm.check_pending()
    return pm


def slope(timings: h.Timings, names: list[str], xs: tuple[int, ...], a: int, b: int) -> list[float]:
    """Per round: seconds per unit added between ``xs[a]`` and ``xs[b]``."""
    low, high = timings.per_round[names[a]], timings.per_round[names[b]]
    return [(y - x) / (xs[b] - xs[a]) for x, y in zip(low, high)]


def last_slope_ratio(timings: h.Timings, names: list[str], xs: tuple[int, ...]) -> h.Spread:
    """Per round: the slope over the last interval divided by the slope over the one before.

    A linear cost gives 1; a cost growing faster than linearly, more.
    """
    n = len(xs)
    before = slope(timings, names, xs, n - 3, n - 2)
    last = slope(timings, names, xs, n - 2, n - 1)
    return h.Spread.of([b / a for a, b in zip(before, last)])


def slopes_table(what: str, counts: Sequence[int], slopes: Sequence[h.Spread]) -> str:
    """One row per step from ``counts[i]`` to ``counts[i + 1]``: what each added one costs."""
    rows = [[f"{counts[i]} → {counts[i + 1]}", s.fmt(h.fmt_us)] for i, s in enumerate(slopes)]
    return h.table(["from → to", what], rows)


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    h.set_threads(args.threads)
    rounds = args.rounds or (2 if args.quick else 100)
    loss_counts = (1, 4, 16) if args.quick else LOSS_COUNTS
    hook_counts = (0, 1, 2, 4) if args.quick else HOOK_COUNTS
    pred = torch.randn(4, 1).requires_grad_(True)

    # (a) losses
    variants: dict[str, h.Step] = {}
    for n in loss_counts:
        variants[f"hand {n}"] = hand_written(pred, n)
        variants[f"agg {n}"] = aggregated(LossAggregator(shift_losses(n), max_log_vars=128), pred)
    steps = 1 if args.quick else 8
    by_losses = h.time_interleaved(variants, rounds=rounds, steps=steps, seed=args.seed)
    rows_a = []
    for n in loss_counts:
        rows_a.append(
            [
                str(n),
                by_losses.spread(f"hand {n}").fmt(h.fmt_seconds),
                by_losses.spread(f"agg {n}").fmt(h.fmt_seconds),
                by_losses.ratio(f"agg {n}", f"hand {n}").fmt(h.fmt_ratio),
                by_losses.difference(f"agg {n}", f"hand {n}", n).fmt(h.fmt_us),
            ]
        )
    agg_names = [f"agg {n}" for n in loss_counts]
    per_loss = [
        h.Spread.of(slope(by_losses, agg_names, loss_counts, i, i + 1))
        for i in range(len(loss_counts) - 1)
    ]
    linearity_a = last_slope_ratio(by_losses, agg_names, loss_counts)

    # (b) hook implementations
    hook_variants: dict[str, h.Step] = {"hand": hand_written(pred, HOOK_LOSSES)}
    for k in hook_counts:
        aggregator = LossAggregator(shift_losses(HOOK_LOSSES), plugin_manager=plugin_manager(k))
        hook_variants[f"k {k}"] = aggregated(aggregator, pred)
    by_hooks = h.time_interleaved(hook_variants, rounds=rounds, steps=steps * 2, seed=args.seed)
    calls_per_impl = HOOK_LOSSES + 1
    rows_b = []
    for k in hook_counts:
        name = f"k {k}"
        rows_b.append(
            [
                str(k),
                by_hooks.spread(name).fmt(h.fmt_seconds),
                by_hooks.ratio(name, "k 0").fmt(h.fmt_ratio),
                by_hooks.ratio(name, "hand").fmt(h.fmt_ratio),
                "—"
                if k == 0
                else by_hooks.difference(name, "k 0", k * calls_per_impl).fmt(h.fmt_us),
            ]
        )
    k_names = [f"k {k}" for k in hook_counts]
    per_impl = [
        h.Spread.of(slope(by_hooks, k_names, hook_counts, i, i + 1))
        for i in range(1, len(hook_counts) - 1)
    ]
    linearity_b = last_slope_ratio(by_hooks, k_names, hook_counts)

    print(
        h.header(
            "5. Scaling",
            h.command_line("scaling.py"),
            [
                f"{rounds} rounds; CPU time per aggregation, median [interquartile range] over "
                "interleaved rounds; ratios and differences taken within a round.",
            ],
        )
    )
    print("\n### (a) number of losses\n")
    print(
        h.table(
            ["losses", "hand-written", "ganlosscore", "ratio", "µs per loss over hand-written"],
            rows_a,
        )
    )
    print()
    print(slopes_table("µs per added loss (ganlosscore)", loss_counts, per_loss))
    print(f"\n### (b) hook implementations ({HOOK_LOSSES} losses)\n")
    print(
        h.table(
            [
                "pass-through plugins",
                "time per aggregation",
                "ratio to none",
                "ratio to hand-written",
                "µs per implementation per hook call",
            ],
            rows_b,
        )
    )
    print()
    print(slopes_table("µs per added implementation (per aggregation)", hook_counts[1:], per_impl))
    last_a = f"{loss_counts[-3]}→{loss_counts[-2]}→{loss_counts[-1]}"
    last_b = f"{hook_counts[-3]}→{hook_counts[-2]}→{hook_counts[-1]}"
    print(
        h.targets(
            [
                [
                    f"losses: slope ratio {last_a}",
                    linearity_a.fmt(h.fmt_ratio),
                    "≈ 1 (linear; <= 1.25)",
                    linearity_a.median <= 1.25,
                ],
                [
                    f"hook implementations: slope ratio {last_b}",
                    linearity_b.fmt(h.fmt_ratio),
                    "≈ 1 (linear; <= 1.25)",
                    linearity_b.median <= 1.25,
                ],
            ],
        )
    )
    h.write_json(args.json, {"losses": by_losses.as_json(), "hooks": by_hooks.as_json()})


if __name__ == "__main__":
    main()

"""3. Distributed reduction: collectives per aggregation, and their time, on 2 gloo ranks.

Each rank aggregates 11 losses (``DiscShiftLoss`` under 11 names) and so
logs 12 values with the total. Four variants compute the same losses and
average every logged value over the ranks:

* ``per-key all_reduce``: hand-written losses, then one ``all_reduce`` and
  one ``.item()`` per logged value (the baseline);
* ``MMGeneration loop``: the same loss modules in MMGeneration's loop, then
  its ``_parse_losses`` (one ``all_reduce`` per value, too);
* ``stacked all_reduce``: hand-written losses, the values stacked into one
  tensor, one ``all_reduce``, one ``.tolist()``: the best plain code can do;
* ``ganlosscore``: a ``LossAggregator`` with the default hooks.

Collectives are counted by wrapping every collective of
``torch.distributed`` during one step of each variant. Time is wall-clock
per step on rank 0 (a collective waits for the other rank, so CPU time would
miss it), the ranks meeting at a barrier before every block.

Run: ``python benchmarks/distributed.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness as h

from ganlosscore.testing import run_ranks

WORLD = 2
LOSSES = 11  # + the total = 12 logged values
COLLECTIVES = (
    "all_reduce",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "broadcast",
    "broadcast_object_list",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "all_to_all",
    "gather",
    "scatter",
    "barrier",
)


def build_variants(rank: int) -> dict[str, Callable[[int], object]]:
    import torch
    import torch.distributed as dist
    from aggregation import mmgen_losses, mmgen_parse_losses

    from ganlosscore import build_aggregator

    names = [f"loss_term_{i:02d}" for i in range(LOSSES)]
    configs = [
        {"type": "DiscShiftLoss", "loss_name": n, "data_info": {"pred": "pred"}} for n in names
    ]
    agg = build_aggregator(configs, name="disc")
    # nonfinite="defer": nothing is read on the host unless log values are asked for
    deferred = build_aggregator(configs, name="disc", nonfinite="defer")
    pred = torch.full((4, 1), float(rank + 1)).requires_grad_(True)
    outputs = {"pred": pred, "iteration": 0}
    world = dist.get_world_size()
    log_names = [*names, "loss"]

    def hand_losses() -> tuple[Any, list[Any]]:
        values = [pred.pow(2).mean() for _ in names]
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total, [*values, total]

    def per_key(i: int) -> object:
        total, values = hand_losses()
        log_vars = {}
        for name, value in zip(log_names, values):
            buffer = value.detach().clone()
            dist.all_reduce(buffer.div_(world))
            log_vars[name] = buffer.item()
        return total, log_vars

    def stacked(i: int) -> object:
        total, values = hand_losses()
        buffer = torch.stack([v.detach() for v in values])
        dist.all_reduce(buffer)
        return total, dict(zip(log_names, (buffer / world).tolist()))

    def mmgen(i: int) -> object:
        return mmgen_parse_losses(mmgen_losses(agg.losses, outputs))

    def aggregator(i: int) -> object:
        return tuple(agg(outputs))

    def aggregator_unread(i: int) -> object:  # nonfinite="defer", log values never read
        return deferred(outputs).total, {}

    return {
        "per-key all_reduce": per_key,
        "MMGeneration loop": mmgen,
        "stacked all_reduce": stacked,
        "ganlosscore": aggregator,
        "ganlosscore, defer, not read": aggregator_unread,
    }


def count_collectives(step: Callable[[int], object]) -> dict[str, int]:
    import torch.distributed as dist

    counts: dict[str, int] = {}
    originals = {n: getattr(dist, n) for n in COLLECTIVES if hasattr(dist, n)}

    def counting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)

        return call

    for name, original in originals.items():
        setattr(dist, name, counting(name, original))
    try:
        step(0)
    finally:
        for name, original in originals.items():
            setattr(dist, name, original)
    return counts


def measure(rank: int, world: int, rounds: int, steps: int, seed: int) -> dict[str, Any]:
    """One rank's measurements (run by ``ganlosscore.testing.run_ranks``, in a gloo group)."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    variants = build_variants(rank)
    logged = {name: dict(step(0)[1]) for name, step in variants.items()}  # type: ignore[index]
    counts = {name: count_collectives(step) for name, step in variants.items()}
    # Every rank shuffles with the same seed, so collectives always pair up.
    timings = h.time_interleaved(
        variants,
        rounds=rounds,
        steps=steps,
        seed=seed,
        between_blocks=dist.barrier,
        clock=time.perf_counter,
    )
    return {"timings": timings.as_json(), "counts": counts, "logged": logged}


def launch(rounds: int, steps: int, seed: int) -> dict[str, Any]:
    # Spawned ranks leave with os._exit, as multiprocessing's children do: a
    # hand-started rank that went through the interpreter's teardown sometimes
    # aborted there ("terminate called without an active exception").
    results = run_ranks(measure, WORLD, args=(rounds, steps, seed), timeout=600)
    for result in results:
        if not result.ok:
            raise SystemExit(f"rank {result.rank} failed: {result}")
    return results[0].value  # type: ignore[no-any-return]


def main() -> None:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=None, help="steps per block (50)")
    args = p.parse_args()
    rounds = args.rounds or (3 if args.quick else 40)
    steps = args.steps or (5 if args.quick else 50)
    result = launch(rounds, steps, args.seed)
    timings = h.Timings(list(result["timings"]))
    timings.per_round.update(result["timings"])
    counts: dict[str, dict[str, int]] = result["counts"]
    logged: dict[str, dict[str, float]] = result["logged"]
    reference = logged["per-key all_reduce"]
    rows = []
    for name in timings.per_round:
        if not logged[name]:  # not read: nothing to compare
            same = None
        else:
            same = all(abs(logged[name][k] - v) < 1e-6 for k, v in reference.items())
        rows.append(
            [
                name,
                ", ".join(f"{n} x{c}" for n, c in counts[name].items()) or "none",
                timings.spread(name).fmt(h.fmt_seconds),
                timings.ratio(name, "per-key all_reduce").fmt(h.fmt_ratio),
                "—" if same is None else "yes" if same else "**no**",
            ]
        )
    ours = counts["ganlosscore"]
    # Reading log_vars: a fixed-size header (counts, key fingerprints, step), then the values.
    two = sum(ours.values()) == 2 and ours.get("all_reduce") == 2
    unread = sum(counts["ganlosscore, defer, not read"].values())
    ratio = timings.ratio("ganlosscore", "per-key all_reduce")
    print(
        h.header(
            "3. Distributed reduction",
            h.command_line("distributed.py"),
            [
                f"{WORLD} gloo ranks on this machine, {LOSSES} losses + the total = "
                f"{LOSSES + 1} logged values; {rounds} rounds of {steps} steps, "
                "wall-clock time per step on rank 0, median [interquartile range], ratios "
                "taken within a round.",
            ],
        )
    )
    print()
    print(
        h.table(
            [
                "variant",
                "collectives per step",
                "time per step",
                "ratio to per-key all_reduce",
                "same averaged values",
            ],
            rows,
        )
    )
    print(
        h.targets(
            [
                [
                    "collectives per aggregation whose log values are read",
                    str(sum(ours.values())),
                    "exactly 2 (header, values)",
                    two,
                ],
                [
                    "collectives per aggregation not read (defer)",
                    str(unread),
                    "0",
                    unread == 0,
                ],
                ["time ratio to per-key all_reduce", ratio.fmt(h.fmt_ratio), "(reported)", "—"],
            ],
        )
    )
    h.write_json(args.json, result)


if __name__ == "__main__":
    main()

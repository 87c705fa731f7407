"""The per-rank half of the LeCam sync_averages test (test_lecam.py), run by run_ranks.

Each rank feeds its own batches, of different sizes, to a LeCamRegularizer with
sync_averages=True and to one without, and reports the averages after each step.
"""

from __future__ import annotations

from typing import Any

# rank -> two steps of (disc_pred_real, disc_pred_fake); sizes differ between ranks
BATCHES = {
    0: [([1.0, 3.0], [-2.0]), ([0.0], [0.0])],
    1: [([5.0, 7.0, 9.0, 11.0], [-4.0, -6.0, -8.0]), ([2.0, 2.0, 2.0], [1.0])],
}


def run(rank: int, world: int) -> tuple[dict[str, list[Any]], list[int]]:
    """Each step's averages (synced and local) and losses, and the sizes of the collectives."""
    import torch
    from ganloss_regularizers import LeCamRegularizer

    from ganlosscore.testing import count_collectives

    with count_collectives() as sizes:
        synced, local = LeCamRegularizer(sync_averages=True), LeCamRegularizer()
        report: dict[str, list[Any]] = {"synced": [], "local": [], "losses": []}
        for real, fake in BATCHES[rank]:
            real_t, fake_t = torch.tensor(real), torch.tensor(fake)
            report["losses"].append(synced(real_t, fake_t).item())
            local(real_t, fake_t)
            for name, module in (("synced", synced), ("local", local)):
                report[name].append((module.ema_real.item(), module.ema_fake.item()))
    return report, sizes


# A lazy synced LeCam (interval=2) beside a loss computed every step, at three steps: both
# ranks skip it (iteration 1), both run it (iteration 2), and rank r at iteration r, a
# per-rank counter (rank 0 runs it, rank 1 skips it).
LAZY_ITERATIONS = {0: [1, 2, 0], 1: [1, 2, 1]}


def run_lazy(rank: int, world: int) -> list[tuple[str, Any]]:
    """Per step ("ok", (log_vars, averages)) or (error type, message), to the first error."""
    import torch

    from ganlosscore import build_aggregator
    from ganlosscore.testing import step_outcomes

    agg = build_aggregator(
        [
            dict(
                type="LeCamRegularizer",
                sync_averages=True,
                interval=2,
                data_info={"disc_pred_real": "real", "disc_pred_fake": "fake"},
            ),
            dict(type="DiscShiftLoss", data_info={"pred": "real"}),
        ]
    )
    (real, fake), lecam = BATCHES[rank][0], agg.losses[0]
    outputs = {"real": torch.tensor(real), "fake": torch.tensor(fake)}

    def step(iteration: int) -> tuple[dict[str, float], tuple[float, float]]:
        log_vars = agg({**outputs, "iteration": iteration}).log_vars
        return log_vars, (lecam.ema_real.item(), lecam.ema_fake.item())

    return step_outcomes(step, LAZY_ITERATIONS[rank])

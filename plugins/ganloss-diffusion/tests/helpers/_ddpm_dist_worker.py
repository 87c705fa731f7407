"""The body of each rank in test_distributed_logs.py, run by ganlosscore.testing.run_ranks.

Kept on sys.path by the test module; the spawned processes inherit that path.
"""

from __future__ import annotations

from typing import Any

# Rank r's batch: (timesteps, per-sample error e, so the per-sample MSE is e^2).
# The two ranks hold different timestep distributions (see the test for the sums).
BATCHES = {
    0: ([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0]),
    1: ([2, 5, 6, 7], [5.0, 6.0, 7.0, 8.0]),
}

LOG_CFGS = [
    # total 8: quartile floor(4t / 8) = floor(t / 2)
    dict(type="quartile", prefix_name="loss_mse", total_timesteps=8),
    # total 16: quartile floor(t / 4), logged as sums
    dict(type="quartile", prefix_name="loss_halves", total_timesteps=16, reduction="sum"),
]


def outputs_for(timesteps: list[int], errors: list[float]) -> dict[str, Any]:
    import torch

    n = len(errors)
    pred = torch.tensor(errors).reshape(n, 1, 1).expand(n, 2, 3).clone()
    return {"eps_t_pred": pred, "noise": torch.zeros(n, 2, 3), "timesteps": torch.tensor(timesteps)}


def run(rank: int, world: int) -> dict[str, Any]:
    """One aggregation of a DDPM loss with quartile logs, counting the collectives."""
    from ganlosscore import build_aggregator
    from ganlosscore.testing import count_collectives

    with count_collectives() as sizes:
        agg = build_aggregator(
            [dict(type="ganloss-diffusion:DDPMMSELoss", loss_weight=0.5, log_cfgs=LOG_CFGS)]
        )
        loss = agg.losses[0]
        result = agg(outputs_for(*BATCHES[rank]))
        log_vars = result.log_vars
    return {
        "extra": {k: float(v) for k, v in loss.extra_log_vars.items()},
        "log_vars": log_vars,
        "loss_calls": sizes[:2],  # the loss's collective (size header, buffer) comes first
        "collectives": len(sizes),
    }


# Lazy DDPM logs (interval=2) beside a loss computed every step, at three steps:
# both ranks skip it (iteration 1), both run it (iteration 2), and rank r at iteration r,
# a per-rank counter (rank 0 runs it, rank 1 skips it).
LAZY_ITERATIONS = {0: [1, 2, 0], 1: [1, 2, 1]}


def run_lazy(rank: int, world: int) -> list[tuple[str, Any]]:
    """Each step's outcome: ("ok", log_vars) or (error type, message), up to the first error."""
    from ganlosscore import build_aggregator
    from ganlosscore.testing import step_outcomes

    agg = build_aggregator(
        [
            dict(
                type="ganloss-diffusion:DDPMMSELoss",
                interval=2,
                data_info=dict(pred="eps_t_pred", target="noise"),
                log_cfgs=LOG_CFGS,
            ),
            dict(type="ganloss-diffusion:DDPMMSELoss", loss_name="loss_every_step"),
        ]
    )
    outputs = outputs_for(*BATCHES[rank])
    return step_outcomes(
        lambda it: agg({**outputs, "iteration": it}).log_vars, LAZY_ITERATIONS[rank]
    )

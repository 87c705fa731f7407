"""The quartile logs reach the aggregator's log_vars, and stay out of the total."""

import pytest
import torch

from ganlosscore import build_aggregator


def test_quartile_logs_reach_log_vars_not_the_total():
    aggregator = build_aggregator(
        [
            dict(
                type="ganloss-diffusion:DDPMMSELoss",
                log_cfgs=dict(type="quartile", prefix_name="loss_mse", total_timesteps=8),
            ),
            dict(
                type="ganloss-diffusion:EDMLoss", data_info={"denoiser": "net", "images": "noise"}
            ),
        ],
        name="denoising",
    )
    # sample n has error n + 1 everywhere: per-sample MSE 1, 4, 9, 16,
    # at timesteps 0, 1, 2, 7 of 8, i.e. quartiles 0, 0, 1, 3
    outputs = {
        "eps_t_pred": torch.arange(1.0, 5.0).reshape(4, 1, 1).expand(4, 2, 3),
        "noise": torch.zeros(4, 2, 3),
        "timesteps": torch.tensor([0, 1, 2, 7]),
        "net": lambda x, sigma: torch.zeros_like(x),
    }
    total, log_vars = aggregator(outputs)
    assert log_vars["loss_ddpm_mse"] == 7.5
    assert log_vars["mse_quartile_0"] == 2.5
    assert log_vars["mse_quartile_0_count"] == 2.0
    assert log_vars["mse_quartile_1"] == 9.0
    assert log_vars["mse_quartile_2"] == 0.0
    assert log_vars["mse_quartile_2_count"] == 0.0
    assert log_vars["mse_quartile_3"] == 16.0
    # the EDM loss of zero images is 0 whatever the denoiser: the total is the MSE alone
    assert log_vars["loss_edm"] == 0.0
    assert total.item() == pytest.approx(7.5)
    assert log_vars["loss"] == pytest.approx(7.5)
    assert sum(1 for k in log_vars if k.startswith("mse_quartile_")) == 8


def test_loss_weight_reaches_the_total_but_not_the_quartile_logs():
    aggregator = build_aggregator(
        [
            dict(
                type="ganloss-diffusion:DDPMMSELoss",
                loss_weight=0.1,
                log_cfgs=dict(type="quartile", total_timesteps=8),
            )
        ]
    )
    outputs = {
        "eps_t_pred": torch.arange(1.0, 5.0).reshape(4, 1, 1).expand(4, 2, 3),
        "noise": torch.zeros(4, 2, 3),
        "timesteps": torch.tensor([0, 1, 2, 7]),
    }
    total, log_vars = aggregator(outputs)
    # per-sample MSE 1, 4, 9, 16: mean 7.5, weighted 0.75
    assert total.item() == pytest.approx(0.75)
    assert log_vars["loss_ddpm_mse"] == pytest.approx(0.75)
    # the logs are the unweighted per-sample MSEs: quartile 0 = (1 + 4) / 2, quartile 3 = 16
    assert log_vars["ddpm_mse_quartile_0"] == 2.5
    assert log_vars["ddpm_mse_quartile_3"] == 16.0

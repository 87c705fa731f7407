"""Every loss of the package passes ganlosscore's conformance kit."""

import pytest
import torch
from ganloss_diffusion import DDPMMSELoss, DDPMVLBLoss, EDMLoss, VELoss, VPLoss

from ganlosscore.testing import check_loss

TIMESTEPS = torch.tensor([0, 3, 500, 999])


def mse_outputs(dtype):
    return {
        "eps_t_pred": torch.randn(4, 3, 4, 4, dtype=dtype, requires_grad=True),
        "noise": torch.randn(4, 3, 4, 4, dtype=dtype),
        "timesteps": TIMESTEPS.clone(),
    }


def vlb_outputs(dtype):
    x = torch.rand(4, 3, 4, 4, dtype=dtype) * 2 - 1
    x[0, 0, 0] = 1.0
    x[0, 0, 1] = -1.0
    return {
        "real_imgs": x,
        # the means are detached by the loss (only the variance is trained)
        "mean_pred": x + 0.05 * torch.randn(4, 3, 4, 4, dtype=dtype),
        "mean_target": x + 0.05 * torch.randn(4, 3, 4, 4, dtype=dtype),
        "logvar_pred": (torch.randn(4, 3, 4, 4, dtype=dtype) * 0.1 - 4).requires_grad_(True),
        "logvar_target": torch.randn(4, 3, 4, 4, dtype=dtype) * 0.1 - 4,
        "timesteps": TIMESTEPS.clone(),
    }


class TinyDenoiser(torch.nn.Module):
    """D(x; sigma) = c_skip x + c_out F(x) with a 1x1 convolution as F (EDM-style)."""

    def __init__(self, dtype):
        super().__init__()
        self.net = torch.nn.Conv2d(3, 3, 1).to(dtype)

    def forward(self, x, sigma, labels=None):
        c_skip = 0.25 / (sigma**2 + 0.25)
        c_out = sigma * 0.5 / (sigma**2 + 0.25).sqrt()
        return c_skip * x + c_out * self.net(x)


def edm_outputs(dtype):
    return {
        "denoiser": TinyDenoiser(dtype),
        "real_imgs": torch.randn(4, 3, 4, 4, dtype=dtype, requires_grad=True),
        "labels": torch.tensor([0, 1, 2, 3]),
    }


EDM_INFO = {"denoiser": "denoiser", "images": "real_imgs", "labels": "labels"}

CASES = {
    "DDPMMSELoss": (
        {
            "type": DDPMMSELoss,
            "data_info": {"pred": "eps_t_pred", "target": "noise", "timesteps": "timesteps"},
            "log_cfgs": {"type": "quartile", "total_timesteps": 1000},
        },
        mse_outputs,
    ),
    "DDPMMSELoss-timestep_weight": (
        {
            "type": DDPMMSELoss,
            "data_info": {"pred": "eps_t_pred", "target": "noise"},
            "rescale_mode": "timestep_weight",
            "weight": torch.linspace(0.5, 2.0, 1000),
            "rescale_cfg": {"scale": 4.0},
        },
        mse_outputs,
    ),
    "DDPMVLBLoss": (
        {
            "type": DDPMVLBLoss,
            "data_info": dict(DDPMVLBLoss.default_data_info),
            "rescale_mode": "constant",
            "rescale_cfg": {"scale": 4.0},
            "log_cfgs": [
                {"type": "quartile", "prefix_name": "loss_vlb", "total_timesteps": 1000},
                {"type": "name"},
            ],
        },
        vlb_outputs,
    ),
    "EDMLoss": ({"type": EDMLoss, "data_info": EDM_INFO}, edm_outputs),
    "VPLoss": ({"type": VPLoss, "data_info": EDM_INFO, "reduction": "batchmean"}, edm_outputs),
    "VELoss": ({"type": VELoss, "data_info": EDM_INFO}, edm_outputs),
}


@pytest.mark.parametrize("case", list(CASES))
def test_conformance(case):
    config, make_outputs = CASES[case]
    report = check_loss(config, make_outputs)
    assert "gradients" in report.passed

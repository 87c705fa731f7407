"""Every loss of the package passes ganlosscore's conformance kit."""

import pytest
import torch
from ganloss_pixelwise import (
    CharbonnierLoss,
    DiscretizedGaussianLogLikelihoodLoss,
    FeatureMatchingLoss,
    GaussianKLDLoss,
    GradientLoss,
    L1Loss,
    MaskedTVLoss,
    MSELoss,
    PerceptualLoss,
    PSNRLoss,
)

from ganlosscore.testing import check_loss

PIXEL_INFO = {"pred": "fake_imgs", "target": "real_imgs", "weight": "pixel_weight"}
KLD_INFO = {
    "mean_pred": "mean_pred",
    "mean_target": "mean_target",
    "logvar_pred": "logvar_pred",
    "logvar_target": "logvar_target",
}
PSNR_INFO = {"pred": "fake_imgs", "target": "real_imgs"}


def pixel_outputs(dtype):
    return {
        "fake_imgs": torch.randn(2, 3, 4, 4, dtype=dtype, requires_grad=True),
        "real_imgs": torch.randn(2, 3, 4, 4, dtype=dtype),
        "pixel_weight": torch.rand(2, 1, 4, 4, dtype=dtype),
    }


def gaussian_outputs(dtype):
    x = torch.rand(2, 3, 4, 4, dtype=dtype) * 2 - 1
    x[0, 0, 0] = 1.0  # edge bins too
    x[1, 0, 0] = -1.0
    return {
        "real_imgs": x,
        "mean_pred": (torch.randn(2, 3, 4, 4, dtype=dtype) * 0.1).requires_grad_(True),
        "mean_target": torch.randn(2, 3, 4, 4, dtype=dtype) * 0.1,
        "logvar_pred": (torch.randn(2, 3, 4, 4, dtype=dtype) * 0.1 - 3).requires_grad_(True),
        "logvar_target": torch.randn(2, 3, 4, 4, dtype=dtype) * 0.1 - 3,
        "gaussian_weight": torch.rand(2, 3, 4, 4, dtype=dtype),
    }


def gaussian_outputs_mean_fixed(dtype):
    # only_update_var detaches mean_pred by design: it is not a differentiable input
    outputs = gaussian_outputs(dtype)
    outputs["mean_pred"] = outputs["mean_pred"].detach()
    return outputs


def perceptual_outputs(dtype):
    net = torch.nn.Conv2d(3, 4, 3, padding=1).to(dtype)
    return {
        "fake_imgs": torch.randn(2, 3, 8, 8, dtype=dtype, requires_grad=True),
        "real_imgs": torch.randn(2, 3, 8, 8, dtype=dtype),
        "vgg": lambda x: {"conv": net(x), "relu": torch.relu(net(x))},
        "net": torch.nn.Sequential(net, torch.nn.ReLU()),
    }


def feature_outputs(dtype):
    shapes = [(2, 8, 4, 4), (2, 16, 2, 2), (2, 1)]
    return {
        "disc_feats_real": [torch.randn(s, dtype=dtype) for s in shapes],
        "disc_feats_fake": [torch.randn(s, dtype=dtype, requires_grad=True) for s in shapes],
    }


CASES = {
    "L1Loss": ({"type": L1Loss, "data_info": PIXEL_INFO}, pixel_outputs),
    "L1Loss-avg_factor": (
        {"type": L1Loss, "data_info": PIXEL_INFO, "avg_factor": 7.0},
        pixel_outputs,
    ),
    "MSELoss-flatmean": (
        {"type": MSELoss, "data_info": PIXEL_INFO, "reduction": "flatmean"},
        pixel_outputs,
    ),
    "CharbonnierLoss": ({"type": CharbonnierLoss, "data_info": PIXEL_INFO}, pixel_outputs),
    "MSELoss-sample_wise": (
        {"type": MSELoss, "data_info": PIXEL_INFO, "sample_wise": True},
        pixel_outputs,
    ),
    "GradientLoss": ({"type": GradientLoss, "data_info": PIXEL_INFO}, pixel_outputs),
    "MaskedTVLoss": (
        {"type": MaskedTVLoss, "data_info": {"pred": "fake_imgs", "mask": "pixel_weight"}},
        pixel_outputs,
    ),
    "PSNRLoss": ({"type": PSNRLoss, "data_info": PSNR_INFO}, pixel_outputs),
    "PSNRLoss-toY": ({"type": PSNRLoss, "data_info": PSNR_INFO, "toY": True}, pixel_outputs),
    "GaussianKLDLoss-weight": (
        {"type": GaussianKLDLoss, "data_info": {**KLD_INFO, "weight": "gaussian_weight"}},
        gaussian_outputs,
    ),
    "GaussianKLDLoss": (
        {"type": GaussianKLDLoss, "data_info": KLD_INFO, "base": "2"},
        gaussian_outputs,
    ),
    "GaussianKLDLoss-only_update_var": (
        {"type": GaussianKLDLoss, "data_info": KLD_INFO, "only_update_var": True},
        gaussian_outputs_mean_fixed,
    ),
    "DiscretizedGaussianLogLikelihoodLoss": (
        {
            "type": DiscretizedGaussianLogLikelihoodLoss,
            "data_info": {
                "x": "real_imgs",
                "mean": "mean_pred",
                "logvar": "logvar_pred",
                "weight": "gaussian_weight",
            },
            "reduction": "batchmean",
        },
        gaussian_outputs,
    ),
    "PerceptualLoss-input-extractor": (
        {
            "type": PerceptualLoss,
            "data_info": {"pred": "fake_imgs", "target": "real_imgs", "feature_extractor": "vgg"},
            "style_weight": 10.0,
        },
        perceptual_outputs,
    ),
    "PerceptualLoss-module-input": (
        {
            "type": PerceptualLoss,
            "data_info": {"pred": "fake_imgs", "target": "real_imgs", "feature_extractor": "net"},
            "criterion": "mse",
        },
        perceptual_outputs,
    ),
    "PerceptualLoss-constructor-extractor": (
        {
            "type": PerceptualLoss,
            "data_info": {"pred": "fake_imgs", "target": "real_imgs"},
            "feature_extractor": torch.nn.Conv2d(3, 4, 3).double(),
            "layer_weights": {0: 1.0},
            "style_weight": 1.0,
        },
        perceptual_outputs,
    ),
    "FeatureMatchingLoss": (
        {
            "type": FeatureMatchingLoss,
            "data_info": {"real_feats": "disc_feats_real", "fake_feats": "disc_feats_fake"},
        },
        feature_outputs,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_conformance(case):
    config, make_outputs = CASES[case]
    kwargs = {}
    if case == "PerceptualLoss-constructor-extractor":
        # the constructor's module has one dtype (float64), so only that dtype is checked
        kwargs["dtypes"] = (torch.float64,)
    report = check_loss(config, make_outputs, **kwargs)
    assert "gradients" in report.passed

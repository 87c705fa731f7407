"""LatentConsistencyLoss (zCR): hand-derived values, StudioGAN's terms, the protocol."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from ganloss_regularizers.latent_consistency import LatentConsistencyLoss

from ganlosscore import GanLossError, build_loss
from ganlosscore.testing import CHECKS, check_loss


def test_values():
    # mean((1 - 1)^2, (2 - 4)^2) = 2, the discriminator's; the generator's is its negative.
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0])
    assert LatentConsistencyLoss("disc")(a, b).item() == 2.0
    assert LatentConsistencyLoss("gen")(a, b).item() == -2.0


def test_terms_are_studiogans():
    # StudioGAN apply_zcr: D += d_lambda * MSE(D(G(z)), D(G(z + eps)));
    # G += g_lambda * -MSE(G(z), G(z + eps)), MSE the mean over every element.
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 3, 2, 2, generator=gen), torch.randn(4, 3, 2, 2, generator=gen)
    d = LatentConsistencyLoss("disc", loss_weight=5.0)
    g = LatentConsistencyLoss("gen", loss_weight=0.5)
    torch.testing.assert_close(d(a, b), 5.0 * F.mse_loss(a, b))
    torch.testing.assert_close(g(a, b), -0.5 * F.mse_loss(a, b))


def test_generator_gradient_pushes_the_outputs_apart():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    LatentConsistencyLoss("gen")(a, torch.tensor([1.0, 4.0])).backward()
    # d/da -mean((a - b)^2) = -(a - b) = [0, 2]: descent moves a[1] from 2 away from 4.
    assert torch.equal(a.grad, torch.tensor([0.0, 2.0]))


def test_errors():
    with pytest.raises(GanLossError, match="same shape"):
        LatentConsistencyLoss()(torch.zeros(2), torch.zeros(3))
    with pytest.raises(GanLossError, match="must be one of 'disc', 'gen'"):
        build_loss({"type": "LatentConsistencyLoss", "network": "generator"})


def outputs(dtype):
    return {
        "fake": torch.randn(4, 3, dtype=dtype, requires_grad=True),
        "fake_eps": torch.randn(4, 3, dtype=dtype, requires_grad=True),
    }


@pytest.mark.parametrize("network", ["disc", "gen"])
def test_conformance(network):
    config = {
        "type": "LatentConsistencyLoss",
        "network": network,
        "data_info": {"output": "fake", "output_perturbed": "fake_eps"},
    }
    assert set(check_loss(config, outputs).passed) == set(CHECKS)

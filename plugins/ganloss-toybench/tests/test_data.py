"""The two mixtures: where their modes are, how wide."""

from __future__ import annotations

import math

import pytest
import torch
from ganloss_toybench import DATASETS, grid, ring


def test_ring_has_eight_distinct_modes_at_multiples_of_45_degrees():
    centres = ring().centre_tensor(torch.float64)
    assert centres.shape == (8, 2)
    for k in range(8):
        angle = 2 * math.pi * k / 8
        assert centres[k].tolist() == pytest.approx([2 * math.cos(angle), 2 * math.sin(angle)])
    assert centres.norm(dim=1).tolist() == pytest.approx([2.0] * 8)
    # Neighbours on a radius-2 circle 45 degrees apart are a chord 2 * 2 * sin(pi / 8)
    # = 1.5307 apart; linspace(0, 2 pi, 8) would repeat the first mode (distance 0).
    distances = torch.cdist(centres, centres) + torch.eye(8) * 100
    assert distances.min().item() == pytest.approx(4 * math.sin(math.pi / 8))
    assert ring().std == 0.02


def test_grid_has_25_modes_on_the_lattice():
    data = grid()
    assert data.num_modes == 25
    expected = {(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)}
    assert set(data.centres) == expected
    assert data.std == 0.05


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_spread_sigma_around_their_modes(name):
    # Each coordinate of (sample - nearest centre) is N(0, sigma^2); with 20000
    # samples the sample standard deviation is within 2% of sigma.
    data = DATASETS[name]
    x = data.sample(20000, torch.Generator().manual_seed(1))
    centres = data.centre_tensor()
    nearest = centres[torch.cdist(x, centres).argmin(dim=1)]
    assert (x - nearest).std().item() == pytest.approx(data.std, rel=0.02)
    # every mode drawn about 1/K of the time (binomial, 5 standard deviations)
    counts = torch.bincount(torch.cdist(x, centres).argmin(dim=1), minlength=data.num_modes)
    p = 1 / data.num_modes
    assert (counts - 20000 * p).abs().max() < 5 * math.sqrt(20000 * p * (1 - p))


def test_same_generator_seed_same_samples():
    a = ring().sample(5, torch.Generator().manual_seed(3))
    b = ring().sample(5, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)

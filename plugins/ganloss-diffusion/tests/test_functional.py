"""Quartile bookkeeping, by hand."""

import torch
from ganloss_diffusion import functional as F


def test_quartile_index():
    # floor(4t / T) for T = 1000, clamped into [0, 3]
    t = torch.tensor([0, 249, 250, 499, 500, 749, 750, 999, 1000])
    assert F.quartile_index(t, 1000).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    # a process of 10 steps: floor(4t / 10)
    assert F.quartile_index(torch.arange(10), 10).tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3]


def test_quartile_index_of_continuous_time():
    t = torch.tensor([0.0, 0.24, 0.25, 0.6, 0.99])
    assert F.quartile_index(t, 1).tolist() == [0, 0, 1, 2, 3]


def test_grouped_sum_and_count():
    sums, counts = F.grouped_sum_and_count(
        torch.tensor([1.0, 2.0, 4.0, 8.0]), torch.tensor([3, 0, 3, 3]), 4
    )
    assert sums.tolist() == [2.0, 0.0, 0.0, 13.0]
    assert counts.tolist() == [1.0, 0.0, 0.0, 3.0]

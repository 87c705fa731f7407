"""The mode metrics on samples whose answer is known by hand."""

from __future__ import annotations

import math

import pytest
import torch
from ganloss_toybench import DATASETS, mode_metrics, reverse_kl_to_uniform
from ganloss_toybench.metrics import frechet_distance, histogram_metrics, image_metrics

RING = DATASETS["ring"]
GRID = DATASETS["grid"]


def ring_centres() -> torch.Tensor:
    return RING.centre_tensor(torch.float64)


def test_samples_exactly_on_five_of_eight_ring_modes():
    # 100 samples on each of modes 0, 1, 3, 5, 6: every sample is at distance 0
    # from a mode, so all are high quality; 5 modes are hit, each by 1/5 of the
    # high-quality samples, so KL(p || u) = 5 * (1/5) * log((1/5) * 8) = log(8/5).
    centres = ring_centres()
    samples = centres[[0, 1, 3, 5, 6]].repeat_interleave(100, dim=0)
    m = mode_metrics(samples, centres, RING.std)
    assert m.modes == 5
    assert m.num_modes == 8
    assert m.high_quality == 1.0
    assert m.reverse_kl == pytest.approx(math.log(8 / 5), abs=1e-12)
    assert m.counts == (100, 100, 0, 100, 0, 100, 100, 0)
    assert m.num_samples == 500


def test_every_mode_evenly_gives_zero_reverse_kl():
    # p_k = 1/8 for every k: sum 1/8 * log(8/8) = 0.
    centres = ring_centres()
    m = mode_metrics(centres.repeat(3, 1), centres, RING.std)
    assert (m.modes, m.high_quality, m.reverse_kl) == (8, 1.0, 0.0)


def test_uneven_histogram():
    # 3 samples on grid mode 0, 1 on mode 24: p = (3/4, 1/4) on K = 25 modes, so
    # KL = 3/4 log(25 * 3/4) + 1/4 log(25 * 1/4).
    centres = GRID.centre_tensor(torch.float64)
    samples = centres[[0, 0, 0, 24]]
    m = mode_metrics(samples, centres, GRID.std)
    expected = 0.75 * math.log(25 * 0.75) + 0.25 * math.log(25 * 0.25)
    assert m.modes == 2
    assert m.reverse_kl == pytest.approx(expected, abs=1e-12)


def test_samples_far_from_every_mode_are_low_quality():
    # The ring's centre is 2 from every mode, 2 / 0.02 = 100 sigma: no sample is
    # high quality, no mode is captured, and the histogram is empty (KL undefined).
    samples = torch.zeros(50, 2)
    m = mode_metrics(samples, ring_centres(), RING.std)
    assert (m.modes, m.high_quality, m.reverse_kl) == (0, 0.0, None)
    assert m.counts == (0,) * 8


def test_three_sigma_boundary_and_nearest_mode():
    # Ring mode 0 is (2, 0), sigma = 0.02, so 3 sigma = 0.06. Offsets along the
    # radius: 0.059 and -0.0599 are inside, 0.061 and 0.2 are outside; the point
    # (0, 1.95) is 0.05 from mode 2 at (0, 2) and counts for mode 2 only.
    centres = ring_centres()
    samples = torch.tensor(
        [[2.059, 0.0], [2 - 0.0599, 0.0], [2.061, 0.0], [2.2, 0.0], [0.0, 1.95]],
        dtype=torch.float64,
    )
    m = mode_metrics(samples, centres, RING.std)
    assert m.high_quality == pytest.approx(3 / 5)
    assert m.counts == (2, 0, 1, 0, 0, 0, 0, 0)
    assert m.modes == 2


def test_low_quality_samples_do_not_capture_their_nearest_mode():
    # 0.1 from grid mode (0, 0) is 2 sigma (HQ); 0.2 from (4, 4) is 4 sigma (not).
    centres = GRID.centre_tensor(torch.float64)
    samples = torch.tensor([[0.1, 0.0], [4.2, 4.0]], dtype=torch.float64)
    m = mode_metrics(samples, centres, GRID.std)
    assert m.modes == 1
    assert m.high_quality == 0.5
    assert m.reverse_kl == pytest.approx(math.log(25))  # all mass on one of 25 modes


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_real_data_scores_the_gaussian_three_sigma_mass(name):
    # For an isotropic 2-D Gaussian, |x - mu|^2 / sigma^2 is chi-square with 2
    # degrees of freedom, so P(|x - mu| < 3 sigma) = 1 - exp(-9/2) = 0.98889.
    # Modes are 1.5 (ring) or 2 (grid) apart, so no sample is nearer another mode.
    # 20000 samples: standard error sqrt(0.011 * 0.989 / 20000) = 0.0007.
    data = DATASETS[name]
    samples = data.sample(20000, torch.Generator().manual_seed(0))
    m = mode_metrics(samples, data.centre_tensor(), data.std)
    assert m.modes == data.num_modes
    assert m.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.004)
    assert m.reverse_kl is not None and m.reverse_kl < 0.01


def test_reverse_kl_of_counts():
    # Counts (2, 0, 2, 0): p = (1/2, 1/2) on 2 of K = 4 modes: log(4 / 2).
    assert reverse_kl_to_uniform(torch.tensor([2, 0, 2, 0])) == pytest.approx(math.log(2))
    assert reverse_kl_to_uniform(torch.tensor([0, 0])) is None


# -- the digits' metrics: PacGAN's histogram over all samples, the Frechet distance ---------


def test_every_mode_equally_often_gives_all_modes_and_zero_kl():
    # 26 samples of each of 1,000 modes: p_k = 1/1000, KL = sum 1/1000 log(1000/1000) = 0
    modes = torch.arange(1000).repeat(26)
    m = histogram_metrics(modes, 1000, torch.ones(26000, dtype=torch.bool))
    assert (m.modes, m.num_modes, m.num_samples, m.high_quality) == (1000, 1000, 26000, 1.0)
    assert m.reverse_kl == pytest.approx(0.0, abs=1e-12)


def test_one_mode_gives_log_k():
    # all mass on one of 1,000 modes: KL = 1 * log(1000 * 1) = log 1000 = 6.9078
    m = histogram_metrics(torch.full((26000,), 417), 1000, torch.zeros(26000, dtype=torch.bool))
    assert m.modes == 1 and m.counts[417] == 26000 and m.high_quality == 0.0
    assert m.reverse_kl == pytest.approx(math.log(1000), abs=1e-12)


def test_half_the_modes_gives_log_2():
    # 500 of 1,000 modes, evenly: p_k = 1/500 on each, KL = log(1000 / 500) = log 2;
    # a quarter of the samples confident
    modes = torch.arange(0, 1000, 2).repeat(52)
    confident = torch.arange(26000) % 4 == 0
    m = histogram_metrics(modes, 1000, confident)
    assert m.modes == 500 and m.high_quality == 0.25
    assert m.reverse_kl == pytest.approx(math.log(2), abs=1e-12)


def test_sampling_alone_gives_about_k_minus_1_over_2n():
    # N uniform draws over K modes: E[KL] ~ (K - 1) / (2N) = 999 / 52000 = 0.0192
    draws = torch.randint(1000, (26000,), generator=torch.Generator().manual_seed(0))
    kl = histogram_metrics(draws, 1000, torch.ones(26000, dtype=torch.bool)).reverse_kl
    assert kl == pytest.approx(999 / 52000, rel=0.15)


def test_frechet_distance_of_known_gaussians():
    # Two samples with exactly mean 0 and covariance I (rows of +-sqrt(n-1) e_i ...):
    # build a with mean 0, cov diag(1, 4); b = a shifted by (3, 4), cov the same:
    # FD = |(3, 4)|^2 + tr(S + S - 2 S) = 25.
    base = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]], dtype=torch.float64)
    assert frechet_distance(base, base + torch.tensor([3.0, 4.0])) == pytest.approx(25.0)
    # Scaling b by 2: cov_b = 4 cov_a; with commuting (diagonal) covariances the trace term
    # is sum (sqrt(a_i) - sqrt(b_i))^2 = sum (sqrt(a_i) - 2 sqrt(a_i))^2 = tr(cov_a).
    cov_a = torch.cov(base.T)  # diag(2/3, 8/3) (4 points, n - 1 = 3)
    assert frechet_distance(base, 2 * base) == pytest.approx(float(torch.trace(cov_a)))
    assert frechet_distance(base, base) == pytest.approx(0.0, abs=1e-12)


def test_frechet_distance_matches_the_matrix_square_root_formula():
    # Non-commuting covariances: against tr(sqrtm(S_a S_b)) computed with scipy.
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 5, generator=g, dtype=torch.float64) @ torch.randn(
        5, 5, generator=g, dtype=torch.float64
    )
    b = torch.randn(300, 5, generator=g, dtype=torch.float64) + 1.0
    sa, sb = torch.cov(a.T).numpy(), torch.cov(b.T).numpy()
    root = scipy_linalg.sqrtm(sa @ sb).real
    expected = float(((a.mean(0) - b.mean(0)) ** 2).sum()) + float(
        sa.trace() + sb.trace() - 2 * root.trace()
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_image_metrics_joins_both():
    features = torch.eye(4, dtype=torch.float64)
    m = image_metrics(
        torch.tensor([1, 2, 3, 3]),
        torch.tensor([0.95, 0.5, 0.99, 0.91]),
        features,
        features,
        10,
    )
    assert (m.modes, m.high_quality, m.frechet_distance) == (3, 0.75, pytest.approx(0.0, abs=1e-12))
    assert m.to_dict()["frechet_distance"] == m.frechet_distance

"""The statistical bounds hold at their stated failure probability (checked by simulation)."""

import math

import numpy as np

from grader.kit import ALPHA, chernoff_lower, dkw, hoeffding, ks_on_grid, normal_cdf, uniform_cdf


def test_hoeffding_and_dkw_shrink_like_one_over_the_square_root_of_n():
    assert hoeffding(400) == dkw(400) == math.sqrt(math.log(2 / ALPHA) / 800)
    assert hoeffding(1600) == hoeffding(400) / 2
    assert hoeffding(100, alpha=0.05) < hoeffding(100)


def test_hoeffdings_bound_is_rarely_exceeded_by_fair_coins():
    rng = np.random.default_rng(0)
    n, alpha = 200, 0.05
    means = rng.integers(0, 2, size=(20_000, n)).mean(axis=1)
    assert np.mean(np.abs(means - 0.5) > hoeffding(n, alpha)) <= alpha


def test_the_chernoff_lower_bound_is_below_the_mean_and_rarely_undershot():
    rng = np.random.default_rng(1)
    mu, alpha = 100.0, 0.01
    c = chernoff_lower(mu, alpha)
    assert 0 < c < mu
    sums = rng.binomial(1000, mu / 1000, size=50_000)
    assert np.mean(sums < c) <= alpha


def test_cdfs_and_the_grid_distance_of_the_right_distribution_stay_within_dkw():
    assert normal_cdf(0.0, 2.0) == 0.5 and uniform_cdf(-3.0, 1.0) == 0.0 and uniform_cdf(0.5, 1.0) == 0.75
    rng = np.random.default_rng(2)
    samples = rng.normal(0, 2, size=5000)
    grid = np.linspace(-8, 8, 401)
    distance, where = ks_on_grid(samples, normal_cdf(grid, 2.0), grid)
    assert distance <= dkw(5000, 1e-6) and -8 <= where <= 8
    wrong, _ = ks_on_grid(samples, normal_cdf(grid, 1.0), grid)
    assert wrong > dkw(5000, 1e-6)

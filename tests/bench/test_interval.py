"""The bootstrap interval printed beside a p99: it covers the true percentile, narrows with more samples, and is
the same for the same samples."""

from __future__ import annotations

import math

import numpy as np

from edge_runtime.bench._interval import interval, ratio_interval

TRUE_P99 = math.log(100)  # of an exponential distribution with mean 1


def test_the_interval_covers_the_true_p99_and_narrows_with_more_samples() -> None:
    rng = np.random.default_rng(7)
    few, many = rng.exponential(size=300), rng.exponential(size=20_000)
    few_low, few_high = interval(few)
    many_low, many_high = interval(many)
    assert few_low < TRUE_P99 < few_high
    assert many_low < TRUE_P99 < many_high
    assert many_high - many_low < (few_high - few_low) / 3
    assert interval(few) == (few_low, few_high)  # seeded: the same samples, the same interval


def test_constant_samples_have_no_spread_and_none_have_no_interval() -> None:
    assert interval(np.full(50, 2.5)) == (2.5, 2.5)
    assert interval(np.array([])) == (0.0, 0.0)
    assert ratio_interval(np.array([]), np.ones(3)) == (0.0, 0.0)


def test_a_ratio_of_two_samples_of_one_distribution_straddles_one() -> None:
    rng = np.random.default_rng(11)
    low, high = ratio_interval(rng.exponential(size=600), rng.exponential(size=600))
    assert low < 1.0 < high
    low, high = ratio_interval(2.0 * rng.exponential(size=5000), rng.exponential(size=5000))
    assert 1.5 < low < 2.0 < high < 2.6

"""PSR / DSR / expected maximum Sharpe against the papers' formulas, their example and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from trademl.validation.dsr import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_ratio_standard_error,
)


def test_deflated_sharpe_ratio_reproduces_the_papers_numerical_example():
    """Bailey & López de Prado, "The Deflated Sharpe Ratio", JPM 40(5), 2014, numerical example:
    best of N = 100 independent trials with annualised SR 2.5 over T = 1250 daily returns, variance
    of the trials' annualised SRs 1/2, skewness -3, kurtosis 10. Per day: SR = 2.5 / sqrt(250) =
    0.1581, V = 0.5 / 250. The paper obtains SR_0 = 0.1132 (per day) and DSR = 0.9004."""
    sr_daily = 2.5 / math.sqrt(250)
    variance_daily = 0.5 / 250
    assert expected_max_sharpe(100, variance_daily) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(
        sr_daily, n_obs=1250, skew=-3.0, kurtosis=10.0, n_trials=100, sr_variance=variance_daily
    )
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_psr_with_normal_returns_uses_lo_2002_standard_error():
    """Skew 0, kurtosis 3: the 2012 paper's PSR denominator reduces to sqrt(1 + SR^2/2), i.e.
    Lo's (2002) iid-normal Sharpe standard error sqrt((1 + SR^2/2) / (T - 1))."""
    sr, sr_star, n = 0.12, 0.05, 400
    expected = norm.cdf((sr - sr_star) * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2))
    assert probabilistic_sharpe_ratio(sr, sr_star, n, 0.0, 3.0) == pytest.approx(expected, rel=1e-12)


def test_psr_equals_one_half_when_the_estimate_equals_the_benchmark():
    assert probabilistic_sharpe_ratio(0.2, 0.2, 100, -1.0, 6.0) == pytest.approx(0.5)


def test_negative_skew_and_fat_tails_lower_psr_for_a_positive_excess_sharpe():
    """2012 paper, sec. 3: PSR decreases with negative skewness and with higher kurtosis."""
    normal = probabilistic_sharpe_ratio(0.1, 0.0, 250, 0.0, 3.0)
    skewed = probabilistic_sharpe_ratio(0.1, 0.0, 250, -2.0, 3.0 + 6.0)
    assert skewed < normal


def test_sharpe_standard_error_matches_monte_carlo_for_skewed_fat_tailed_returns():
    """Returns r = 0.3 - (E - 1), E ~ Exponential(1): mean 0.3, std 1, skew -2, kurtosis 9. The
    dispersion of the estimated Sharpe over 4000 samples of 500 returns must match the non-normal
    formula (within 6 %) and not the normal one (which is ~23 % too small)."""
    rng = np.random.default_rng(20240601)
    sample = 0.3 - (rng.exponential(1.0, size=(4000, 500)) - 1.0)
    estimates = sample.mean(axis=1) / sample.std(axis=1, ddof=1)
    simulated = estimates.std(ddof=1)
    assert sharpe_ratio_standard_error(0.3, 500, -2.0, 9.0) == pytest.approx(simulated, rel=0.06)
    assert sharpe_ratio_standard_error(0.3, 500, 0.0, 3.0) < 0.8 * simulated


@pytest.mark.parametrize(("n_trials", "rel"), [(10, 0.03), (100, 0.015), (1000, 0.01)])
def test_expected_max_sharpe_matches_monte_carlo_maximum_of_normal_trials(n_trials, rel):
    """E[max] of N iid N(0, V) Sharpe ratios, simulated, vs the DSR paper's Gumbel approximation
    (its error shrinks with N: about 2.3 % at N = 10, 0.3 % at N = 1000)."""
    rng = np.random.default_rng(n_trials)
    variance = 0.04
    draws = rng.normal(0.0, math.sqrt(variance), size=(200_000 // n_trials * 10, n_trials))
    simulated = draws.max(axis=1).mean()
    assert expected_max_sharpe(n_trials, variance) == pytest.approx(simulated, rel=rel)


def test_expected_max_sharpe_is_zero_for_a_single_trial_and_scales_with_the_sr_std():
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 4.0) == pytest.approx(2.0 * expected_max_sharpe(50, 1.0))


def test_dsr_with_one_trial_is_the_psr_against_zero():
    assert deflated_sharpe_ratio(0.1, 500, -0.5, 4.0, 1, 0.01) == pytest.approx(
        probabilistic_sharpe_ratio(0.1, 0.0, 500, -0.5, 4.0)
    )


def test_more_trials_deflate_the_same_sharpe_further():
    values = [deflated_sharpe_ratio(0.1, 1000, 0.0, 3.0, n, 0.001) for n in (2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0), "n_obs must be at least 2"),
        (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 100.5, 0.0, 3.0), "n_obs must be an integer"),
        (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 100, 0.0, 0.0), "NON-excess kurtosis"),
        (lambda: probabilistic_sharpe_ratio(0.1, 0.0, 100, 2.0, 4.0), "NON-excess kurtosis"),
        (lambda: probabilistic_sharpe_ratio(float("nan"), 0.0, 100, 0.0, 3.0), "sr must be a finite"),
        (lambda: probabilistic_sharpe_ratio(2.0, 0.0, 100, 1.0, 2.0), "non-positive Sharpe variance"),
        (lambda: expected_max_sharpe(0, 0.1), "n_trials must be at least 1"),
        (lambda: expected_max_sharpe(10, -0.1), "sr_variance must be non-negative"),
    ],
)
def test_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------------
# Agreement with skfolio.measures (an independent implementation of both papers). The moments are
# taken from skfolio's own estimators so that both sides see the same SR, skew and kurtosis.
# ---------------------------------------------------------------------------------------------
def _skewed_returns(seed: int, n: int = 750) -> np.ndarray:
    """Daily-like returns with negative skew and fat tails: 0.0004 - 0.01 * (Exponential(1) - 1)."""
    return 0.0004 - 0.01 * (np.random.default_rng(seed).exponential(1.0, n) - 1.0)


@pytest.mark.parametrize("benchmark", [0.0, 0.02, 0.08])
def test_psr_matches_skfolio_on_skewed_fat_tailed_returns(benchmark):
    from skfolio import measures

    returns = _skewed_returns(7)
    sr = float(measures.mean(returns) / measures.standard_deviation(returns))
    ours = probabilistic_sharpe_ratio(
        sr, benchmark, returns.size, float(measures.skew(returns)), float(measures.kurtosis(returns))
    )
    assert ours == pytest.approx(measures.probabilistic_sharpe_ratio(returns, benchmark), rel=1e-12)


@pytest.mark.parametrize("n_trials", [5, 20, 250])
def test_expected_max_sharpe_and_dsr_match_skfolio(n_trials):
    from skfolio import measures

    trial_srs = np.random.default_rng(n_trials).normal(0.0, 0.02, n_trials)
    variance = float(measures.standard_deviation(trial_srs)) ** 2
    assert expected_max_sharpe(n_trials, variance) == pytest.approx(
        measures.expected_max_sharpe_ratio(n_trials, math.sqrt(variance)), rel=1e-12
    )
    returns = _skewed_returns(n_trials)
    sr = float(measures.mean(returns) / measures.standard_deviation(returns))
    ours = deflated_sharpe_ratio(
        sr,
        returns.size,
        float(measures.skew(returns)),
        float(measures.kurtosis(returns)),
        n_trials,
        variance,
    )
    assert ours == pytest.approx(measures.deflated_sharpe_ratio(returns, trial_srs), rel=1e-12)

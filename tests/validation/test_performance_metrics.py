"""Performance metrics: hand-computed values, independent references (statistics, scipy, pandas)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr, spearmanr

from trademl.validation.metrics import (
    cum_return,
    hit_rate,
    information_coefficient,
    max_drawdown,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    sqn,
    turnover,
    win_rate,
)

RETURNS = [0.01, -0.02, 0.015, 0.003, -0.004, 0.02]

returns_lists = st.lists(
    st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False), min_size=2, max_size=60
)


def test_sharpe_is_mean_over_sample_std_per_period():
    expected = statistics.mean(RETURNS) / statistics.stdev(RETURNS)
    assert sharpe_ratio(RETURNS) == pytest.approx(expected, rel=1e-12)


def test_sharpe_annualises_by_square_root_of_periods_per_year():
    assert sharpe_ratio(RETURNS, periods_per_year=252) == pytest.approx(
        sharpe_ratio(RETURNS) * math.sqrt(252)
    )


def test_sharpe_skips_missing_periods():
    assert sharpe_ratio([np.nan, *RETURNS, np.nan]) == pytest.approx(sharpe_ratio(RETURNS))


def test_sharpe_of_a_constant_series_divides_by_eps_instead_of_zero():
    assert sharpe_ratio([0.001] * 5, eps=1e-6) == pytest.approx(0.001 / 1e-6)
    assert sharpe_ratio([0.0] * 5) == 0.0


@settings(max_examples=200, deadline=None)
@given(returns=returns_lists, scale=st.floats(0.01, 100.0))
def test_sharpe_is_invariant_to_positive_scaling(returns, scale):
    assume(np.std(returns, ddof=1) > 1e-6)
    scaled = [scale * r for r in returns]
    assert sharpe_ratio(scaled) == pytest.approx(sharpe_ratio(returns), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(returns=returns_lists)
def test_sharpe_flips_sign_with_the_returns(returns):
    assume(np.std(returns, ddof=1) > 1e-6)
    assert sharpe_ratio([-r for r in returns]) == pytest.approx(-sharpe_ratio(returns), abs=1e-12)


def test_sortino_divides_excess_mean_by_root_mean_squared_shortfall():
    """r = [0.02, -0.01, 0.03, -0.02]: mean 0.005, downside sqrt((0.01^2 + 0.02^2) / 4) = 0.01118.
    Against target 0.01 the shortfalls are 0.02 and 0.03: downside sqrt(0.0013 / 4) = 0.01803."""
    r = [0.02, -0.01, 0.03, -0.02]
    assert sortino_ratio(r) == pytest.approx(0.005 / math.sqrt(0.0005 / 4), rel=1e-12)
    assert sortino_ratio(r, target=0.01) == pytest.approx(
        (0.005 - 0.01) / math.sqrt((0.02**2 + 0.03**2) / 4), rel=1e-12
    )


def test_max_drawdown_hand_example():
    """Equity 1.1, 0.88, 0.924, 0.8316, 1.08108: worst fall 0.8316 / 1.1 - 1 = -24.4 %."""
    assert max_drawdown([0.1, -0.2, 0.05, -0.1, 0.3]) == pytest.approx(1 - 0.8316 / 1.1, rel=1e-12)


def test_max_drawdown_counts_a_loss_in_the_first_period_from_the_starting_equity():
    assert max_drawdown([-0.5, 0.1]) == pytest.approx(0.5)
    assert max_drawdown([0.01, 0.02]) == 0.0


def test_max_drawdown_is_total_after_a_minus_100_percent_period():
    assert max_drawdown([0.1, -1.0, 0.5]) == 1.0


@settings(max_examples=200, deadline=None)
@given(returns=st.lists(st.floats(-1.0, 2.0, allow_nan=False), min_size=1, max_size=80))
def test_max_drawdown_lies_in_unit_interval_and_matches_pandas_cummax(returns):
    dd = max_drawdown(returns)
    assert 0.0 <= dd <= 1.0
    equity = pd.Series(returns).add(1.0).cumprod()
    peak = equity.cummax().clip(lower=1.0)
    reference = float((1.0 - equity / peak).max())
    assert dd == pytest.approx(max(reference, 0.0), abs=1e-9)


def test_cum_return_compounds_simple_returns():
    assert cum_return(RETURNS) == pytest.approx(math.prod(1 + r for r in RETURNS) - 1, rel=1e-12)


def test_win_rate_counts_strictly_positive_trades():
    assert win_rate([0.02, -0.01, 0.0, 0.05]) == 0.5


def test_sqn_hand_example():
    """Trades 1, -0.5, 2, 1.5: mean 1, sample std sqrt(3.5/3), SQN = sqrt(4) * 1 / 1.0801 = 1.8516."""
    assert sqn([1.0, -0.5, 2.0, 1.5]) == pytest.approx(2.0 / math.sqrt(3.5 / 3), rel=1e-12)


def test_profit_factor_is_gross_profit_over_gross_loss():
    assert profit_factor([100.0, -50.0, 30.0, -20.0]) == pytest.approx(130.0 / 70.0)
    assert profit_factor([10.0, 0.0]) == math.inf
    assert math.isnan(profit_factor([0.0, 0.0]))


def test_turnover_is_mean_two_sided_weight_change_after_the_first_period():
    """Changes: |0.1|+|0.1| = 0.2, then 0, then 0.6 + 0.6 = 1.2 -> mean 0.4667. NaN = not held."""
    weights = pd.DataFrame({"A": [0.5, 0.6, 0.6, np.nan], "B": [0.5, 0.4, 0.4, 1.0]})
    assert turnover(weights) == pytest.approx((0.2 + 0.0 + 1.2) / 3)


def test_hit_rate_ignores_zero_calls_and_flat_outcomes():
    predictions = [0.3, -0.2, 0.1, 0.0, 0.4, -0.1]
    outcomes = [0.01, 0.02, -0.03, 0.05, 0.0, -0.01]
    # valid rows 0, 1, 2, 5: correct on 0 and 5
    assert hit_rate(predictions, outcomes) == 0.5


def random_panel(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=6), 25)
    score = rng.normal(size=dates.size)
    outcome = 0.3 * score + rng.normal(size=dates.size)
    score[rng.random(dates.size) < 0.1] = np.nan
    outcome[rng.random(dates.size) < 0.1] = np.nan
    return pd.DataFrame({"date": dates, "score": score, "outcome": outcome})


@pytest.mark.parametrize(("method", "reference"), [("pearson", pearsonr), ("spearman", spearmanr)])
def test_information_coefficient_per_date_matches_scipy(method, reference):
    panel = random_panel(1)
    ic = information_coefficient(panel["score"], panel["outcome"], panel["date"], method=method)
    expected = {}
    for date, rows in panel.dropna().groupby("date"):
        expected[date] = reference(rows["score"], rows["outcome"])[0]
    assert list(ic.index) == sorted(expected)
    np.testing.assert_allclose(ic.to_numpy(), [expected[d] for d in ic.index], rtol=1e-10)


def test_information_coefficient_is_nan_for_dates_without_dispersion_or_pairs():
    dates = ["d1"] * 3 + ["d2"] * 3 + ["d3"] * 2
    scores = [0.1, 0.1, 0.1, 1.0, 2.0, 3.0, 1.0, np.nan]
    outcomes = [1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 0.5, 0.7]
    ic = information_coefficient(scores, outcomes, dates)
    assert math.isnan(ic["d1"])
    assert ic["d2"] == pytest.approx(-1.0)
    assert math.isnan(ic["d3"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sharpe_ratio([np.nan, np.nan]), "no finite values"),
        (lambda: sharpe_ratio([]), "no finite values"),
        (lambda: sharpe_ratio([0.01]), "at least 2 finite values"),
        (lambda: sharpe_ratio([[0.1, 0.2]]), "one-dimensional"),
        (lambda: sharpe_ratio([0.1, np.inf]), "infinite"),
        (lambda: sharpe_ratio(RETURNS, periods_per_year=-252), "periods_per_year must be positive"),
        (lambda: sharpe_ratio(RETURNS, eps=0.0), "eps must be a positive"),
        (lambda: max_drawdown([0.1, -1.5]), "below -1"),
        (lambda: cum_return([np.nan]), "no finite values"),
        (lambda: sqn([1.0]), "at least 2 finite values"),
        (lambda: turnover([[0.5, 0.5]]), "at least 2 periods"),
        (lambda: hit_rate([1.0, 2.0], [1.0]), "equal length"),
        (lambda: hit_rate([0.0], [1.0]), "non-zero prediction"),
        (lambda: information_coefficient([1.0], [1.0], ["d"], method="kendall"), "method must be"),
        (lambda: information_coefficient([1.0, 2.0], [1.0], ["d", "d"]), "equal length"),
    ],
)
def test_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()

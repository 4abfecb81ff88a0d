"""Hypothesis properties of the metrics, calibration scores, PSR and PBO that must hold for any input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trademl.validation.calibration import brier_score, log_loss, reliability_curve
from trademl.validation.dsr import probabilistic_sharpe_ratio
from trademl.validation.metrics import (
    cum_return,
    hit_rate,
    information_coefficient,
    max_drawdown,
    profit_factor,
    sharpe_ratio,
    sqn,
    turnover,
    win_rate,
)
from trademl.validation.pbo import probability_of_backtest_overfitting

finite = st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False)
returns_lists = st.lists(finite, min_size=2, max_size=60)


@st.composite
def scored_panels(draw: st.DrawFn) -> pd.DataFrame:
    """A few dates with 3-12 (score, outcome) rows each, values on a coarse grid so ties occur."""
    n_dates = draw(st.integers(1, 4))
    frames = []
    for d in range(n_dates):
        n = draw(st.integers(3, 12))
        score = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n))
        outcome = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n))
        frames.append(
            pd.DataFrame({"date": pd.Timestamp("2024-01-02") + pd.Timedelta(days=d),
                          "score": np.asarray(score, float) / 10, "outcome": np.asarray(outcome, float) / 10})
        )
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=150, deadline=None)
@given(
    returns=st.lists(st.floats(-0.99, 2.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=80)
)
def test_final_loss_never_exceeds_the_max_drawdown(returns):
    """Final equity >= peak * (1 - MDD) >= 1 - MDD, so cum_return >= -max_drawdown."""
    assert cum_return(returns) >= -max_drawdown(returns) - 1e-12


@settings(max_examples=150, deadline=None)
@given(trades=returns_lists)
def test_sqn_is_sqrt_n_times_the_per_trade_sharpe(trades):
    assume(np.std(trades, ddof=1) > 1e-6)
    assert sqn(trades) == pytest.approx(math.sqrt(len(trades)) * sharpe_ratio(trades), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(pnls=returns_lists, scale=st.floats(0.01, 1000.0))
def test_profit_factor_and_win_rate_do_not_depend_on_position_size(pnls, scale):
    scaled = [scale * p for p in pnls]
    assert win_rate(scaled) == win_rate(pnls)
    expected = profit_factor(pnls)
    if math.isnan(expected):
        assert math.isnan(profit_factor(scaled))
    else:
        assert profit_factor(scaled) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(pnls=returns_lists)
def test_profit_factor_above_one_exactly_when_total_pnl_is_positive(pnls):
    total = math.fsum(pnls)
    assume(abs(total) > 1e-9 and any(p < 0 for p in pnls))
    assert (profit_factor(pnls) > 1.0) == (total > 0)


@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.lists(finite, min_size=3, max_size=3), min_size=2, max_size=30),
)
def test_turnover_is_non_negative_and_the_same_traded_forwards_or_backwards(weights):
    w = np.asarray(weights)
    assert turnover(w) >= 0.0
    assert turnover(w[::-1]) == pytest.approx(turnover(w), rel=1e-12, abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(finite, finite), min_size=1, max_size=60),
)
def test_hit_rate_of_the_opposite_calls_is_the_complement(pairs):
    p = np.array([a for a, _ in pairs])
    o = np.array([b for _, b in pairs])
    assume(((p != 0) & (o != 0)).any())
    assert hit_rate(p, o) + hit_rate(-p, o) == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(panel=scored_panels())
def test_information_coefficients_lie_in_minus_one_to_one(panel):
    for method in ("pearson", "spearman"):
        ic = information_coefficient(panel["score"], panel["outcome"], panel["date"], method=method)
        values = ic.dropna().to_numpy()
        assert ((values >= -1 - 1e-12) & (values <= 1 + 1e-12)).all()


@settings(max_examples=50, deadline=None)
@given(panel=scored_panels())
def test_rank_ic_is_unchanged_by_a_strictly_increasing_transform_of_the_scores(panel):
    ic = information_coefficient(panel["score"], panel["outcome"], panel["date"], method="spearman")
    transformed = information_coefficient(
        np.exp(3 * panel["score"]) + panel["score"] ** 3, panel["outcome"], panel["date"], method="spearman"
    )
    pd.testing.assert_series_equal(transformed, ic, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(panel=scored_panels())
def test_ic_of_a_date_ignores_every_other_date(panel):
    """Cross-sectional per date: the last date's IC is the same with or without the earlier dates."""
    last = panel[panel["date"] == panel["date"].max()]
    full = information_coefficient(panel["score"], panel["outcome"], panel["date"])
    alone = information_coefficient(last["score"], last["outcome"], last["date"])
    np.testing.assert_allclose(full.iloc[-1:].to_numpy(), alone.to_numpy(), rtol=1e-12, equal_nan=True)


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.floats(0.0, 1.0, allow_nan=False)), min_size=1, max_size=80
    ),
    n_bins=st.integers(1, 12),
)
def test_calibration_scores_are_bounded_and_the_reliability_bins_hold_every_forecast(data, n_bins):
    y = np.array([a for a, _ in data], dtype=float)
    p = np.array([b for _, b in data])
    assert 0.0 <= brier_score(y, p) <= 1.0
    assert log_loss(y, p) >= 0.0
    curve = reliability_curve(y, p, n_bins=n_bins)
    assert int(curve["count"].sum()) == y.size
    filled = curve[curve["count"] > 0]
    assert ((filled["mean_predicted"] >= filled["lower"] - 1e-12)
            & (filled["mean_predicted"] <= filled["upper"] + 1e-12)).all()


@settings(max_examples=150, deadline=None)
@given(
    sr=st.floats(-0.5, 0.5),
    step=st.floats(1e-3, 0.2),
    n_obs=st.integers(10, 5000),
    skew=st.floats(-1.0, 1.0),
    excess=st.floats(0.0, 6.0),
)
def test_psr_is_a_probability_that_rises_with_the_observed_sharpe(sr, step, n_obs, skew, excess):
    kurtosis = 3.0 + excess + skew**2
    low = probabilistic_sharpe_ratio(sr, 0.0, n_obs, skew, kurtosis)
    high = probabilistic_sharpe_ratio(sr, -step, n_obs, skew, kurtosis)
    assert 0.0 <= low <= high <= 1.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_strategies=st.integers(2, 8))
def test_pbo_is_a_share_and_agrees_with_its_logits(seed, n_strategies):
    returns = np.random.default_rng(seed).normal(0.0, 0.01, size=(64, n_strategies))
    result = probability_of_backtest_overfitting(returns, n_partitions=8)
    assert 0.0 <= result.pbo <= 1.0
    assert result.logits.size == math.comb(8, 4)
    assert result.pbo == pytest.approx(np.mean(result.logits <= 0))
    assert ((result.oos_relative_rank > 0) & (result.oos_relative_rank < 1)).all()

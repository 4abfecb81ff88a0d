"""Specification of one session's portfolio construction (trademl.portfolio.build, SSOT 4.7 / 7)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.portfolio import RiskConfig, build, shrunk_covariance

EPS = 1e-12
LOOSE = {"per_name_cap": 0.5, "max_short_weight": 0.5}  # caps that do not bind on a handful of names


def window_sd(panel: pd.DataFrame, lookback: int = 60) -> pd.Series:
    """Daily vol (ddof 0) of each column over the last `lookback` sessions (the risk model's diagonal)."""
    return panel.iloc[-lookback:].std(ddof=0)


def assert_within_limits(result: dict, cfg: RiskConfig) -> None:
    w = result["weights"].to_numpy()
    assert w.max(initial=0.0) <= cfg.per_name_cap + EPS
    assert w.min(initial=0.0) >= -cfg.max_short_weight - EPS
    assert np.abs(w).sum() <= cfg.gross_cap + EPS
    assert -w[w < 0].sum() <= cfg.short_gross_cap + EPS
    assert abs(w.sum()) <= 1e-12
    assert result["ex_ante_vol"] <= cfg.vol_target * (1 + 1e-9)


# ---- the contract -------------------------------------------------------------------------------


def test_result_has_the_contract_keys_and_types(cfg, scores, sessions):
    result = build(scores([3.0, 1.0, -1.0, -3.0]), cfg)
    assert {"asof", "weights", "gross", "net", "ex_ante_vol", "kelly_scale", "turnover", "binding"} <= set(result)
    assert result["asof"] == sessions[-1]
    assert result["weights"].dtype == np.float64 and list(result["weights"].index) == ["S00", "S01", "S02", "S03"]
    assert set(result["binding"]) == {
        "per_name_cap", "max_short_weight", "gross_cap", "short_gross_cap", "vol_target", "turnover", "kelly"
    }


def test_weights_are_dollar_neutral(cfg, scores):
    result = build(scores(np.random.default_rng(1).normal(size=12)), cfg)
    w = result["weights"]
    assert w[w > 0].sum() == pytest.approx(-w[w < 0].sum(), abs=1e-15)
    assert result["net"] == pytest.approx(0.0, abs=1e-15)
    assert result["gross"] > 0.0


def test_gross_and_net_are_the_sums_of_the_weights(cfg, scores):
    result = build(scores([2.0, 0.5, -0.5, -1.0, -1.0]), cfg)
    assert result["gross"] == pytest.approx(result["weights"].abs().sum())
    assert result["net"] == pytest.approx(result["weights"].sum(), abs=1e-15)


# ---- caps ---------------------------------------------------------------------------------------


def test_per_name_cap_holds_when_the_kelly_size_would_exceed_it(cfg, scores):
    frame = scores([5.0, 1.0, 0.5, -0.5, -1.0, -5.0])
    uncapped = build(frame, dataclasses.replace(cfg, **LOOSE))
    assert uncapped["weights"].abs().max() > cfg.per_name_cap  # the input would violate the cap
    result = build(frame, cfg)
    assert result["weights"].abs().max() == pytest.approx(cfg.per_name_cap)
    assert result["binding"]["per_name_cap"]
    assert_within_limits(result, cfg)


def test_gross_cap_holds_when_kelly_wants_more(cfg, scores):
    cfg = dataclasses.replace(cfg, per_name_cap=0.2, max_short_weight=0.2)
    result = build(scores(np.linspace(-2.0, 2.0, 40)), cfg)
    assert result["kelly_scale"] > cfg.gross_cap
    assert result["gross"] == pytest.approx(cfg.gross_cap)
    assert result["binding"]["gross_cap"] and not result["binding"]["kelly"]


def test_short_gross_cap_limits_both_legs(cfg, scores):
    cfg = dataclasses.replace(cfg, short_gross_cap=0.2)
    result = build(scores(np.linspace(-2.0, 2.0, 40)), cfg)
    w = result["weights"]
    assert -w[w < 0].sum() == pytest.approx(0.2)
    assert w[w > 0].sum() == pytest.approx(0.2)
    assert result["short_gross"] == pytest.approx(0.2)
    assert result["binding"]["short_gross_cap"]


def test_max_short_weight_caps_each_short_below_the_long_cap(cfg, scores):
    cfg = dataclasses.replace(cfg, per_name_cap=0.2, max_short_weight=0.03)
    result = build(scores([4.0, 3.0, 2.0, 1.0, -1.0, -2.0, -3.0, -4.0]), cfg)
    w = result["weights"]
    assert w.min() == pytest.approx(-0.03)
    assert w.max() > 0.03
    assert result["binding"]["max_short_weight"]
    assert_within_limits(result, cfg)


def test_caps_hold_when_a_leg_cannot_hold_the_budget(cfg, scores):
    # one long name against nine shorts: the long leg holds at most the per-name cap, so the shorts match it
    result = build(scores([9.0] + [-1.0] * 9), cfg)
    w = result["weights"]
    assert w["S00"] == pytest.approx(cfg.per_name_cap)
    assert -w[w < 0].sum() == pytest.approx(cfg.per_name_cap)


# ---- vol target ---------------------------------------------------------------------------------


def test_vol_target_scales_the_book_down_to_the_target(cfg, scores, returns):
    cfg = dataclasses.replace(cfg, per_name_cap=0.2, max_short_weight=0.2)
    panel = returns([0.05] * 10, seed=2)
    result = build(scores(np.linspace(-1.0, 1.0, 10)), cfg, returns=panel)
    assert result["ex_ante_vol"] == pytest.approx(cfg.vol_target)
    assert result["binding"]["vol_target"]
    assert result["gross"] < cfg.gross_cap
    model = shrunk_covariance(panel.iloc[-60:].to_numpy(), target=cfg.shrinkage, min_history=cfg.min_history)
    w = result["weights"].reindex(panel.columns).to_numpy()
    assert math.sqrt(252 * w @ model.cov @ w) == pytest.approx(cfg.vol_target)


def test_vol_target_never_scales_the_book_up(cfg, scores, returns):
    panel = returns([0.001] * 30, seed=3)
    frame = scores(np.linspace(-1.0, 1.0, 30))
    low = build(frame, cfg, returns=panel)
    high = build(frame, dataclasses.replace(cfg, vol_target=0.5), returns=panel)
    assert low["ex_ante_vol"] < cfg.vol_target
    assert not low["binding"]["vol_target"]
    pd.testing.assert_series_equal(low["weights"], high["weights"])


# ---- turnover -----------------------------------------------------------------------------------


def test_turnover_limit_holds_against_previous_targets(cfg, scores):
    frame = scores(np.linspace(-1.0, 1.0, 30))
    reversed_book = -build(frame, cfg)["weights"]
    result = build(frame, cfg, previous=reversed_book)
    moved = (result["weights"] - reversed_book.reindex(result["weights"].index, fill_value=0.0)).abs().sum()
    assert moved == pytest.approx(cfg.turnover_limit)
    assert result["turnover"] == pytest.approx(moved)
    assert result["binding"]["turnover"]


def test_turnover_blend_keeps_every_cap(cfg, scores):
    frame = scores(np.linspace(-1.0, 1.0, 30))
    reversed_book = -build(frame, cfg)["weights"]
    assert_within_limits(build(frame, cfg, previous=reversed_book), cfg)


def test_small_changes_trade_fully_inside_the_turnover_limit(cfg, scores):
    first = build(scores(np.linspace(-1.0, 1.0, 30)), cfg)["weights"]
    frame = scores(np.linspace(-1.0, 1.0, 30) + np.r_[0.05, np.zeros(29)])
    result = build(frame, cfg, previous=first)
    pd.testing.assert_series_equal(result["weights"], build(frame, cfg)["weights"])
    assert not result["binding"]["turnover"]


def test_previous_book_outside_the_caps_is_brought_inside_even_beyond_the_turnover_limit(cfg, scores):
    previous = pd.Series({"S00": 0.4, "S01": -0.4})
    result = build(scores(np.linspace(1.0, -1.0, 10)), cfg, previous=previous)
    assert_within_limits(result, cfg)
    assert result["turnover"] > cfg.turnover_limit
    assert result["binding"]["turnover"]


def test_no_previous_book_is_not_turnover_limited(cfg, scores):
    result = build(scores(np.linspace(-1.0, 1.0, 40)), cfg)
    assert result["turnover"] == pytest.approx(result["gross"])
    assert result["gross"] > cfg.turnover_limit
    assert not result["binding"]["turnover"]


def test_empty_previous_book_starts_flat_under_the_turnover_limit(cfg, scores):
    result = build(scores(np.linspace(-1.0, 1.0, 40)), cfg, previous=pd.Series(dtype=float))
    assert result["gross"] == pytest.approx(cfg.turnover_limit)
    assert result["binding"]["turnover"]


def test_name_held_but_no_longer_scored_is_sold(cfg, scores):
    previous = pd.Series({"GONE": 0.04, "S00": -0.04})
    result = build(scores(np.linspace(-1.0, 1.0, 10)), dataclasses.replace(cfg, turnover_limit=2.0), previous=previous)
    assert "GONE" not in result["weights"].index
    assert result["turnover"] == pytest.approx(
        (result["weights"] - previous.reindex(result["weights"].index, fill_value=0.0)).abs().sum() + 0.04
    )


def test_name_no_longer_scored_is_sold_down_gradually_under_a_tight_limit(cfg, scores):
    previous = pd.Series({"GONE": 0.04, "S00": -0.04})
    result = build(scores(np.linspace(-1.0, 1.0, 10)), dataclasses.replace(cfg, turnover_limit=0.05), previous=previous)
    assert 0.0 < result["weights"]["GONE"] < 0.04
    assert result["turnover"] == pytest.approx(0.05)


# ---- signal to weight ---------------------------------------------------------------------------


def test_higher_score_never_gets_a_lower_weight(cfg, scores):
    values = np.random.default_rng(5).normal(size=25)
    w = build(scores(values), cfg)["weights"].to_numpy()
    order = np.argsort(values)
    assert (np.diff(w[order]) >= -EPS).all()
    assert w[order[-1]] > 0 > w[order[0]]


def test_risk_scaling_divides_by_each_names_vol(cfg, scores, returns):
    panel = returns([0.01, 0.02, 0.01, 0.01], seed=6)
    result = build(scores([1.0, 1.0, -1.0, -1.0]), dataclasses.replace(cfg, **LOOSE), returns=panel)
    sd = window_sd(panel)
    w = result["weights"]
    assert w["S00"] / w["S01"] == pytest.approx(sd["S01"] / sd["S00"], rel=1e-9)


def test_name_without_history_gets_the_median_vol(cfg, scores, returns):
    panel = returns([0.01, 0.015, 0.02, 0.025, 0.03], seed=7)
    frame = scores([1.0, -1.0, -1.0, 0.0, 0.0, 1.0], symbols=["S00", "S01", "S02", "S03", "S04", "NEW"])
    result = build(frame, dataclasses.replace(cfg, **LOOSE), returns=panel)
    sd = window_sd(panel)
    w = result["weights"]
    assert w["NEW"] / w["S00"] == pytest.approx(sd["S00"] / sd.median(), rel=1e-9)


def test_name_with_too_short_history_gets_the_median_vol(cfg, scores, returns):
    panel = returns([0.01, 0.015, 0.02, 0.025, 0.03, 0.05], seed=7)
    panel.iloc[:-10, 5] = np.nan  # 10 sessions < min_history 20
    frame = scores([1.0, -1.0, -1.0, 0.0, 0.0, 1.0])
    result = build(frame, dataclasses.replace(cfg, **LOOSE), returns=panel)
    sd = window_sd(panel.iloc[:, :5])
    w = result["weights"]
    assert w["S05"] / w["S00"] == pytest.approx(sd["S00"] / sd.median(), rel=1e-9)


def test_kelly_scale_of_two_names_is_twice_the_fraction_times_the_edge_over_the_vol(cfg, scores):
    # scores (1, -1): z = (1, -1), direction (1/2, -1/2), mu = e sigma z, so f (p.mu) / (p' Sigma p) = 2 f e / sigma
    result = build(scores([1.0, -1.0]), cfg)
    sigma = cfg.fallback_vol / math.sqrt(252)
    assert result["kelly_scale"] == pytest.approx(2 * cfg.kelly_fraction * cfg.edge / sigma)


def test_a_small_edge_sizes_the_book_below_the_caps(cfg, scores):
    cfg = dataclasses.replace(cfg, edge_ic=0.0002)
    result = build(scores(np.linspace(-1.0, 1.0, 40)), cfg)
    assert result["gross"] == pytest.approx(result["kelly_scale"])
    assert result["gross"] < cfg.gross_cap
    assert result["binding"]["kelly"] and not result["binding"]["gross_cap"]


def test_borrow_cost_is_one_session_of_the_annual_fee_on_the_short_gross(cfg, scores):
    result = build(scores(np.linspace(-1.0, 1.0, 40)), cfg)
    assert result["borrow_cost_bps"] == 50.0
    assert result["borrow_cost"] == pytest.approx(result["short_gross"] * 50.0 / 1e4 / 252)


# ---- degenerate inputs --------------------------------------------------------------------------


def test_one_name_gives_all_zero_weights(cfg, scores):
    result = build(scores([2.0]), cfg)
    assert result["weights"].to_dict() == {"S00": 0.0}
    assert result["gross"] == 0.0 and result["ex_ante_vol"] == 0.0


def test_equal_scores_give_all_zero_weights(cfg, scores):
    assert (build(scores([0.3, 0.3, 0.3]), cfg)["weights"] == 0.0).all()


def test_empty_scores_raise(cfg, scores):
    with pytest.raises(ValueError, match="no scores"):
        build(scores([]), cfg)


def test_scores_of_two_sessions_raise(cfg, scores, sessions):
    frame = pd.concat([scores([1.0, -1.0]), scores([1.0, -1.0], date=sessions[-2])])
    with pytest.raises(ValueError, match="ONE session"):
        build(frame, cfg)


def test_nan_score_raises(cfg, scores):
    with pytest.raises(ValueError, match="finite"):
        build(scores([1.0, np.nan, -1.0]), cfg)


def test_duplicate_symbol_raises(cfg, scores):
    with pytest.raises(ValueError, match="twice"):
        build(scores([1.0, -1.0], symbols=["A", "A"]), cfg)


# ---- point in time ------------------------------------------------------------------------------


def later_sessions(asof, n: int) -> list:
    """The n XNYS sessions after `asof`."""
    return [calendar.next_session(asof, k).date() for k in range(1, n + 1)]


FIXTURES_ARE_READ_ONLY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FIXTURES_ARE_READ_ONLY
@given(future=st.lists(st.floats(-0.5, 0.5), min_size=8, max_size=8), n_days=st.integers(1, 5))
def test_returns_after_the_asof_session_do_not_change_the_weights(cfg, scores, returns, sessions, future, n_days):
    panel = returns([0.01, 0.02, 0.03, 0.015, 0.025, 0.02, 0.01, 0.03], seed=8, market=0.01)
    frame = scores([1.0, 0.5, -0.2, -1.0, 0.3, 2.0, -2.0, 0.0])
    before = build(frame, cfg, returns=panel)
    extra = pd.DataFrame([future] * n_days, index=later_sessions(sessions[-1], n_days), columns=panel.columns)
    after = build(frame, cfg, returns=pd.concat([panel, extra]))
    pd.testing.assert_series_equal(before["weights"], after["weights"])
    assert before["ex_ante_vol"] == after["ex_ante_vol"]


def test_returns_older_than_the_lookback_do_not_change_the_weights_but_newer_ones_do(cfg, scores, returns, sessions):
    panel = returns([0.01, 0.02, 0.03, 0.015], seed=9)
    frame = scores([1.0, 0.5, -0.5, -1.0])
    loose = dataclasses.replace(cfg, **LOOSE)
    base = build(frame, loose, returns=panel)["weights"]
    old, inside = panel.copy(), panel.copy()
    old.loc[sessions[-61]] = 0.4  # 61 sessions back: outside the 60-session window
    inside.loc[sessions[-60]] = 0.4  # the window's first session
    pd.testing.assert_series_equal(build(frame, loose, returns=old)["weights"], base)
    assert not np.allclose(build(frame, loose, returns=inside)["weights"], base)


def test_lookback_counts_sessions_not_rows(cfg, scores, returns, sessions):
    panel = returns([0.01, 0.02, 0.03, 0.015], seed=10)
    frame = scores([1.0, 0.5, -0.5, -1.0])
    loose = dataclasses.replace(cfg, **LOOSE)
    gappy = panel.drop(index=sessions[-30])  # a missing row inside the window
    changed = gappy.copy()
    changed.loc[sessions[-61]] = 0.4  # still outside: the window is 60 sessions, not 60 rows
    pd.testing.assert_series_equal(build(frame, loose, returns=changed)["weights"], build(frame, loose, returns=gappy)["weights"])


# ---- properties ---------------------------------------------------------------------------------

@FIXTURES_ARE_READ_ONLY
@given(
    values=st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40),
    previous=st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40),
    per_name_cap=st.sampled_from([0.02, 0.05, 0.2]),
    short_share=st.sampled_from([0.5, 1.0]),
    turnover_limit=st.sampled_from([0.1, 0.5, 2.0]),
)
def test_every_limit_holds_for_random_scores_and_previous_books(
    cfg, scores, values, previous, per_name_cap, short_share, turnover_limit
):
    cfg = dataclasses.replace(
        cfg,
        per_name_cap=per_name_cap,
        max_short_weight=per_name_cap * short_share,
        turnover_limit=turnover_limit,
    )
    prev = build(scores(previous), cfg)["weights"]  # a feasible previous book
    result = build(scores(values), cfg, previous=prev)
    assert_within_limits(result, cfg)
    assert result["turnover"] <= cfg.turnover_limit + 1e-9
    moved = result["weights"].sub(prev, fill_value=0.0).abs().sum()
    assert moved == pytest.approx(result["turnover"], abs=1e-12)


@FIXTURES_ARE_READ_ONLY
@given(values=st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40, unique=True))
def test_weights_are_monotone_in_the_score_for_random_scores(cfg, scores, values):
    w = build(scores(values), cfg)["weights"].to_numpy()
    order = np.argsort(values)
    assert (np.diff(w[order]) >= -EPS).all()

"""Point in time: rows dated after t never change features at t; a corporate action after t leaves
the return-based features at t unchanged when prices are adjusted consistently over the window."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from xs_reference import SMALL, bars, random_panel, session_dates

from trademl.features.equities_xs import EquitiesXsConfig, build_features
from trademl.schemas.features import EQUITIES_XS_CONTINUOUS

V1 = EquitiesXsConfig()
# Continuous features that only use price ratios: invariant to any consistent back-adjustment.
RETURN_BASED = ("mom_5", "mom_20", "mom_60", "mom_126", "gap_overnight_20", "gap_intraday_20", "drawdown_20", "drawdown_60", "rv_20", "rv_60", "downside_vol_20")
# Features using the dollar volume close x volume: invariant to a split (price / m, volume x m), not to a dividend.
DOLLAR_VOLUME = ("adv_20", "amihud_20")


def _after_t_changed(panel: pd.DataFrame, t: pd.Timestamp, seed: int) -> pd.DataFrame:
    """The panel with every row after t scaled randomly, some dropped, and new sessions (and a new symbol) appended."""
    rng = np.random.default_rng(seed)
    out = panel.copy()
    later = out["date"] > t
    for column in ("open", "high", "low", "close", "volume", "shares_outstanding"):
        out.loc[later, column] = out.loc[later, column] * rng.uniform(0.5, 2.0, later.sum())
    out = out.drop(index=out.index[later.to_numpy() & (rng.random(len(out)) < 0.3)])
    extra_dates = session_dates((out["date"].max() + pd.Timedelta(days=1)).strftime("%Y-%m-%d"), 3)
    extra = pd.concat([bars(s, extra_dates, rng.uniform(10, 20, 3), shares_outstanding=1e4, sector="Energy") for s in ("S0", "S1", "NEW")])
    return pd.concat([out, extra], ignore_index=True).sample(frac=1.0, random_state=seed)


def _at(frame: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    return frame[frame["date"] == t].reset_index(drop=True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), t_index=st.integers(0, 39))
def test_rows_after_t_leave_raw_features_at_t_unchanged(seed, t_index):
    panel = random_panel(seed)
    t = session_dates("2024-01-02", 40)[t_index]
    before = _at(build_features(panel, SMALL, standardize=False), t)
    after = _at(build_features(_after_t_changed(panel, t, seed), SMALL, standardize=False), t)
    pd.testing.assert_frame_equal(before, after, check_exact=True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), t_index=st.integers(0, 39))
def test_rows_after_t_leave_standardised_features_at_t_unchanged(seed, t_index):
    # Holds because the cross-section at t (the symbols with a bar at t) is unchanged.
    panel = random_panel(seed)
    t = session_dates("2024-01-02", 40)[t_index]
    before = _at(build_features(panel, SMALL), t)
    after = _at(build_features(_after_t_changed(panel, t, seed), SMALL), t)
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=1e-12)


def _adjusted(panel: pd.DataFrame, ex_date: pd.Timestamp, price_factor: float, volume_factor: float) -> pd.DataFrame:
    """Back-adjusted as of a date on or after ex_date: bars before ex_date scaled (a split 2:1 is 0.5, 2.0)."""
    out = panel.copy()
    before = out["date"] < ex_date
    for column in ("open", "high", "low", "close"):
        out.loc[before, column] = out.loc[before, column] * price_factor
    out.loc[before, "volume"] = out.loc[before, "volume"] * volume_factor
    return out


def _as_traded_with_split(seed: int, ex_index: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """A 180-session panel whose symbol S0 trades at half the price from session ex_index on (2:1 split)."""
    panel = random_panel(seed, n_symbols=4, n_sessions=180, holes=0.05)
    ex_date = session_dates("2024-01-02", 180)[ex_index]
    split = (panel["symbol"] == "S0") & (panel["date"] >= ex_date)
    for column in ("open", "high", "low", "close"):
        panel.loc[split, column] = panel.loc[split, column] / 2
    panel.loc[split, "volume"] = panel.loc[split, "volume"] * 2
    return panel, ex_date


def test_a_split_after_t_leaves_every_return_based_feature_at_t_unchanged():
    as_traded, ex_date = _as_traded_with_split(seed=21, ex_index=170)
    t = session_dates("2024-01-02", 180)[160]
    # As of t the split is unknown: the as-traded bars up to t are the prices adjusted as of t.
    as_of_t = build_features(as_traded[as_traded["date"] <= t], V1, standardize=False)
    later = _adjusted(as_traded, ex_date, price_factor=0.5, volume_factor=2.0)
    as_of_later = build_features(later, V1, standardize=False)
    a, b = _at(as_of_t, t), _at(as_of_later, t)
    pd.testing.assert_frame_equal(a[["symbol", *RETURN_BASED, *DOLLAR_VOLUME]], b[["symbol", *RETURN_BASED, *DOLLAR_VOLUME]], check_exact=False, rtol=1e-10)
    assert a.loc[a["symbol"] == "S0", "mom_126"].notna().all()


def test_a_dividend_after_t_leaves_every_return_based_feature_at_t_unchanged():
    panel = random_panel(22, n_symbols=4, n_sessions=180, holes=0.05)
    dates = session_dates("2024-01-02", 180)
    t, ex_date = dates[150], dates[165]
    later = _adjusted(panel, ex_date, price_factor=0.97, volume_factor=1.0)  # a 3% dividend, CRSP-style factor
    a = _at(build_features(panel[panel["date"] <= t], V1, standardize=False), t)
    b = _at(build_features(later, V1, standardize=False), t)
    pd.testing.assert_frame_equal(a[["symbol", *RETURN_BASED]], b[["symbol", *RETURN_BASED]], check_exact=False, rtol=1e-10)


def test_a_split_inside_the_window_unadjusted_would_change_momentum():
    # Why prices must be adjusted (as of t): the as-traded series shows the split as a -69% return.
    as_traded, ex_date = _as_traded_with_split(seed=23, ex_index=100)
    t = session_dates("2024-01-02", 180)[120]
    adjusted = _adjusted(as_traded, ex_date, price_factor=0.5, volume_factor=2.0)
    raw = _at(build_features(as_traded, V1, standardize=False), t).set_index("symbol")
    adj = _at(build_features(adjusted, V1, standardize=False), t).set_index("symbol")
    assert abs(raw.loc["S0", "mom_60"] - adj.loc["S0", "mom_60"] - np.log(0.5)) < 1e-9
    assert set(EQUITIES_XS_CONTINUOUS) <= set(raw.columns)

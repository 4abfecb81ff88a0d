"""VIX metrics and the 4-quadrant regime: values on tiny series, session windows, point-in-time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.features.market_context import vix_metrics, vix_quadrant
from trademl.features.market_context.settings import QuadrantSettings, VixSettings

SESSIONS = calendar.sessions("2024-01-02", "2024-03-28")
SMALL = VixSettings(z_window=3, rel_vol_window=2, fill_limit=1)


def _vix(values, index=None) -> pd.Series:
    return pd.Series(values, index=SESSIONS[: len(values)] if index is None else index, dtype="float64")


def test_log_return_is_one_session_log_change():
    out = vix_metrics(_vix([10.0, 20.0, 15.0]), SMALL)
    np.testing.assert_allclose(out["ctx_vix_logret"].to_numpy()[1:], [np.log(2.0), np.log(0.75)])
    assert np.isnan(out["ctx_vix_logret"].iloc[0])


def test_z_score_uses_the_trailing_window_with_ddof_one():
    out = vix_metrics(_vix([10.0, 20.0, 30.0, 30.0]), SMALL)
    assert np.isnan(out["ctx_vix_z"].iloc[1])
    assert out["ctx_vix_z"].iloc[2] == pytest.approx((30 - 20) / 10.0)
    window = np.array([20.0, 30.0, 30.0])
    assert out["ctx_vix_z"].iloc[3] == pytest.approx((30 - window.mean()) / window.std(ddof=1))


def test_relative_vol_is_vix_over_its_trailing_mean():
    out = vix_metrics(_vix([10.0, 30.0, 30.0]), SMALL)
    np.testing.assert_allclose(out["ctx_vix_rel_vol"].to_numpy()[1:], [30 / 20.0, 1.0])


def test_a_missing_session_carries_the_last_print_only_up_to_the_fill_limit():
    vix = _vix([10.0, 12.0, 14.0], index=SESSIONS[[0, 1, 4]])  # sessions 2 and 3 have no print
    out = vix_metrics(vix, SMALL)
    assert list(out.index) == list(SESSIONS[:5])
    assert out["ctx_vix"].iloc[2] == 12.0 and np.isnan(out["ctx_vix"].iloc[3])


def test_a_print_on_a_day_the_exchange_was_closed_is_dropped():
    closed = pd.Timestamp("2024-01-15")  # Martin Luther King Jr. Day
    vix = pd.Series([10.0, 99.0, 11.0], index=[pd.Timestamp("2024-01-12"), closed, pd.Timestamp("2024-01-16")])
    out = vix_metrics(vix, SMALL)
    assert closed not in out.index and out["ctx_vix_logret"].iloc[-1] == pytest.approx(np.log(1.1))


@settings(max_examples=25, deadline=None)
@given(
    base=st.lists(st.floats(8.0, 80.0), min_size=8, max_size=30),
    later=st.lists(st.floats(8.0, 80.0), min_size=1, max_size=10),
)
def test_appending_prints_after_t_leaves_every_metric_at_t_unchanged(base, later):
    before = vix_metrics(_vix(base), SMALL)
    after = vix_metrics(_vix(base + later), SMALL)
    pd.testing.assert_frame_equal(after.iloc[: len(base)], before)


def _trend(values) -> pd.Series:
    return pd.Series(values, index=SESSIONS[: len(values)], dtype="float64")


def test_quadrant_crosses_market_trend_with_vix_above_a_fixed_level():
    cfg = QuadrantSettings(trend_window=2, vix_window=2, vix_level=20.0)
    close = _trend([100.0, 101.0, 102.0, 99.0, 98.0])
    vix = _trend([15.0, 15.0, 25.0, 15.0, 25.0])
    out = vix_quadrant(close, vix, cfg)
    assert out.iloc[0] is None
    assert list(out.iloc[1:]) == ["bull_quiet", "bull_volatile", "bear_quiet", "bear_volatile"]


def test_quadrant_volatile_means_above_the_trailing_median_when_no_level_is_set():
    cfg = QuadrantSettings(trend_window=1, vix_window=3, vix_level=None)
    close = _trend([100.0] * 5)  # close == its 1-session SMA: not above, so bear
    vix = _trend([10.0, 20.0, 30.0, 10.0, 20.0])
    out = vix_quadrant(close, vix, cfg)
    # medians of the trailing 3 sessions: 20, 20, 20; a VIX equal to its median is quiet
    assert list(out) == [None, None, "bear_volatile", "bear_quiet", "bear_quiet"]

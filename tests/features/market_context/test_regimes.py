"""SMA trend regime and the point-in-time 2-state GMM regime (monthly refits on data before the refit date)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.features.market_context import gmm_regime, refit_dates, trend_regime
from trademl.features.market_context.settings import GmmSettings, TrendSettings

SESSIONS = calendar.sessions("2021-01-04", "2023-12-29")
GMM = GmmSettings(vol_window=5, fit_window=300, min_fit_sessions=120, hysteresis=3, n_init=1, random_state=0)


def _returns(seed: int = 1) -> pd.Series:
    """Calm returns (sd 0.4 %) with stress bursts (sd 3 %) of 30 sessions every ~120 sessions."""
    rng = np.random.default_rng(seed)
    sd = np.full(len(SESSIONS), 0.004)
    for start in range(60, len(SESSIONS), 120):
        sd[start : start + 30] = 0.03
    return pd.Series(rng.standard_normal(len(SESSIONS)) * sd, index=SESSIONS), sd


def test_trend_regime_is_the_sign_of_the_gap_to_the_sma():
    close = pd.Series([10.0, 11.0, 12.0, 9.0, 10.5], index=SESSIONS[:5])  # 10.5 is its own SMA
    out = trend_regime(close, TrendSettings(sma_window=3))
    assert out["ctx_trend_regime"].isna().sum() == 2
    assert list(out["ctx_trend_regime"].iloc[2:]) == [1, -1, 0]
    np.testing.assert_allclose(out["ctx_trend_gap"].iloc[2:], [12 / 11 - 1, 9 / (32 / 3) - 1, 0.0])


@settings(max_examples=25, deadline=None)
@given(later=st.lists(st.floats(1.0, 100.0), min_size=1, max_size=5))
def test_trend_regime_at_t_ignores_closes_after_t(later):
    close = pd.Series(np.linspace(10, 20, 8), index=SESSIONS[:8])
    before = trend_regime(close, TrendSettings(sma_window=3))
    extended = pd.concat([close, pd.Series(later, index=SESSIONS[8 : 8 + len(later)])])
    pd.testing.assert_frame_equal(trend_regime(extended, TrendSettings(sma_window=3)).iloc[:8], before)


def test_refit_dates_are_the_first_session_of_each_month():
    dates = refit_dates(calendar.sessions("2024-01-02", "2024-04-30"))
    assert [d.date().isoformat() for d in dates] == ["2024-01-02", "2024-02-01", "2024-03-01", "2024-04-01"]


def test_no_regime_until_enough_sessions_precede_a_refit_date():
    r, _ = _returns()
    out = gmm_regime(r, GMM)
    first = out["ctx_gmm_prob_stress"].first_valid_index()
    assert first in set(refit_dates(SESSIONS))
    assert (SESSIONS < first).sum() >= GMM.min_fit_sessions + GMM.vol_window - 1


def test_stress_state_is_the_high_variance_regime():
    r, sd = _returns()
    out = gmm_regime(r, GMM)
    state = out["ctx_gmm_state"]
    known = state.notna().to_numpy()
    stressed, calm = known & (sd > 0.01), known & (sd < 0.01)
    assert state[stressed].astype(float).mean() > 0.8
    assert state[calm].astype(float).mean() < 0.2
    assert out["ctx_gmm_prob_stress"][stressed].mean() > 0.7


def test_hysteresis_keeps_the_state_through_a_one_session_spike():
    rng = np.random.default_rng(3)
    sd = np.where((np.arange(len(SESSIONS)) % 100) < 20, 0.03, 0.004)  # the mixture needs a stress regime to learn
    r = pd.Series(rng.standard_normal(len(SESSIONS)) * sd, index=SESSIONS)
    spike = 660  # 40 calm sessions after a burst, 40 before the next
    r.iloc[spike] = -0.12
    cfg = GmmSettings(vol_window=2, fit_window=300, min_fit_sessions=120, hysteresis=5, n_init=1)
    out = gmm_regime(r, cfg)
    assert out["ctx_gmm_prob_stress"].iloc[spike] > 0.5
    assert out["ctx_gmm_state"].iloc[spike] == 0
    raw = gmm_regime(r, GmmSettings(vol_window=2, fit_window=300, min_fit_sessions=120, hysteresis=1, n_init=1))
    assert raw["ctx_gmm_state"].iloc[spike] == 1


@settings(max_examples=10, deadline=None)
@given(cut=st.integers(400, len(SESSIONS) - 5), seed=st.integers(0, 2**16))
def test_gmm_regime_at_t_does_not_change_when_later_returns_change(cut, seed):
    r, _ = _returns()
    before = gmm_regime(r.iloc[:cut], GMM)
    noise = pd.Series(np.random.default_rng(seed).standard_normal(len(r) - cut) * 0.05, index=r.index[cut:])
    changed = pd.concat([r.iloc[:cut], noise])
    after = gmm_regime(changed, GMM)
    pd.testing.assert_frame_equal(after.iloc[:cut], before)


def test_a_refit_only_sees_data_strictly_before_its_refit_date():
    r, _ = _returns()
    month_start = pd.Timestamp("2023-03-01")
    pos = SESSIONS.get_loc(month_start)
    base = gmm_regime(r, GMM)
    shocked = r.copy()
    shocked.iloc[pos:] = shocked.iloc[pos:] * 10.0  # from the refit date on, everything changes
    after = gmm_regime(shocked, GMM)
    pd.testing.assert_frame_equal(after.iloc[:pos], base.iloc[:pos])
    # The March model was fitted before March: its March probabilities change only through March's own inputs.
    assert not after["ctx_gmm_prob_stress"].iloc[pos:].equals(base["ctx_gmm_prob_stress"].iloc[pos:])

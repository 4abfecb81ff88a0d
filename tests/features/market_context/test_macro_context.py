"""Macro context from the vintages known at t: term spread, CPI YoY, unemployment change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.features.market_context import macro_context, vix_known_at
from trademl.features.market_context.settings import MacroSettings

CFG = MacroSettings(cpi_lag_months=12, unemployment_lag_months=3)
MONTHS = pd.date_range("2022-12-01", "2024-02-01", freq="MS")


def _row(series: str, obs: str | pd.Timestamp, value: float, vintage: str | pd.Timestamp) -> dict:
    return {"series_id": series, "observation_date": pd.Timestamp(obs), "value": value, "vintage_date": pd.Timestamp(vintage)}


def _rows() -> pd.DataFrame:
    """CPI rising 0.5 % a month and UNRATE rising 0.1 pp a month, each first published on the 12th of the next month; two rates."""
    rows = [_row("CPIAUCSL", m, 100.0 * 1.005**i, m + pd.DateOffset(months=1, days=11)) for i, m in enumerate(MONTHS)]
    rows += [_row("UNRATE", m, 4.0 + 0.1 * i, m + pd.DateOffset(months=1, days=11)) for i, m in enumerate(MONTHS)]
    rows += [_row("DGS10", "2024-03-01", 4.2, "2024-03-04"), _row("DGS3MO", "2024-03-01", 5.4, "2024-03-04")]
    rows += [_row("DGS10", "2024-03-04", 4.3, "2024-03-05")]
    return pd.DataFrame(rows)


SESSIONS = calendar.sessions("2024-03-01", "2024-03-20")


def _at(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame.loc[pd.Timestamp(day)]


def test_term_spread_is_the_latest_long_minus_latest_short_print_known_at_t():
    out = macro_context(_rows(), SESSIONS, CFG)
    assert np.isnan(_at(out, "2024-03-01")["ctx_term_spread"])
    assert _at(out, "2024-03-04")["ctx_term_spread"] == pytest.approx(4.2 - 5.4)
    assert _at(out, "2024-03-05")["ctx_term_spread"] == pytest.approx(4.3 - 5.4)


def test_cpi_yoy_compares_the_latest_observation_known_at_t_with_twelve_months_earlier():
    out = macro_context(_rows(), SESSIONS, CFG)
    # before 2024-03-12 the latest CPI known is January 2024 (12 months after Jan 2023: index 13 vs 1)
    assert _at(out, "2024-03-11")["ctx_cpi_yoy"] == pytest.approx(1.005**12 - 1)
    assert _at(out, "2024-03-12")["ctx_cpi_yoy"] == pytest.approx(1.005**12 - 1)


def test_unemployment_change_is_in_percentage_points_over_the_configured_months():
    out = macro_context(_rows(), SESSIONS, CFG)
    assert _at(out, "2024-03-11")["ctx_unemployment_change"] == pytest.approx(0.3)
    six = macro_context(_rows(), SESSIONS, MacroSettings(unemployment_lag_months=6))
    assert _at(six, "2024-03-11")["ctx_unemployment_change"] == pytest.approx(0.6)


def test_a_revision_published_after_t_does_not_change_the_value_at_t():
    rows = _rows()
    revised = pd.concat([rows, pd.DataFrame([_row("CPIAUCSL", "2024-02-01", 200.0, "2024-03-15")])], ignore_index=True)
    before, after = macro_context(rows, SESSIONS, CFG), macro_context(revised, SESSIONS, CFG)
    pd.testing.assert_frame_equal(after.loc[:"2024-03-14"], before.loc[:"2024-03-14"])
    # from the revision's day on, the revised February value is the one known
    assert _at(after, "2024-03-15")["ctx_cpi_yoy"] == pytest.approx(200.0 / (100.0 * 1.005**2) - 1)


def test_a_revision_known_at_t_is_used_at_t():
    rows = pd.concat([_rows(), pd.DataFrame([_row("CPIAUCSL", "2024-01-01", 200.0, "2024-03-08")])], ignore_index=True)
    out = macro_context(rows, SESSIONS, CFG)
    jan_2023 = 100.0 * 1.005
    assert _at(out, "2024-03-08")["ctx_cpi_yoy"] == pytest.approx(200.0 / jan_2023 - 1)


def test_without_a_source_every_macro_feature_is_missing():
    out = macro_context(None, SESSIONS, CFG)
    assert out.isna().all().all() and list(out.index) == list(SESSIONS)


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(0, len(SESSIONS) - 1),
    lag=st.integers(0, 30),
    series=st.sampled_from(["CPIAUCSL", "UNRATE", "DGS10", "DGS3MO"]),
    month=st.integers(0, len(MONTHS) - 1),
    value=st.floats(0.5, 500.0),
)
def test_vintages_after_t_leave_every_macro_feature_at_t_unchanged(t, lag, series, month, value):
    day = SESSIONS[t]
    late = _row(series, MONTHS[month], value, day + pd.Timedelta(days=1 + lag))
    rows = _rows()
    if ((rows["series_id"] == series) & (rows["observation_date"] == late["observation_date"])
            & (rows["vintage_date"] == late["vintage_date"])).any():
        return
    before = macro_context(rows, SESSIONS, CFG)
    after = macro_context(pd.concat([rows, pd.DataFrame([late])], ignore_index=True), SESSIONS, CFG)
    pd.testing.assert_frame_equal(after.loc[:day], before.loc[:day])


def test_vix_known_at_t_is_the_latest_print_published_by_t():
    rows = pd.DataFrame([
        _row("VIXCLS", "2024-03-04", 14.0, "2024-03-05"),  # FRED-style: published the next session
        _row("VIXCLS", "2024-03-05", 15.0, "2024-03-06"),
        _row("VIXCLS", "2024-03-06", 16.0, "2024-03-06"),  # Cboe-style: published the same session
    ])
    got = vix_known_at(rows, calendar.sessions("2024-03-04", "2024-03-07"))
    assert np.isnan(got.iloc[0]) and list(got.iloc[1:]) == [14.0, 16.0, 16.0]

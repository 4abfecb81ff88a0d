"""build_market_context: the schema's columns per session, and nothing at t depends on inputs after t."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.data.connectors.synthetic import macro as synthetic_macro
from trademl.data.connectors.synthetic.config import MarketParams
from trademl.features.market_context import build_market_context, market_context_settings, market_proxy, vix_known_at
from trademl.features.market_context.settings import (
    GmmSettings,
    MarketContextSettings,
    QuadrantSettings,
    TrendSettings,
    VixSettings,
)
from trademl.schemas.features import MARKET_CONTEXT

ORIGIN = dt.date(2021, 1, 4)
CFG = MarketContextSettings(
    vix=VixSettings(z_window=60, rel_vol_window=10, fill_limit=2),
    quadrant=QuadrantSettings(trend_window=20, vix_window=60),
    gmm=GmmSettings(vol_window=10, fit_window=250, min_fit_sessions=120, hysteresis=3, n_init=1),
    trend=TrendSettings(sma_window=50),
)


@pytest.fixture(scope="module")
def inputs():
    """The synthetic market's VIX and macro vintages, and a market close from its own GARCH variance."""
    market = MarketParams()
    vix = synthetic_macro.volatility_index(7, ORIGIN, market)
    vix = vix[vix.index <= "2023-06-30"]
    h = synthetic_macro.market_variance(7, ORIGIN, market).reindex(vix.index)
    z = np.random.default_rng(5).standard_normal(len(h))
    close = pd.Series(100 * np.exp(np.cumsum(np.sqrt(h.to_numpy()) * z)), index=vix.index)
    rows = synthetic_macro.vintages(7, 2019, ORIGIN, market)
    return close, vix, rows


def test_rows_carry_exactly_the_schema_columns_and_cast_to_it(inputs):
    close, vix, rows = inputs
    sessions = calendar.sessions("2022-06-01", "2022-06-30")
    out = build_market_context(close, vix, rows, sessions, CFG)
    assert list(out.columns) == MARKET_CONTEXT.schema.names
    assert list(out["date"]) == [s.date() for s in sessions]
    table = pa.Table.from_pandas(out, schema=MARKET_CONTEXT.schema, preserve_index=False)
    assert table.num_rows == len(sessions)
    assert out.drop(columns="date").notna().all().all()
    assert set(out["ctx_vix_quadrant"]) <= {"bull_quiet", "bull_volatile", "bear_quiet", "bear_volatile"}


def test_ctx_vix_is_the_index_close_of_each_session(inputs):
    close, vix, rows = inputs
    out = build_market_context(close, vix, rows, calendar.sessions("2022-06-01", "2022-06-10"), CFG)
    assert list(out["ctx_vix"]) == list(vix.loc["2022-06-01":"2022-06-10"])


def test_with_the_vix_known_at_t_ctx_vix_is_the_synthetic_close_of_the_previous_session(inputs):
    close, vix, rows = inputs
    sessions = calendar.sessions("2022-06-01", "2022-06-10")
    known = vix_known_at(rows, calendar.sessions("2021-01-04", "2022-06-10"))
    out = build_market_context(close, known, rows, sessions, CFG)
    previous = [calendar.previous_session(d) for d in sessions]
    assert list(out["ctx_vix"]) == list(vix.loc[previous])


PIT_SESSIONS = calendar.sessions("2022-09-01", "2023-03-31")


@pytest.fixture(scope="module")
def full(inputs):
    return build_market_context(*inputs, PIT_SESSIONS, CFG)


@settings(max_examples=5, deadline=None)
@given(cut=st.integers(0, 80))
def test_every_value_at_t_is_unchanged_when_inputs_after_t_change(inputs, full, cut):
    close, vix, rows = inputs
    sessions = PIT_SESSIONS
    t = sessions[cut]
    shocked_close = close.where(close.index <= t, close * 1.5)
    shocked_vix = vix.where(vix.index <= t, vix * 3.0)
    late_rows = rows[pd.to_datetime(rows["vintage_date"]) <= t]
    cut_out = build_market_context(shocked_close, shocked_vix, late_rows, sessions, CFG)
    pd.testing.assert_frame_equal(cut_out.iloc[: cut + 1], full.iloc[: cut + 1])


def test_market_proxy_is_the_equal_weight_cumulative_log_return_index():
    days = calendar.sessions("2024-01-02", "2024-01-05")
    prices = pd.DataFrame({
        "symbol": ["A"] * 4 + ["B"] * 3,
        "date": list(days) + list(days[[0, 1, 3]]),  # B has no bar on the third session
        "adj_close": [10.0, 11.0, 12.1, 12.1, 20.0, 18.0, 18.0],
    })
    level = market_proxy(prices)
    expected = np.exp(np.cumsum([0.0, (np.log(1.1) + np.log(0.9)) / 2, np.log(1.1), 0.0]))
    np.testing.assert_allclose(level.to_numpy(), expected)
    assert list(level.index) == list(days)


def test_market_proxy_at_t_is_unchanged_when_later_sessions_arrive():
    days = calendar.sessions("2024-01-02", "2024-01-12")
    rng = np.random.default_rng(2)
    prices = pd.DataFrame({"symbol": np.repeat(["A", "B"], len(days)), "date": np.tile(days, 2),
                           "adj_close": 10 * np.exp(np.cumsum(rng.standard_normal(2 * len(days)) * 0.02))})
    short = prices[prices["date"] <= days[5]]
    pd.testing.assert_series_equal(market_proxy(prices).iloc[:6], market_proxy(short))


def test_the_shipped_config_is_read_into_typed_settings():
    cfg = market_context_settings()
    assert cfg.trend.sma_window == 200 and cfg.macro.short_rate == "DGS3MO" and cfg.gmm.hysteresis >= 1


def test_a_malformed_window_names_the_config_file_and_field():
    with pytest.raises(ValueError, match=r"configs/features/market_context.yml trend.sma_window"):
        TrendSettings.from_config({"sma_window": "long"})
    with pytest.raises(ValueError, match=r"no `vix:` section"):
        MarketContextSettings.from_config({})

"""Real data: the Cboe VIX history through the files connector (configs/files/vix_cboe.yml), and market context on it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.files import FilesConnector
from trademl.data.connectors.files.mapping import load_mappings
from trademl.features.market_context import build_market_context, vix_known_at, vix_metrics
from trademl.features.market_context.settings import VixSettings


@pytest.fixture
def cboe(real_data_dir):
    mappings = [m for m in load_mappings() if m.name == "vix_cboe"]
    assert len(mappings) == 1
    return FilesConnector(mappings, root=real_data_dir)


def test_cboe_closes_are_served_as_vixcls_known_on_their_own_session(cboe):
    frame = cboe.fetch(FetchRequest("macros_fred", dt.date(2019, 3, 4), dt.date(2019, 3, 8), series=("VIXCLS",))).frame
    assert set(frame["series_id"]) == {"VIXCLS"} and len(frame) == 5
    assert (frame["vintage_date"] == frame["observation_date"]).all()
    assert list(frame["value"]) == [14.63, 14.74, 15.74, 16.59, 16.05]


def test_close_only_rows_of_1990_are_read_from_the_mm_dd_yyyy_dates(cboe):
    frame = cboe.fetch(FetchRequest("macros_fred", dt.date(1990, 1, 2), dt.date(1990, 1, 4), series=("VIXCLS",))).frame
    assert list(pd.to_datetime(frame["observation_date"]).dt.strftime("%Y-%m-%d")) == ["1990-01-02", "1990-01-03", "1990-01-04"]
    assert list(frame["value"]) == [17.24, 18.19, 19.22]


def test_vix_metrics_on_a_year_of_cboe_history_fill_the_missing_sessions(cboe):
    frame = cboe.fetch(FetchRequest("macros_fred", dt.date(1997, 1, 2), dt.date(1997, 12, 31), series=("VIXCLS",))).frame
    vix = pd.Series(frame["value"].to_numpy(), index=pd.to_datetime(frame["observation_date"]))
    out = vix_metrics(vix, VixSettings(z_window=60, rel_vol_window=20, fill_limit=1))
    missing = pd.Timestamp("1997-01-31")  # a session the file has no row for
    assert missing not in vix.index and out.loc[missing, "ctx_vix"] == vix.loc["1997-01-30"]
    assert out["ctx_vix"].notna().all() and np.isfinite(out["ctx_vix_z"].iloc[60:]).all()


def test_market_context_on_real_spy_vix_and_fred_series_in_june_2019(real_data_dir):
    mappings = [m for m in load_mappings() if m.name in ("vix_cboe", "macros_fredgraph")]
    files = FilesConnector(mappings, root=real_data_dir)
    rows = files.fetch(FetchRequest("macros_fred", dt.date(2018, 1, 2), dt.date(2019, 6, 28))).frame
    spy = pd.read_csv(real_data_dir / "daily_bars" / "spy_daily_alphavantage_unadjusted.csv", parse_dates=["timestamp"])
    spy = spy[(spy["timestamp"] >= "2015-01-02") & (spy["timestamp"] <= "2019-06-28")]
    close = pd.Series(spy["close"].to_numpy(), index=spy["timestamp"]).sort_index()
    sessions = calendar.sessions("2019-06-03", "2019-06-28")
    vix = vix_known_at(rows, calendar.sessions("2018-01-02", "2019-06-28"))
    out = build_market_context(close, vix, rows, sessions).set_index("date")
    june4 = out.loc[dt.date(2019, 6, 4)]
    assert june4["ctx_term_spread"] == pytest.approx(2.07 - 2.35)  # the 10y-3m inversion of 2019, prints of June 3rd
    assert june4["ctx_vix"] == 16.97  # Cboe's close of June 4th, known the same session
    sma = close.rolling(200).mean()  # SPY has a bar every session of 2015-2019
    expected = np.sign(close - sma).loc["2019-06-03":"2019-06-28"].astype(int).tolist()
    assert out["ctx_trend_regime"].astype(int).tolist() == expected and expected[0] == -1  # below it after May's sell-off
    assert out["ctx_cpi_yoy"].between(0.0, 0.04).all() and out["ctx_gmm_state"].notna().all()

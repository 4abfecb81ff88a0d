"""The Cboe VIX history through the files connector (configs/files/vix_cboe.yml), and VIX metrics on it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.files import FilesConnector
from trademl.data.connectors.files.mapping import load_mappings
from trademl.features.market_context import vix_metrics
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

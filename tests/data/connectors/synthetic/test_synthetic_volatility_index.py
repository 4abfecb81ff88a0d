"""The synthetic market's own volatility index (VIXCLS) and 3-month bill yield (DGS3MO) among its macro series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from synthetic_requests import fetch

from trademl import calendar
from trademl.data.connectors.synthetic import macro
from trademl.data.connectors.synthetic.config import MarketParams
from trademl.data.connectors.synthetic.streams import Stream, session_draws
from trademl.data.connectors.synthetic.timeline import Timeline

ORIGIN = dt.date(2023, 1, 3)


def _garch_by_recursion(seed: int, origin: dt.date, market: MarketParams) -> np.ndarray:
    """market.py's GARCH(1,1) market variance, step by step (the reference for the closed form)."""
    tl = Timeline.build(origin)
    z = session_draws(seed, Stream.MARKET, tl.year, tl.pos_in_year, 1)[:, 0]
    h_bar = market.market_vol**2 / 252.0
    omega = h_bar * (1 - market.market_garch_alpha - market.market_garch_beta)
    h = np.empty(len(z))
    h[0] = h_bar
    for t in range(len(z) - 1):
        h[t + 1] = omega + market.market_garch_alpha * h[t] * z[t] ** 2 + market.market_garch_beta * h[t]
    return h


def test_market_variance_equals_the_garch_recursion_of_the_market():
    market = MarketParams()
    closed = macro.market_variance(7, ORIGIN, market).to_numpy()
    np.testing.assert_allclose(closed, _garch_by_recursion(7, ORIGIN, market), rtol=1e-9)


def test_vix_is_the_annualised_next_session_volatility_in_points_with_small_noise():
    market = MarketParams()
    h = macro.market_variance(7, ORIGIN, market)
    vix = macro.volatility_index(7, ORIGIN, market)
    model = 100.0 * np.sqrt(252.0 * h.to_numpy()[1:])
    log_gap = np.log(vix.to_numpy() / model)
    assert abs(log_gap.mean()) < 0.005 and 0.01 < log_gap.std() < 0.03
    assert vix.index[0] == pd.Timestamp(ORIGIN) and vix.min() > 5.0


def test_vix_and_bill_yield_are_published_the_next_session_and_never_revised(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-06-28", series=("VIXCLS", "DGS3MO"))
    assert set(frame["series_id"]) == {"VIXCLS", "DGS3MO"}
    assert not frame.duplicated(["series_id", "observation_date"]).any()
    obs = pd.DatetimeIndex(pd.to_datetime(frame["observation_date"]))
    nxt = calendar.all_sessions_index()[calendar.all_sessions_index().searchsorted(obs, side="right")]
    assert (pd.DatetimeIndex(pd.to_datetime(frame["vintage_date"])) == nxt).all()


def test_served_vix_follows_the_connectors_market(make_connector):
    conn = make_connector(market={"market_vol": 0.30})
    frame = fetch(conn, "macros_fred", "2024-01-02", "2024-03-28", series=("VIXCLS",))
    expected = macro.volatility_index(conn.config.seed, ORIGIN, conn.config.market)
    got = frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame["observation_date"])))["value"]
    pd.testing.assert_series_equal(got, expected.reindex(got.index), check_names=False)
    assert got.mean() > 20.0  # a 30 % market volatility, not the default 16 %


def test_adding_the_new_series_leaves_the_existing_series_unchanged():
    with_market = macro.vintages(7, 2021, ORIGIN, MarketParams())
    without = macro.vintages(7, 2021)
    old = ["DGS10", "UNRATE", "CPIAUCSL", "GDP"]
    a = with_market[with_market["series_id"].isin(old)].reset_index(drop=True)
    b = without[without["series_id"].isin(old)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert "VIXCLS" not in set(without["series_id"])

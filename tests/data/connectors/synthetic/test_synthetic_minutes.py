"""Minute bars follow the XNYS calendar in UTC (half days, DST) and aggregate to the daily bar."""

from __future__ import annotations

import pandas as pd
from synthetic_requests import fetch


def test_half_day_has_210_bars_per_symbol_ending_at_13_et(make_connector):
    conn = make_connector()
    frame = fetch(conn, "equities_minute", "2024-11-29", "2024-11-29")
    counts = frame.groupby("symbol").size()
    assert list(counts.index) == conn.universe_symbols(pd.Timestamp("2024-11-29").date())
    assert (counts == 210).all()
    assert frame["ts"].min() == pd.Timestamp("2024-11-29 14:30", tz="UTC")
    assert frame["ts"].max() == pd.Timestamp("2024-11-29 17:59", tz="UTC")  # last bar starts 12:59 ET


def test_dst_switch_moves_the_utc_open_by_one_hour(make_connector):
    conn = make_connector()
    before = fetch(conn, "equities_minute", "2024-03-08", "2024-03-08")  # EST: 09:30 ET = 14:30 UTC
    after = fetch(conn, "equities_minute", "2024-03-11", "2024-03-11")  # EDT: 09:30 ET = 13:30 UTC
    assert before["ts"].min() == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert after["ts"].min() == pd.Timestamp("2024-03-11 13:30", tz="UTC")
    assert after["ts"].max() == pd.Timestamp("2024-03-11 19:59", tz="UTC")
    assert (after.groupby("symbol").size() == 390).all()


def test_complete_minute_session_aggregates_to_the_daily_bar(make_connector):
    conn = make_connector()
    minute = fetch(conn, "equities_minute", "2024-05-15", "2024-05-15").sort_values(["symbol", "ts"])
    daily = fetch(conn, "equities_eod", "2024-05-15", "2024-05-15").set_index("symbol")
    agg = minute.groupby("symbol").agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"), volume=("volume", "sum")
    )
    for col in ("open", "high", "low", "close"):
        pd.testing.assert_series_equal(agg[col], daily.loc[agg.index, col], check_names=False, atol=1e-4, rtol=0)
    assert (agg["volume"] == daily.loc[agg.index, "volume"]).all()


def test_missing_minute_rate_follows_the_config(make_connector):
    conn = make_connector(n_symbols=30, minute_missing_prob=0.02)
    frame = fetch(conn, "equities_minute", "2024-05-13", "2024-05-17")
    expected = len(fetch(conn, "equities_eod", "2024-05-13", "2024-05-17")) * 390
    missing = 1 - len(frame) / expected
    assert 0.013 < missing < 0.027
    assert frame.groupby("symbol").size().lt(5 * 390).any()


def test_no_minutes_are_missing_when_the_rate_is_zero(make_connector):
    conn = make_connector(minute_missing_prob=0.0)
    frame = fetch(conn, "equities_minute", "2024-05-13", "2024-05-14")
    assert len(frame) == len(fetch(conn, "equities_eod", "2024-05-13", "2024-05-14")) * 390

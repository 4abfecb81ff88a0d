"""Massive (Polygon) connector against a local server speaking Massive's wire format."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from vendor_wire import MassiveSim, daily_bars, malformed, minute_bars, status

from trademl.data.connectors.base import FetchRequest, VendorAuthError, VendorError
from trademl.data.connectors.massive import MassiveConnector
from trademl.schemas import conform

KEY = "massive-key-abcdef123456"


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASSIVE_API_KEY", KEY)


def _conn(url, clock, limits):
    return MassiveConnector(base_url=url, limits=limits, clock=clock, sleep=clock.sleep)


def test_aggregates_follow_next_url_rerooted_on_the_configured_host(key, mount, clock, generous):
    sim = MassiveSim(key=KEY, aggs={"day": daily_bars(["AAPL", "MSFT"], "2024-03-01", "2024-03-28")}, page_cap=6)
    conn = _conn(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 28), symbols=("AAPL", "MSFT"))).frame
    assert len(frame) == 40
    # 20 bars per ticker, 6 per page -> 4 pages per ticker; next_url named api.massive.com but stayed local
    assert len(sim.seen) == 8
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in sim.seen)
    assert sim.seen[0].path == "/v2/aggs/ticker/AAPL/range/1/day/2024-03-01/2024-03-28"
    assert sim.seen[0].args["adjusted"] == "false" and sim.seen[0].args["limit"] == "50000"
    assert [r.args.get("cursor") is not None for r in sim.seen[:4]] == [False, True, True, True]
    conform("equities_eod", frame, vendor="massive")


def test_daily_aggregate_dates_are_exchange_days_across_dst(key, mount, clock, generous):
    sim = MassiveSim(key=KEY, aggs={"day": daily_bars(["AAPL"], "2024-03-07", "2024-03-12")})
    frame = _conn(mount(sim), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 7), dt.date(2024, 3, 12), symbols=("AAPL",))
    ).frame
    assert [d.isoformat() for d in pd.to_datetime(frame["date"]).dt.date] == ["2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12"]
    assert frame["vendor_ts"].iloc[1] == pd.Timestamp("2024-03-08 05:00", tz="UTC")
    assert frame["vendor_ts"].iloc[2] == pd.Timestamp("2024-03-11 04:00", tz="UTC")


def test_minute_aggregates_keep_regular_hours_in_utc(key, mount, clock, generous):
    sim = MassiveSim(key=KEY, aggs={"minute": minute_bars(["SPY"], "2024-03-08", "2024-03-11")}, page_cap=500)
    frame = _conn(mount(sim), clock, generous).fetch(
        FetchRequest("equities_minute", dt.date(2024, 3, 8), dt.date(2024, 3, 11), symbols=("SPY",))
    ).frame
    assert len(frame) == 780
    first = frame.groupby("date")["ts"].min().tolist()
    assert first == [pd.Timestamp("2024-03-08 14:30", tz="UTC"), pd.Timestamp("2024-03-11 13:30", tz="UTC")]


def test_splits_and_dividends_become_corp_actions(key, mount, clock, generous):
    sim = MassiveSim(
        key=KEY,
        splits=[{"ticker": "NVDA", "execution_date": "2024-06-10", "split_from": 1, "split_to": 10}],
        dividends=[
            {"ticker": "NVDA", "ex_dividend_date": "2024-06-11", "record_date": "2024-06-11", "pay_date": "2024-06-28", "cash_amount": 0.01},
            {"ticker": "NVDA", "ex_dividend_date": "2024-03-05", "record_date": "2024-03-06", "pay_date": "2024-03-27", "cash_amount": 0.04},
            {"ticker": "NVDA", "ex_dividend_date": "2023-12-05", "record_date": "2023-12-06", "pay_date": "2023-12-28", "cash_amount": 0.04},
        ],
    )
    frame = _conn(mount(sim), clock, generous).fetch(
        FetchRequest("corp_actions", dt.date(2024, 1, 2), dt.date(2024, 6, 28), symbols=("NVDA",))
    ).frame
    assert sorted(zip(frame["event_type"], frame["ex_date"].astype(str))) == [
        ("DIVIDEND", "2024-03-05"), ("DIVIDEND", "2024-06-11"), ("SPLIT", "2024-06-10")]
    assert frame.loc[frame["event_type"] == "SPLIT", "ratio"].item() == 10.0
    conform("corp_actions", frame, vendor="massive")


def test_ticker_details_give_delistings_and_unknown_tickers_are_skipped(key, mount, clock, generous):
    sim = MassiveSim(key=KEY, tickers=[
        {"ticker": "SIVB", "active": False, "delisted_utc": "2023-03-28T00:00:00Z", "primary_exchange": "XNAS"},
        {"ticker": "AAPL", "active": True},
    ])
    frame = _conn(mount(sim), clock, generous).fetch(
        FetchRequest("delistings", dt.date(2023, 1, 3), dt.date(2023, 12, 29), symbols=("SIVB", "AAPL", "NOPE"))
    ).frame
    assert frame["symbol"].tolist() == ["SIVB"]
    assert str(frame["delist_date"].iloc[0]) == "2023-03-28"
    assert len(sim.seen) == 3


def test_bad_key_is_an_auth_error_naming_both_variables(mount, clock, generous, monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", "polygon-wrong-key-999")
    sim = MassiveSim(key=KEY, aggs={"day": daily_bars(["AAPL"], "2024-03-01", "2024-03-08")})
    with pytest.raises(VendorAuthError) as err:
        _conn(mount(sim), clock, generous).fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert "MASSIVE_API_KEY" in str(err.value) and "POLYGON_API_KEY" in str(err.value)
    assert "polygon-wrong-key-999" not in str(err.value)


def test_429_then_success(key, mount, clock, generous):
    sim = MassiveSim(key=KEY, aggs={"day": daily_bars(["AAPL"], "2024-03-01", "2024-03-08")})
    sim.fault(status(429, headers={"Retry-After": "12"}))
    frame = _conn(mount(sim), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 8), symbols=("AAPL",))
    ).frame
    assert len(frame) == 6 and clock.sleeps == [12.0] and len(sim.seen) == 2


def test_malformed_aggregates_raise_with_qc_code(key, mount, clock, generous):
    sim = MassiveSim(key=KEY)
    sim.fault(malformed(b'{"status":"OK","results":[{"t":1709269200000,"o":1'))
    with pytest.raises(VendorError) as err:
        _conn(mount(sim), clock, generous).fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert err.value.qc_code == "MALFORMED_PAYLOAD"

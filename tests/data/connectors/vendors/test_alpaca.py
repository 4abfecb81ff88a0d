"""Alpaca market data v2 connector against a local server speaking Alpaca's wire format."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
from vendor_wire import AlpacaSim, daily_bars, malformed, minute_bars, status, truncated_transfer

from trademl.data.connectors.alpaca import AlpacaConnector
from trademl.data.connectors.base import FetchRequest, VendorAuthError, VendorError, VendorUnavailable
from trademl.data.http import VendorBudgetExhausted, VendorLimits
from trademl.schemas import conform

KEY_ID, SECRET = "AKTESTKEYID0001", "s3cr3t-value-never-printed"
SYMBOLS = ["AAPL", "MSFT", "SPY"]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPACA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", SECRET)


def _sim(clock, *, page_cap=None, start="2024-03-01", end="2024-03-29", minute_start="2024-03-08", minute_end="2024-03-11"):
    bars = {"1Day": daily_bars(SYMBOLS, start, end), "1Min": minute_bars(SYMBOLS, minute_start, minute_end)}
    return AlpacaSim(bars, key_id=KEY_ID, secret=SECRET, page_cap=page_cap, clock=clock)


def _connector(url, clock, limits):
    return AlpacaConnector(base_url=url, limits=limits, clock=clock, sleep=clock.sleep)


def test_daily_bars_paginate_until_the_last_page_token(keys, mount, clock, generous):
    sim = _sim(clock, page_cap=7)
    conn = _connector(mount(sim), clock, generous)
    result = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 29), symbols=tuple(SYMBOLS)))
    frame = result.to_pandas()
    sessions = 20  # XNYS sessions in March 2024 (Good Friday 03-29 is a holiday)
    assert len(frame) == 3 * sessions
    assert len(sim.seen) == -(-3 * sessions // 7)  # ceil: every page fetched exactly once
    tokens = [r.args.get("page_token") for r in sim.seen]
    assert tokens[0] is None and all(tokens[1:]) and len(set(tokens[1:])) == len(tokens) - 1
    assert result.failed_sessions == {}
    conform("equities_eod", frame, vendor="alpaca")


def test_daily_request_carries_alpaca_query_parameters_and_auth_headers(keys, mount, clock, generous, monkeypatch):
    monkeypatch.setenv("ALPACA_FEED", "sip")
    sim = _sim(clock)
    conn = _connector(mount(sim), clock, generous)
    conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL", "MSFT")))
    req = sim.seen[0]
    assert req.path == "/v2/stocks/bars"
    assert req.args["symbols"] == "AAPL,MSFT"
    assert req.args["timeframe"] == "1Day"
    assert req.args["adjustment"] == "raw"
    assert req.args["feed"] == "sip"
    assert req.args["limit"] == "10000"
    assert req.args["sort"] == "asc"
    assert req.headers["APCA-API-KEY-ID"] == KEY_ID and req.headers["APCA-API-SECRET-KEY"] == SECRET


def test_last_session_daily_bar_is_included(keys, mount, clock, generous):
    conn = _connector(mount(_sim(clock)), clock, generous)
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",))).to_pandas()
    assert sorted(pd.to_datetime(frame["date"]).dt.date.unique()) == [dt.date(2024, 3, d) for d in (4, 5, 6, 7, 8)]


def test_feed_defaults_to_iex(keys, mount, clock, generous):
    sim = _sim(clock)
    _connector(mount(sim), clock, generous).fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL",)))
    assert sim.seen[0].args["feed"] == "iex"


def test_apca_variable_names_are_accepted(mount, clock, generous, monkeypatch):
    monkeypatch.setenv("APCA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    frame = _connector(mount(_sim(clock)), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL",))
    ).to_pandas()
    assert len(frame) == 1


def test_minute_bars_are_utc_and_regular_session_across_the_dst_switch(keys, mount, clock, generous):
    sim = _sim(clock, page_cap=10_000)
    conn = _connector(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_minute", dt.date(2024, 3, 8), dt.date(2024, 3, 11), symbols=tuple(SYMBOLS))).to_pandas()
    assert str(frame["ts"].dt.tz) == "UTC"
    per_day = frame.groupby(pd.to_datetime(frame["date"]).dt.date)["ts"].agg(["min", "max", "count"])
    # Friday 2024-03-08 is EST (open 14:30Z); Monday 2024-03-11 is after the switch to EDT (open 13:30Z).
    assert per_day.loc[dt.date(2024, 3, 8), "min"] == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert per_day.loc[dt.date(2024, 3, 8), "max"] == pd.Timestamp("2024-03-08 20:59", tz="UTC")
    assert per_day.loc[dt.date(2024, 3, 11), "min"] == pd.Timestamp("2024-03-11 13:30", tz="UTC")
    assert per_day.loc[dt.date(2024, 3, 11), "max"] == pd.Timestamp("2024-03-11 19:59", tz="UTC")
    assert per_day["count"].tolist() == [390 * 3, 390 * 3]
    assert set(frame["session_id"]) == {"XNYS:2024-03-08", "XNYS:2024-03-11"}
    conform("equities_minute", frame, vendor="alpaca")


def test_half_day_keeps_210_minutes(keys, mount, clock, generous):
    sim = _sim(clock, minute_start="2023-11-24", minute_end="2023-11-24")
    conn = _connector(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_minute", dt.date(2023, 11, 24), dt.date(2023, 11, 24), symbols=("AAPL",))).to_pandas()
    assert len(frame) == 210
    assert frame["ts"].max() == pd.Timestamp("2023-11-24 17:59", tz="UTC")


def test_429_freezes_for_retry_after_then_resumes(keys, mount, clock, generous):
    sim = _sim(clock, page_cap=20)
    sim.fault(status(429, headers={"Retry-After": "7"}))
    conn = _connector(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 29), symbols=tuple(SYMBOLS))).to_pandas()
    assert len(frame) == 60
    assert 7.0 in clock.sleeps
    assert len(sim.seen) == 1 + 3  # the throttled request plus three pages of 20
    assert sim.seen_at[1] - sim.seen_at[0] >= 7.0  # nothing was sent during the freeze


def test_429_without_retry_after_uses_the_reset_header(keys, mount, clock, generous):
    sim = _sim(clock)
    sim.fault(status(429, headers={"X-RateLimit-Reset": str(int(clock()) + 42)}))
    conn = _connector(mount(sim), clock, generous)
    conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL",)))
    assert clock.sleeps == [42.0]


def test_429_without_any_hint_freezes_for_vendor_freeze_seconds(keys, mount, clock, monkeypatch):
    monkeypatch.setenv("VENDOR_FREEZE_SECONDS_ALPACA", "13")
    from trademl.data.http import vendor_limits

    sim = _sim(clock)
    sim.fault(status(429))
    conn = _connector(mount(sim), clock, vendor_limits("alpaca"))
    conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL",)))
    assert 13.0 in clock.sleeps


def test_rate_limit_remaining_zero_pauses_until_the_window_resets(keys, mount, clock, generous):
    sim = _sim(clock, page_cap=20)
    sim.remaining_script.extend([0])
    conn = _connector(mount(sim), clock, generous)
    conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 29), symbols=tuple(SYMBOLS)))
    assert sim.seen_at[1] - sim.seen_at[0] >= 60.0  # X-RateLimit-Reset was now + 60 s
    assert len(sim.seen) == 3


def test_server_errors_are_retried_with_backoff(keys, mount, clock, generous):
    sim = _sim(clock)
    sim.fault(status(500), status(503))
    conn = _connector(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",))).to_pandas()
    assert len(frame) == 5
    assert len(sim.seen) == 3
    assert len(clock.sleeps) == 2 and all(0 <= s <= 30 for s in clock.sleeps)


def test_persistent_server_errors_become_vendor_unavailable(keys, mount, clock, generous):
    sim = _sim(clock)
    sim.fault(*[status(500)] * 10)
    conn = _connector(mount(sim), clock, generous)
    with pytest.raises(VendorUnavailable) as err:
        conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert err.value.qc_code == "VENDOR_OUTAGE"
    assert len(sim.seen) == conn.client.max_retries + 1


def test_truncated_transfer_is_retried(keys, mount, clock, generous):
    sim = _sim(clock)
    sim.fault(truncated_transfer())
    conn = _connector(mount(sim), clock, generous)
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",))).to_pandas()
    assert len(frame) == 5 and len(sim.seen) == 2


@pytest.mark.parametrize(
    "body",
    [b'{"bars": {"AAPL": [{"t": "2024-03-04T05:00:00Z", "o": 1', b"<html>502 Bad Gateway</html>", b'{"bars": [1, 2]}'],
    ids=["cut-json", "html", "wrong-shape"],
)
def test_malformed_body_raises_vendor_error_with_qc_code(keys, mount, clock, generous, body):
    sim = _sim(clock)
    sim.fault(malformed(body))
    conn = _connector(mount(sim), clock, generous)
    with pytest.raises(VendorError) as err:
        conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert err.value.qc_code == "MALFORMED_PAYLOAD"


def test_daily_cap_is_never_exceeded(keys, mount, clock):
    sim = _sim(clock, page_cap=5)
    limits = VendorLimits(hard_rpm=1000, burst_limit=100, soft_daily_cap=4, freeze_seconds=60, max_inflight=1)
    conn = _connector(mount(sim), clock, limits)
    with pytest.raises(VendorBudgetExhausted):
        conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 29), symbols=tuple(SYMBOLS)))
    assert len(sim.seen) == 4


def test_requests_per_minute_stay_within_hard_rpm(keys, mount, clock):
    sim = _sim(clock, page_cap=3)
    limits = VendorLimits(hard_rpm=6, burst_limit=2, soft_daily_cap=None, freeze_seconds=60, max_inflight=1)
    conn = _connector(mount(sim), clock, limits)
    conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 1), dt.date(2024, 3, 29), symbols=("AAPL",)))
    times = pd.Series(sim.seen_at)
    assert len(times) == 7  # 20 sessions / 3 per page
    # any 60 s window holds at most burst + rpm requests
    for t0 in times:
        assert ((times >= t0) & (times < t0 + 60)).sum() <= 2 + 6
    assert times.iloc[-1] - times.iloc[0] >= (7 - 2) * 10.0 - 1e-6  # one token per 10 s after the burst


def test_rejected_key_names_the_variables_and_hides_the_value(keys, mount, clock, generous, monkeypatch):
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", "wrong-secret-value-123")
    sim = _sim(clock)
    conn = _connector(mount(sim), clock, generous)
    with pytest.raises(VendorAuthError) as err:
        conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",)))
    text = str(err.value)
    assert "ALPACA_API_KEY_ID" in text and "ALPACA_API_SECRET_KEY" in text and "401" in text
    assert "wrong-secret-value-123" not in text and KEY_ID not in text
    assert len(sim.seen) == 1  # auth failures are not retried


def test_missing_key_fails_before_anything_is_sent(mount, clock, generous):
    sim = _sim(clock)
    conn = _connector(mount(sim), clock, generous)
    with pytest.raises(VendorAuthError, match="ALPACA_API_KEY_ID or APCA_API_KEY_ID"):
        conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert sim.seen == []


def test_metadata_columns_are_filled_without_credentials(keys, mount, clock, generous):
    frame = _connector(mount(_sim(clock)), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 5), symbols=("AAPL",))
    ).to_pandas()
    assert set(frame["source_name"]) == {"alpaca"} and set(frame["api_version"]) == {"v2"}
    uri = frame["source_uri"].iloc[0]
    assert uri.startswith("http://") and "/v2/stocks/bars" in uri and SECRET not in uri and KEY_ID not in uri
    assert frame["ingested_at"].notna().all()
    assert (frame["vendor_ts"] == pd.Timestamp("2024-03-04 05:00", tz="UTC")).iloc[0]


def test_symbol_without_data_is_missing_from_the_frame_not_an_error(keys, mount, clock, generous):
    result = _connector(mount(_sim(clock)), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 5), symbols=("AAPL", "VIX"))
    )
    assert set(result.to_pandas()["symbol"]) == {"AAPL"}


def test_base_url_comes_from_the_environment(keys, mount, clock, monkeypatch):
    sim = _sim(clock)
    monkeypatch.setenv("ALPACA_API_BASE_URL", mount(sim))
    conn = AlpacaConnector.from_env()
    frame = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL",))).to_pandas()
    assert len(frame) == 1 and len(sim.seen) == 1


def test_bars_come_back_as_an_arrow_table_in_the_dataset_schema_order(keys, mount, clock, generous):
    from trademl.schemas import table_spec

    conn = _connector(mount(_sim(clock)), clock, generous)
    result = conn.fetch(FetchRequest("equities_minute", dt.date(2024, 3, 8), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert isinstance(result.frame, pa.Table) and result.num_rows == 390
    assert result.frame.schema.names == table_spec("equities_minute").schema.names

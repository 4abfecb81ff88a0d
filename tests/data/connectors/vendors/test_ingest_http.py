"""Vendor payloads through trademl.data.ingest: idempotent re-ingest, rejected payloads never overwrite stored rows."""

from __future__ import annotations

import datetime as dt

import pytest
from vendor_wire import AlpacaSim, daily_bars, malformed

from trademl.data import control
from trademl.data.connectors.alpaca import AlpacaConnector
from trademl.data.lake import Lake

KEY_ID, SECRET = "AKINGEST0001", "ingest-secret-0001"
SYMBOLS = ["AAPL", "MSFT"]


@pytest.fixture
def setup(tmp_path, monkeypatch, mount, clock, generous):
    pytest.importorskip("trademl.data.qc")
    monkeypatch.setenv("ALPACA_API_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", SECRET)
    sim = AlpacaSim({"1Day": daily_bars(SYMBOLS, "2024-03-04", "2024-03-08")}, key_id=KEY_ID, secret=SECRET, clock=clock)
    conn = AlpacaConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    lake = Lake(tmp_path / "lake")
    engine = control.make_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")
    return sim, conn, lake, engine


def _ingest(conn, lake, engine):
    from trademl.data.ingest import ingest

    return ingest("equities_eod", "2024-03-04", "2024-03-08", connector=conn, lake=lake, engine=engine, symbols=SYMBOLS)


def test_vendor_bars_ingest_green_and_reingest_is_idempotent(setup):
    sim, conn, lake, engine = setup
    first = _ingest(conn, lake, engine)
    assert first.colour_counts == {"GREEN": 5, "AMBER": 0, "RED": 0} and first.partitions_written == 5
    again = _ingest(conn, lake, engine)
    assert again.partitions_written == 0 and again.partitions_unchanged == 5
    assert len(sim.seen) == 2
    assert len(lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8))) == 10


def test_inconsistent_bar_turns_its_session_red_and_keeps_the_stored_rows(setup):
    sim, conn, lake, engine = setup
    _ingest(conn, lake, engine)
    before = lake.read_partition("raw/equities_bars", dt.date(2024, 3, 6)).to_pandas()
    bars = sim.bars["1Day"]
    bad = bars["t"].dt.tz_convert("America/New_York").dt.date == dt.date(2024, 3, 6)
    shifted = bars.assign(**{c: bars[c] + 0.5 for c in ("o", "h", "l", "c")})  # a revised payload...
    sim.bars["1Day"] = shifted.assign(h=shifted["h"].where(~bad, shifted["l"] - 1.0))  # ...with high below low on 03-06
    report = _ingest(conn, lake, engine)
    assert report.summaries["2024-03-06"].color == "RED"
    assert "SCHEMA_VIOLATION" in report.summaries["2024-03-06"].qc_codes
    after = lake.read_partition("raw/equities_bars", dt.date(2024, 3, 6)).to_pandas()
    assert after[["symbol", "high", "close"]].equals(before[["symbol", "high", "close"]])
    # The other sessions took the new closes; every bar revised, so they await review (AMBER).
    assert report.summaries["2024-03-05"].color == "AMBER"
    assert report.summaries["2024-03-05"].qc_codes == ["LARGE_REVISION"]
    stored = lake.read_partition("raw/equities_bars", dt.date(2024, 3, 5)).to_pandas()
    assert (stored["close"] == bars.loc[bars["t"].dt.tz_convert("America/New_York").dt.date == dt.date(2024, 3, 5), "c"].to_numpy() + 0.5).all()


def test_malformed_payload_on_an_empty_lake_is_red_with_its_qc_code(setup):
    sim, conn, lake, engine = setup
    sim.fault(malformed())
    report = _ingest(conn, lake, engine)
    assert report.colour_counts["RED"] == 5
    assert all(s.qc_codes == ["MALFORMED_PAYLOAD"] for s in report.summaries.values())
    status = control.read_partition_status(engine, table_name="raw/equities_bars")
    assert set(status["status"]) == {"RED"} and set(status["qc_code"]) == {"MALFORMED_PAYLOAD"}


def test_malformed_payload_overwrites_nothing_already_stored(setup):
    sim, conn, lake, engine = setup
    _ingest(conn, lake, engine)
    before = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
    sim.fault(malformed())
    report = _ingest(conn, lake, engine)
    assert all("MALFORMED_PAYLOAD" in why for why in report.failed_sessions.values())
    assert report.partitions_written == 0
    after = lake.read("raw/equities_bars", start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 8)).to_pandas()
    assert after.equals(before)
    # the rejected payload marks the sessions RED with its code; the stored rows stay as they were
    assert report.colour_counts["RED"] == 5
    assert all(s.qc_codes == ["MALFORMED_PAYLOAD"] for s in report.summaries.values())

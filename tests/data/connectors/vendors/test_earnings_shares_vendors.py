"""Earnings calendars and shares outstanding from FMP, Finnhub and Alpha Vantage, against local servers
speaking their wire formats; the PIT dating of trademl.data.connectors.pit_reference."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from vendor_wire import VendorSim, json_response, status
from werkzeug import Request, Response

from trademl.data.connectors.alpha_vantage import AlphaVantageConnector
from trademl.data.connectors.base import FetchRequest, VendorError
from trademl.data.connectors.finnhub import FinnhubConnector
from trademl.data.connectors.fmp import FmpConnector
from trademl.data.http import ManualClock
from trademl.schemas import conform

FMP_KEY, FH_KEY, AV_KEY = "fmpkey0123456789", "fhkey0123456789", "AVKEY0123456789"
# Fetched on Monday 2024-03-04 at 15:00 UTC (10:00 New York, the session is open): known from that session.
FETCHED = pd.Timestamp("2024-03-04 15:00", tz="UTC")
# The same fetch after the close (22:00 UTC): known from the next session.
FETCHED_LATE = pd.Timestamp("2024-03-04 22:00", tz="UTC")


def _clock(at: pd.Timestamp) -> ManualClock:
    return ManualClock(start=at.timestamp())


class FmpCalendarSim(VendorSim):
    """FMP /api/v3/earning_calendar (from..to filter) and /api/v4/historical/shares_float?symbol=."""

    def __init__(self, *, events: list[dict], floats: dict[str, list[dict]] | None = None) -> None:
        super().__init__()
        self.events, self.floats = events, floats or {}

    def check_auth(self, request: Request) -> Response | None:
        if request.args.get("apikey") != FMP_KEY:
            return json_response({"Error Message": "Invalid API KEY."}, status=401)
        return None

    def serve(self, request: Request) -> Response:
        if request.path == "/api/v3/earning_calendar":
            lo, hi = request.args["from"], request.args["to"]
            return json_response([e for e in self.events if lo <= e["date"] <= hi])
        if request.path == "/api/v4/historical/shares_float":
            return json_response(self.floats.get(request.args.get("symbol", ""), []))
        return status(404)


def _fmp_event(symbol: str, date: str, time: str) -> dict:
    return {"date": date, "symbol": symbol, "eps": None, "epsEstimated": 1.5, "time": time, "revenue": None,
            "revenueEstimated": 9.0e10, "fiscalDateEnding": "2024-03-30", "updatedFromDate": "2024-03-01"}


def _fmp(url: str, at: pd.Timestamp, generous) -> FmpConnector:
    clock = _clock(at)
    return FmpConnector(base_url=url, limits=generous, clock=clock, sleep=clock.sleep)


def test_fmp_calendar_fetched_forward_is_known_from_the_fetch_session(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    sim = FmpCalendarSim(events=[_fmp_event("AAPL", "2024-05-02", "amc"), _fmp_event("JPM", "2024-04-12", "bmo")])
    frame = _fmp(mount(sim), FETCHED, generous).fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 4))).frame
    assert frame["symbol"].tolist() == ["AAPL", "JPM"]
    assert frame["known_date"].astype(str).tolist() == ["2024-03-04", "2024-03-04"]
    assert frame["time_of_day"].tolist() == ["amc", "bmo"]
    assert (frame["date"] == frame["known_date"]).all()
    assert all(FMP_KEY not in u for u in frame["source_uri"])
    conform("earnings_calendar", frame, vendor="fmp")


def test_fmp_calendar_fetched_after_the_close_is_known_from_the_next_session(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    sim = FmpCalendarSim(events=[_fmp_event("AAPL", "2024-05-02", "amc")])
    frame = _fmp(mount(sim), FETCHED_LATE, generous).fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 5))).frame
    assert frame["known_date"].astype(str).tolist() == ["2024-03-05"]


def test_fmp_history_is_known_no_earlier_than_the_announcement(monkeypatch, mount, generous):
    """Past announcements: bmo/dmh from their own session, amc or unknown time from the next one."""
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    sim = FmpCalendarSim(events=[_fmp_event("AAPL", "2024-02-01", "amc"), _fmp_event("JPM", "2024-01-12", "bmo"),
                                 _fmp_event("XOM", "2024-02-02", "--")])
    frame = _fmp(mount(sim), FETCHED, generous).fetch(FetchRequest("earnings_calendar", dt.date(2024, 1, 2), dt.date(2024, 2, 29))).frame
    got = dict(zip(frame["symbol"], frame["known_date"].astype(str)))
    assert got == {"JPM": "2024-01-12", "AAPL": "2024-02-02", "XOM": "2024-02-05"}  # 02-02 is a Friday
    assert frame.set_index("symbol").loc["XOM", "time_of_day"] is None


def test_an_after_the_close_announcement_on_the_eve_is_known_at_the_first_session(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    sim = FmpCalendarSim(events=[_fmp_event("AAPL", "2024-02-01", "amc")])
    frame = _fmp(mount(sim), FETCHED, generous).fetch(FetchRequest("earnings_calendar", dt.date(2024, 2, 2), dt.date(2024, 2, 2))).frame
    assert frame["known_date"].astype(str).tolist() == ["2024-02-02"]


def test_fmp_calendar_windows_stay_within_three_months(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    sim = FmpCalendarSim(events=[])
    _fmp(mount(sim), FETCHED, generous).fetch(FetchRequest("earnings_calendar", dt.date(2023, 1, 3), dt.date(2023, 12, 29)))
    spans = [(pd.Timestamp(r.args["to"]) - pd.Timestamp(r.args["from"])).days for r in sim.seen]
    assert len(sim.seen) >= 5 and max(spans) < 92
    assert sim.seen[0].args["from"] == "2022-12-27"  # a week before the request: the eve's amc announcements


def test_fmp_shares_float_snapshot_counts_from_the_next_session(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    floats = {"AAPL": [
        {"symbol": "AAPL", "date": "2024-02-09", "freeFloat": 99.9, "floatShares": 15_400_000_000, "outstandingShares": 15_441_900_000,
         "source": "https://www.sec.gov/Archives/edgar/data/320193/000032019324000006/0000320193-24-000006-index.htm"},
        {"symbol": "AAPL", "date": "2024-01-31", "freeFloat": 99.9, "floatShares": 15_400_000_000, "outstandingShares": 15_460_200_000,
         "source": None},
        {"symbol": "AAPL", "date": "2023-10-31", "freeFloat": 99.9, "floatShares": 0, "outstandingShares": 0, "source": None},
    ]}
    sim = FmpCalendarSim(events=[], floats=floats)
    frame = _fmp(mount(sim), FETCHED, generous).fetch(
        FetchRequest("shares_outstanding", dt.date(2023, 10, 2), dt.date(2024, 2, 29), symbols=("AAPL",))).frame
    assert frame["date"].astype(str).tolist() == ["2024-02-01", "2024-02-12"]  # the day after each snapshot (02-09 is a Friday)
    assert frame["shares_outstanding"].tolist() == [15_460_200_000.0, 15_441_900_000.0]  # a zero count is not data
    assert frame["filing_date"].isna().all()
    conform("shares_outstanding", frame, vendor="fmp")


def test_fmp_shares_need_symbols(monkeypatch, mount, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    with pytest.raises(VendorError, match="pass symbols"):
        _fmp(mount(FmpCalendarSim(events=[])), FETCHED, generous).fetch(FetchRequest("shares_outstanding", dt.date(2024, 1, 2), dt.date(2024, 1, 5)))


class FinnhubCalendarSim(VendorSim):
    """Finnhub /calendar/earnings?from=&to=[&symbol=] -> {"earningsCalendar": [...]}."""

    def __init__(self, events: list[dict]) -> None:
        super().__init__()
        self.events = events

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("X-Finnhub-Token") != FH_KEY:
            return json_response({"error": "Invalid API key"}, status=401)
        return None

    def serve(self, request: Request) -> Response:
        if request.path != "/api/v1/calendar/earnings":
            return status(404)
        q = request.args
        rows = [e for e in self.events if q["from"] <= e["date"] <= q["to"] and q.get("symbol", e["symbol"]) == e["symbol"]]
        return json_response({"earningsCalendar": rows})


def _fh_event(symbol: str, date: str, hour: str) -> dict:
    return {"date": date, "epsActual": None, "epsEstimate": 1.5, "hour": hour, "quarter": 2, "revenueActual": None,
            "revenueEstimate": 9.0e10, "symbol": symbol, "year": 2024}


def test_finnhub_calendar_one_call_per_symbol_with_hours(monkeypatch, mount, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    sim = FinnhubCalendarSim([_fh_event("AAPL", "2024-05-02", "amc"), _fh_event("MSFT", "2024-04-25", "dmh"),
                              _fh_event("IBM", "2024-04-24", "")])
    clock = _clock(FETCHED)
    conn = FinnhubConnector(base_url=mount(sim) + "/api/v1", limits=generous, clock=clock, sleep=clock.sleep)
    frame = conn.fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 4), symbols=("AAPL", "MSFT"))).frame
    assert [r.args["symbol"] for r in sim.seen] == ["AAPL", "MSFT"]
    assert dict(zip(frame["symbol"], frame["time_of_day"])) == {"AAPL": "amc", "MSFT": "dmh"}
    assert set(frame["known_date"].astype(str)) == {"2024-03-04"}
    conform("earnings_calendar", frame, vendor="finnhub")


def test_finnhub_calendar_without_symbols_is_one_market_call(monkeypatch, mount, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    sim = FinnhubCalendarSim([_fh_event("IBM", "2024-04-24", "")])
    clock = _clock(FETCHED)
    conn = FinnhubConnector(base_url=mount(sim) + "/api/v1", limits=generous, clock=clock, sleep=clock.sleep)
    frame = conn.fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 4))).frame
    assert len(sim.seen) == 1 and "symbol" not in sim.seen[0].args
    assert frame["symbol"].tolist() == ["IBM"] and frame["time_of_day"].tolist() == [None]


def test_finnhub_calendar_without_the_list_is_malformed(monkeypatch, mount, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)

    class Broken(FinnhubCalendarSim):
        def serve(self, request: Request) -> Response:
            return json_response({"data": []})

    clock = _clock(FETCHED)
    conn = FinnhubConnector(base_url=mount(Broken([])) + "/api/v1", limits=generous, clock=clock, sleep=clock.sleep)
    with pytest.raises(VendorError, match="earningsCalendar"):
        conn.fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 4)))


class AlphaVantageRefSim(VendorSim):
    """Alpha Vantage /query: EARNINGS_CALENDAR (CSV) and OVERVIEW (JSON)."""

    def __init__(self, *, calendar_rows: list[tuple[str, ...]], overview: dict[str, dict]) -> None:
        super().__init__()
        self.calendar_rows, self.overview = calendar_rows, overview

    def check_auth(self, request: Request) -> Response | None:
        if request.args.get("apikey") != AV_KEY:
            return json_response({"Error Message": "the parameter apikey is invalid or missing."})
        return None

    def serve(self, request: Request) -> Response:
        fn = request.args.get("function")
        if fn == "EARNINGS_CALENDAR":
            out = io.StringIO()
            out.write("symbol,name,reportDate,fiscalDateEnding,estimate,currency,timeOfTheDay\r\n")
            for r in self.calendar_rows:
                if request.args.get("symbol", r[0]) == r[0]:
                    out.write(",".join(r) + "\r\n")
            return Response(out.getvalue(), content_type="application/x-download")
        if fn == "OVERVIEW":
            return json_response(self.overview.get(request.args.get("symbol", ""), {}))
        return status(404)


def _av(url: str, at: pd.Timestamp, generous) -> AlphaVantageConnector:
    clock = _clock(at)
    return AlphaVantageConnector(base_url=url, limits=generous, clock=clock, sleep=clock.sleep)


def test_alpha_vantage_calendar_csv_with_time_of_day(monkeypatch, mount, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageRefSim(calendar_rows=[
        ("AAPL", "Apple Inc", "2024-05-02", "2024-03-31", "1.50", "USD", "post-market"),
        ("JPM", "JPMorgan Chase & Co", "2024-04-12", "2024-03-31", "4.11", "USD", "pre-market"),
        ("IBM", "International Business Machines", "2024-04-24", "2024-03-31", "", "USD", ""),
    ], overview={})
    frame = _av(mount(sim), FETCHED, generous).fetch(FetchRequest("earnings_calendar", dt.date(2024, 3, 4), dt.date(2024, 3, 4))).frame
    assert sim.seen[0].args["function"] == "EARNINGS_CALENDAR" and sim.seen[0].args["horizon"] == "3month"
    assert dict(zip(frame["symbol"], frame["time_of_day"])) == {"AAPL": "amc", "JPM": "bmo", "IBM": None}
    assert set(frame["known_date"].astype(str)) == {"2024-03-04"}
    assert all(AV_KEY not in u for u in frame["source_uri"])
    conform("earnings_calendar", frame, vendor="alpha_vantage")


def test_alpha_vantage_overview_shares_are_dated_by_the_fetch(monkeypatch, mount, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageRefSim(calendar_rows=[], overview={
        "IBM": {"Symbol": "IBM", "AssetType": "Common Stock", "LatestQuarter": "2023-12-31", "SharesOutstanding": "916332000"},
    })
    frame = _av(mount(sim), FETCHED_LATE, generous).fetch(
        FetchRequest("shares_outstanding", dt.date(2024, 3, 1), dt.date(2024, 3, 8), symbols=("IBM", "NOPE"))).frame
    assert frame["date"].astype(str).tolist() == ["2024-03-05"]  # fetched after the 03-04 close
    assert frame["period_end"].astype(str).tolist() == ["2023-12-31"]
    assert frame["shares_outstanding"].tolist() == [916_332_000.0]
    conform("shares_outstanding", frame, vendor="alpha_vantage")

"""Finnhub and FRED/ALFRED connectors against local servers speaking their wire formats."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest
from vendor_wire import FinnhubSim, FredSim, daily_bars, malformed, status

from trademl.data.connectors.base import FetchRequest, VendorAuthError, VendorError
from trademl.data.connectors.finnhub import FinnhubConnector
from trademl.data.connectors.fred import AlfredConnector, FredConnector
from trademl.schemas import conform

FH_KEY, FRED_KEY = "finnhub-key-0123456789", "fredkey0123456789abcdef0123456789"


def _fh(url, clock, limits):
    return FinnhubConnector(base_url=url + "/api/v1", limits=limits, clock=clock, sleep=clock.sleep)


def test_finnhub_candles_are_utc_day_labelled_sessions(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    sim = FinnhubSim(key=FH_KEY, daily=daily_bars(["AAPL", "MSFT"], "2024-03-07", "2024-03-12"))
    result = _fh(mount(sim), clock, generous).fetch(
        FetchRequest("equities_eod", dt.date(2024, 3, 7), dt.date(2024, 3, 12), symbols=("AAPL", "MSFT"))
    )
    frame = result.frame
    assert len(frame) == 8 and result.failed_sessions == {}
    assert sorted(pd.to_datetime(frame["date"]).dt.date.astype(str).unique()) == ["2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12"]
    req = sim.seen[0]
    assert req.headers["X-Finnhub-Token"] == FH_KEY and req.args["resolution"] == "D"
    assert int(req.args["from"]) == int(pd.Timestamp("2024-03-07", tz="UTC").timestamp())
    conform("equities_eod", frame, vendor="finnhub")


def test_finnhub_no_data_is_an_empty_result_with_failed_sessions(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    sim = FinnhubSim(key=FH_KEY, daily=daily_bars(["AAPL"], "2024-03-07", "2024-03-08"))
    result = _fh(mount(sim), clock, generous).fetch(FetchRequest("equities_eod", dt.date(2024, 3, 7), dt.date(2024, 3, 8), symbols=("VIX",)))
    assert result.frame.empty
    assert set(result.failed_sessions) == {"2024-03-07", "2024-03-08"}


def test_finnhub_ragged_candle_arrays_are_malformed(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    sim = FinnhubSim(key=FH_KEY, daily=daily_bars(["AAPL"], "2024-03-07", "2024-03-08"))
    sim.fault(malformed(b'{"s":"ok","t":[1709769600,1709856000],"o":[1.0],"h":[2,2],"l":[1,1],"c":[1.5,1.5],"v":[10,10]}'))
    with pytest.raises(VendorError) as err:
        _fh(mount(sim), clock, generous).fetch(FetchRequest("equities_eod", dt.date(2024, 3, 7), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert err.value.qc_code == "MALFORMED_PAYLOAD"


def test_finnhub_option_chain_snapshot_maps_to_nbbo_rows(monkeypatch, mount, generous):
    monkeypatch.setenv("FINNHUB_API_KEY", FH_KEY)
    from trademl.data.http import ManualClock

    taken = pd.Timestamp("2024-03-08 18:00", tz="UTC")  # during the 2024-03-08 session
    clock = ManualClock(taken.timestamp())
    chain = {"code": "SPY", "lastTradePrice": 511.7, "data": [{"expirationDate": "2024-03-15", "options": {
        "CALL": [{"strike": 510, "bid": 4.1, "ask": 4.2}, {"strike": 515, "bid": 1.9, "ask": 2.0}],
        "PUT": [{"strike": 510, "bid": 2.5, "ask": 2.6}]}}]}
    sim = FinnhubSim(key=FH_KEY, chains={"SPY": chain})
    result = _fh(mount(sim), clock, generous).fetch(FetchRequest("options_chains", dt.date(2024, 3, 8), dt.date(2024, 3, 8), symbols=("SPY",)))
    frame = result.frame
    assert len(frame) == 3 and result.failed_sessions == {}
    assert sorted(frame["cp_flag"]) == ["C", "C", "P"]
    assert frame["nbbo_mid"].round(3).tolist() == [4.15, 1.95, 2.55]
    assert (frame["ts_ns"] == taken.value).all()
    conform("options_chains", frame, vendor="finnhub")


def _obs(date: str, value: str, rt_start: str, rt_end: str = "9999-12-31") -> dict[str, str]:
    return {"realtime_start": rt_start, "realtime_end": rt_end, "date": date, "value": value}


SERIES = {
    "DGS10": [_obs(f"2024-03-{d:02d}", v, "2024-06-03") for d, v in ((4, "4.22"), (5, "4.15"), (6, "."), (7, "4.09"), (8, "4.08"))],
    "GDPC1": [
        _obs("2023-10-01", "22490.7", "2024-01-25", "2024-02-27"),
        _obs("2023-10-01", "22507.4", "2024-02-28", "2024-03-27"),
        _obs("2023-10-01", "22679.3", "2024-03-28"),
    ],
}


def test_fred_pages_by_offset_and_keeps_missing_values_as_nan(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations=SERIES, page_cap=2)
    conn = FredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    frame = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 4), dt.date(2024, 3, 8), series=("DGS10",))).frame
    assert len(frame) == 5 and len(sim.seen) == 3
    assert [r.args["offset"] for r in sim.seen] == ["0", "2", "4"]
    assert frame["value"].isna().sum() == 1
    assert set(frame["vintage_date"].astype(str)) == {"2024-06-03"}
    assert all(FRED_KEY not in u for u in frame["source_uri"])
    conform("macros_fred", frame, vendor="fred")


def test_alfred_returns_one_row_per_vintage_in_the_window(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations=SERIES)
    conn = AlfredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    frame = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 2, 1), dt.date(2024, 3, 29), series=("GDPC1",))).frame
    assert frame["vintage_date"].astype(str).tolist() == ["2024-02-28", "2024-03-28"]
    assert frame["value"].tolist() == [22507.4, 22679.3]
    assert frame["date"].astype(str).tolist() == ["2024-02-28", "2024-03-28"]
    # 2024-03-29 is Good Friday: the sessions run to 03-28, so that is where the vintage window ends.
    assert sim.paths() == ["/fred/series/vintagedates", "/fred/series/observations"]
    assert (sim.seen[0].args["realtime_start"], sim.seen[0].args["realtime_end"]) == ("2024-02-01", "2024-03-28")
    conform("macros_fred", frame, vendor="alfred")


# A monthly series whose January value, first printed long ago, is still current in March.
MONTHLY = {"INDPRO": [
    _obs("2023-12-01", "102.1", "2024-01-17", "2024-02-14"),
    _obs("2023-12-01", "102.4", "2024-02-15", "2024-03-28"),
    _obs("2023-12-01", "102.2", "2024-03-29"),  # revised on Good Friday
    _obs("2024-01-01", "101.0", "2024-02-15", "2024-03-15"),
    _obs("2024-01-01", "101.3", "2024-03-16"),  # revised on a Saturday
    _obs("2024-02-01", "101.9", "2024-03-16"),
]}


def test_fred_sim_clips_real_time_periods_to_the_requested_window(monkeypatch, mount, clock, generous):
    sim = FredSim(key=FRED_KEY, observations=MONTHLY)
    url = mount(sim)
    import requests

    doc = requests.get(f"{url}/fred/series/observations", params={
        "series_id": "INDPRO", "file_type": "json", "api_key": FRED_KEY, "realtime_start": "2024-03-01", "realtime_end": "2024-03-20",
    }, timeout=5).json()
    got = [(o["date"], o["realtime_start"], o["realtime_end"]) for o in doc["observations"]]
    assert got == [
        ("2023-12-01", "2024-03-01", "2024-03-20"),  # published 2024-02-15, clipped to the window
        ("2024-01-01", "2024-03-01", "2024-03-15"),
        ("2024-01-01", "2024-03-16", "2024-03-20"),
        ("2024-02-01", "2024-03-16", "2024-03-20"),
    ]
    dates = requests.get(f"{url}/fred/series/vintagedates", params={
        "series_id": "INDPRO", "file_type": "json", "api_key": FRED_KEY, "realtime_start": "2024-02-01",
    }, timeout=5).json()["vintage_dates"]
    assert dates == ["2024-02-15", "2024-03-16", "2024-03-29"]


def test_alfred_keeps_only_values_new_or_revised_in_the_window_despite_clipping(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations=MONTHLY)
    conn = AlfredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    frame = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 1), dt.date(2024, 3, 22), series=("INDPRO",))).frame
    rows = list(zip(frame["observation_date"].astype(str), frame["vintage_date"].astype(str), frame["value"]))
    assert rows == [("2024-01-01", "2024-03-16", 101.3), ("2024-02-01", "2024-03-16", 101.9)]
    obs = [r for r in sim.seen if r.path.endswith("observations")][0]
    assert obs.args["realtime_start"] == "2024-02-29"  # one day before the window: clipped periods began earlier


def test_alfred_weekend_and_good_friday_vintages_go_to_the_next_session(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations=MONTHLY)
    conn = AlfredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    march = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 18), dt.date(2024, 3, 28), series=("INDPRO",))).frame
    assert len(march) == 2 and set(march["vintage_date"].astype(str)) == {"2024-03-16"}  # Saturday -> Monday 03-18
    assert set(march["date"].astype(str)) == {"2024-03-18"}
    april = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 4, 1), dt.date(2024, 4, 5), series=("INDPRO",))).frame
    assert april[["date", "vintage_date", "value"]].astype(str).values.tolist() == [["2024-04-01", "2024-03-29", "102.2"]]


def test_alfred_window_without_vintages_asks_no_observations_and_reports_no_failure(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations=MONTHLY)
    conn = AlfredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    result = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 4), dt.date(2024, 3, 8), series=("INDPRO",)))
    assert result.frame.empty and result.failed_sessions == {}
    assert sim.paths() == ["/fred/series/vintagedates"]


def test_fred_bad_key_names_the_variable_and_never_logs_it(monkeypatch, mount, clock, generous, caplog):
    monkeypatch.setenv("FRED_API_KEY", "bad0fred0key0value")
    sim = FredSim(key=FRED_KEY, observations=SERIES)
    conn = FredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    sim.fault(status(500))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(VendorAuthError) as err:
            conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 4), dt.date(2024, 3, 8), series=("DGS10",)))
    assert "FRED_API_KEY" in str(err.value) and "bad0fred0key0value" not in str(err.value)
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # werkzeug = the test server itself
    assert any(r.name == "trademl.data.http" for r in ours), "the retried 500 must have been logged"
    assert all("bad0fred0key0value" not in r.getMessage() and "bad0fred0key0value" not in str(r.__dict__) for r in ours)


def test_fred_non_numeric_value_is_malformed(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    sim = FredSim(key=FRED_KEY, observations={"DGS10": [_obs("2024-03-04", "4.2x", "2024-06-03")]})
    conn = FredConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep)
    with pytest.raises(VendorError) as err:
        conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 4), dt.date(2024, 3, 8), series=("DGS10",)))
    assert err.value.qc_code == "MALFORMED_PAYLOAD"

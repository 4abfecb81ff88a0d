"""Alpha Vantage and FMP connectors against local servers speaking their wire formats."""

from __future__ import annotations

import datetime as dt

import pytest
from vendor_wire import AlphaVantageSim, FmpSim, json_response, listing_csv

from trademl.data.connectors.alpha_vantage import AlphaVantageConnector
from trademl.data.connectors.base import FetchRequest, VendorAuthError, VendorError
from trademl.data.connectors.fmp import FmpConnector
from trademl.schemas import conform

AV_KEY, FMP_KEY = "AVKEY0123456789", "fmpkey0123456789"

DELISTED = listing_csv([
    ("SIVB", "SVB Financial Group", "NASDAQ", "Stock", "1987-03-24", "2023-03-28", "Delisted"),
    ("TWTR", "Twitter Inc", "NYSE", "Stock", "2013-11-07", "2022-11-08", "Delisted"),
    ("XYZ", "Old ETF", "NYSE ARCA", "ETF", "2010-01-04", "2023-07-15", "Delisted"),  # a Saturday
])


def _av(url, clock, limits):
    return AlphaVantageConnector(base_url=url, limits=limits, clock=clock, sleep=clock.sleep)


def test_listing_status_delistings_roll_to_the_next_session(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageSim(key=AV_KEY, delisted_csv=DELISTED)
    frame = _av(mount(sim), clock, generous).fetch(FetchRequest("delistings", dt.date(2023, 1, 3), dt.date(2023, 12, 29))).frame
    assert frame["symbol"].tolist() == ["SIVB", "XYZ"]
    assert frame["delist_date"].astype(str).tolist() == ["2023-03-28", "2023-07-17"]
    assert sim.seen[0].args["function"] == "LISTING_STATUS" and sim.seen[0].args["state"] == "delisted"
    assert all(AV_KEY not in u for u in frame["source_uri"])
    conform("delistings", frame, vendor="alpha_vantage")


def test_splits_and_dividends_two_requests_per_symbol(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageSim(
        key=AV_KEY,
        splits={"AAPL": [{"effective_date": "2020-08-31", "split_factor": "4.0000"}]},
        dividends={"AAPL": [{"ex_dividend_date": "2020-08-07", "declaration_date": "2020-07-30", "record_date": "2020-08-10",
                             "payment_date": "2020-08-13", "amount": "0.82"},
                            {"ex_dividend_date": "2019-08-09", "declaration_date": "None", "record_date": "None",
                             "payment_date": "None", "amount": "0.77"}]},
    )
    frame = _av(mount(sim), clock, generous).fetch(FetchRequest("corp_actions", dt.date(2020, 1, 2), dt.date(2020, 12, 31), symbols=("AAPL",))).frame
    assert len(sim.seen) == 2
    assert sorted(zip(frame["event_type"], frame["ex_date"].astype(str))) == [("DIVIDEND", "2020-08-07"), ("SPLIT", "2020-08-31")]
    assert frame.loc[frame["event_type"] == "DIVIDEND", "amount"].item() == 0.82
    conform("corp_actions", frame, vendor="alpha_vantage")


def test_in_band_throttle_note_freezes_and_retries(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageSim(key=AV_KEY, delisted_csv=DELISTED)
    sim.fault(json_response({"Note": "Thank you for using Alpha Vantage! Our standard API rate limit is 5 requests per minute."}))
    frame = _av(mount(sim), clock, generous).fetch(FetchRequest("delistings", dt.date(2023, 1, 3), dt.date(2023, 12, 29))).frame
    assert len(frame) == 2 and len(sim.seen) == 2
    assert clock.sleeps == [generous.freeze_seconds]


def test_daily_cap_of_the_free_plan_is_respected(monkeypatch, mount, clock):
    from trademl.data.http import VendorBudgetExhausted, vendor_limits

    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", AV_KEY)
    sim = AlphaVantageSim(key=AV_KEY)
    sim.clock = clock
    limits = vendor_limits("alpha_vantage")  # 25 requests/day, 5/min from configs/endpoints.yml
    symbols = tuple(f"S{i:02d}" for i in range(20))  # 40 requests wanted
    with pytest.raises(VendorBudgetExhausted):
        _av(mount(sim), clock, limits).fetch(FetchRequest("corp_actions", dt.date(2020, 1, 2), dt.date(2020, 12, 31), symbols=symbols))
    assert len(sim.seen) == limits.soft_daily_cap == 25
    assert sim.seen_at[-1] - sim.seen_at[0] >= (25 - limits.burst_limit) * 60 / limits.hard_rpm - 1e-6


def test_invalid_key_answer_is_not_data(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "wrong-av-key")
    sim = AlphaVantageSim(key=AV_KEY, delisted_csv=DELISTED)
    with pytest.raises(VendorError) as err:
        _av(mount(sim), clock, generous).fetch(FetchRequest("delistings", dt.date(2023, 1, 3), dt.date(2023, 12, 29)))
    assert "wrong-av-key" not in str(err.value)


def test_fmp_delisted_companies_page_until_older_than_the_request(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    rows = [{"symbol": f"D{i:03d}", "companyName": "x", "exchange": "NYSE", "ipoDate": "2000-01-03",
             "delistedDate": (dt.date(2024, 6, 28) - dt.timedelta(days=3 * i)).isoformat()} for i in range(300)]
    sim = FmpSim(key=FMP_KEY, delisted=rows, page_size=50)
    frame = FmpConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep).fetch(
        FetchRequest("delistings", dt.date(2024, 1, 2), dt.date(2024, 6, 28))).frame
    assert len(sim.seen) == 3  # pages 0..2; page 2 already ends before 2024-01-02: no page 3
    assert frame["date"].astype(str).min() >= "2024-01-02" and len(frame) >= 55
    assert all(FMP_KEY not in u for u in frame["source_uri"])
    conform("delistings", frame, vendor="fmp")


def test_fmp_401_names_the_variable(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FMP_API_KEY", "bad-fmp-key-1")
    sim = FmpSim(key=FMP_KEY)
    with pytest.raises(VendorAuthError) as err:
        FmpConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep).fetch(
            FetchRequest("delistings", dt.date(2024, 1, 2), dt.date(2024, 6, 28)))
    assert "FMP_API_KEY" in str(err.value) and "bad-fmp-key-1" not in str(err.value)


def test_fmp_income_statements_are_long_and_point_in_time(monkeypatch, mount, clock, generous):
    monkeypatch.setenv("FMP_API_KEY", FMP_KEY)
    stmts = {"AAPL": [{"date": "2024-03-30", "symbol": "AAPL", "reportedCurrency": "USD", "fillingDate": "2024-05-03",
                       "acceptedDate": "2024-05-02 18:04:25", "calendarYear": "2024", "period": "Q2",
                       "revenue": 90753000000, "netIncome": 23636000000}]}
    sim = FmpSim(key=FMP_KEY, statements=stmts)
    frame = FmpConnector(base_url=mount(sim), limits=generous, clock=clock, sleep=clock.sleep).fetch(
        FetchRequest("fundamentals_income", dt.date(2024, 5, 1), dt.date(2024, 5, 31), symbols=("AAPL",))).frame
    assert sorted(frame["item"]) == ["netIncome", "revenue"]
    assert set(frame["date"].astype(str)) == {"2024-05-03"}  # accepted 18:04 ET, after the close: first tradable session is the next
    assert frame["accepted_at"].iloc[0].isoformat() == "2024-05-02T22:04:25+00:00"

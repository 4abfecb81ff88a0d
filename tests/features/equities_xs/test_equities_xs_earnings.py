"""next_earnings_as_of: per (symbol, t) the first earnings date >= t known at t."""

from __future__ import annotations

import pandas as pd

from trademl.features.equities_xs import next_earnings_as_of

CALENDAR = pd.DataFrame(
    {
        "symbol": ["A", "A", "A", "B"],
        "earnings_date": pd.to_datetime(["2024-01-25", "2024-04-25", "2024-01-30", "2024-02-01"]),
        "time_of_day": ["amc", "amc", "bmo", "bmo"],
        "known_date": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-10", "2024-01-15"]),
    }
)


def dates(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"symbol": [s for s, _ in rows], "date": pd.to_datetime([d for _, d in rows])})


def test_picks_the_first_upcoming_date_known_at_t():
    out = next_earnings_as_of(dates([("A", "2024-01-05"), ("A", "2024-01-26"), ("A", "2024-01-31")]), CALENDAR)
    assert out["next_earnings_date"].tolist() == pd.to_datetime(["2024-01-25", "2024-01-30", "2024-04-25"]).tolist()


def test_a_date_announced_after_t_is_not_used_at_t():
    # At 2024-01-09 the 2024-01-30 report is not known yet (known 01-10); at 01-10 it is, but 01-25 comes first.
    out = next_earnings_as_of(dates([("B", "2024-01-12"), ("B", "2024-01-15")]), CALENDAR)
    assert out["next_earnings_date"].isna().tolist() == [True, False]
    assert out["next_earnings_date"].iloc[1] == pd.Timestamp("2024-02-01")


def test_earnings_on_t_itself_count_as_next():
    out = next_earnings_as_of(dates([("A", "2024-01-25")]), CALENDAR)
    assert out["next_earnings_date"].iloc[0] == pd.Timestamp("2024-01-25")


def test_unknown_symbols_and_dates_after_the_last_report_get_nat_and_rows_keep_their_order():
    frame = dates([("C", "2024-01-05"), ("A", "2024-05-01"), ("A", "2024-01-03")]).assign(close=[1.0, 2.0, 3.0])
    out = next_earnings_as_of(frame, CALENDAR)
    assert out["close"].tolist() == [1.0, 2.0, 3.0]
    assert out["next_earnings_date"].isna().tolist() == [True, True, False]


def test_utc_known_timestamps_compare_by_their_utc_date():
    cal = CALENDAR.assign(known_date=pd.to_datetime(["2024-01-05T23:00:00Z"] * 4))
    out = next_earnings_as_of(dates([("A", "2024-01-04"), ("A", "2024-01-05")]), cal)
    assert out["next_earnings_date"].isna().tolist() == [True, False]

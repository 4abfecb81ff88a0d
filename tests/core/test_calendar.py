"""trademl.calendar: XNYS sessions, UTC open/close, half days, holidays and DST."""

import datetime as dt

import pandas as pd
import pytest

from trademl import calendar


def test_day_after_thanksgiving_is_a_half_day_closing_at_1800_utc():
    t = calendar.session_table("2024-11-29", "2024-11-29").iloc[0]
    assert bool(t["is_half_day"]) and t["minutes"] == 210
    assert t["close_utc"] == pd.Timestamp("2024-11-29 18:00", tz="UTC")


def test_half_day_minute_grid_has_210_bars_ending_at_1759_utc():
    m = calendar.session_minutes("2024-07-03")
    assert len(m) == 210 and m[-1] == pd.Timestamp("2024-07-03 16:59", tz="UTC")


def test_dst_switch_moves_the_utc_open_by_one_hour():
    before = calendar.session_open_close("2024-03-08")[0]
    after = calendar.session_open_close("2024-03-11")[0]
    assert before == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert after == pd.Timestamp("2024-03-11 13:30", tz="UTC")
    assert len(calendar.session_minutes("2024-03-11")) == 390


def test_autumn_dst_switch_moves_the_open_back():
    assert calendar.session_open_close("2024-11-01")[0] == pd.Timestamp("2024-11-01 13:30", tz="UTC")
    assert calendar.session_open_close("2024-11-04")[0] == pd.Timestamp("2024-11-04 14:30", tz="UTC")


def test_2024_weekday_holidays_are_the_ten_nyse_holidays():
    expected = ["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27",
                "2024-06-19", "2024-07-04", "2024-09-02", "2024-11-28", "2024-12-25"]
    assert [d.strftime("%Y-%m-%d") for d in calendar.holidays("2024-01-01", "2024-12-31")] == expected


def test_special_closures_are_not_sessions():
    assert not calendar.is_session("2025-01-09")  # national day of mourning (President Carter)
    assert not calendar.is_session("2012-10-29")  # Hurricane Sandy


def test_2024_has_252_sessions():
    assert len(calendar.sessions("2024-01-01", "2024-12-31")) == 252


def test_next_session_skips_holiday_and_weekend():
    assert calendar.next_session("2024-07-03") == pd.Timestamp("2024-07-05")
    assert calendar.next_session("2024-07-05") == pd.Timestamp("2024-07-08")
    assert calendar.previous_session("2024-07-05") == pd.Timestamp("2024-07-03")


def test_offset_sessions_is_vectorised_and_rejects_non_sessions():
    out = calendar.offset_sessions(pd.DatetimeIndex(["2024-07-03", "2024-12-24"]), 1)
    assert list(out.strftime("%Y-%m-%d")) == ["2024-07-05", "2024-12-26"]
    with pytest.raises(ValueError, match="not an XNYS session"):
        calendar.offset_sessions(pd.DatetimeIndex(["2024-07-04"]), 1)


def test_session_of_converts_utc_instants_to_the_new_york_trading_date():
    ts = pd.DatetimeIndex(["2024-03-12 00:30", "2024-03-11 13:30"], tz="UTC")
    assert list(calendar.session_of(ts).strftime("%Y-%m-%d")) == ["2024-03-11", "2024-03-11"]


def test_bad_ranges_are_value_errors():
    with pytest.raises(ValueError, match="before start"):
        calendar.sessions("2024-02-01", "2024-01-01")
    with pytest.raises(ValueError, match="not a date"):
        calendar.sessions("yesterday-ish", "2024-01-01")
    with pytest.raises(ValueError, match="not an XNYS session"):
        calendar.session_open_close(dt.date(2024, 7, 4))


# ---------------------------------------------------------------------------------------------- latest completed session
def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_latest_completed_session_is_today_once_the_close_has_passed():
    assert calendar.latest_completed_session(_utc("2025-03-04 21:00")) == dt.date(2025, 3, 4)  # close 21:00 UTC (EST)


def test_latest_completed_session_is_the_previous_one_before_the_close():
    assert calendar.latest_completed_session(_utc("2025-03-04 20:59")) == dt.date(2025, 3, 3)


def test_latest_completed_session_waits_for_the_publication_lag():
    assert calendar.latest_completed_session(_utc("2025-03-04 21:10"), lag_minutes=15) == dt.date(2025, 3, 3)
    assert calendar.latest_completed_session(_utc("2025-03-04 21:15"), lag_minutes=15) == dt.date(2025, 3, 4)


def test_latest_completed_session_honours_half_days_and_dst():
    assert calendar.latest_completed_session(_utc("2024-11-29 18:00")) == dt.date(2024, 11, 29)  # 13:00 EST close
    assert calendar.latest_completed_session(_utc("2024-07-01 20:00")) == dt.date(2024, 7, 1)  # 16:00 EDT


def test_latest_completed_session_over_a_weekend_and_holiday_is_the_last_trading_day():
    assert calendar.latest_completed_session(_utc("2025-04-21 12:00")) == dt.date(2025, 4, 17)  # Good Friday + weekend


def test_latest_completed_session_rejects_a_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.latest_completed_session(pd.Timestamp("2025-03-04 21:00"))


def test_sessions_on_or_after_moves_weekends_and_holidays_to_the_next_session():
    got = calendar.sessions_on_or_after(["2024-03-28", "2024-03-29", "2024-03-30", "2024-07-04", pd.Timestamp("2024-05-18 15:00"), None])
    assert [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in got] == [
        "2024-03-28", "2024-04-01", "2024-04-01", "2024-07-05", "2024-05-20", None,
    ]


def test_days_served_by_sessions_tile_the_calendar_without_overlap():
    assert calendar.days_served_by("2024-04-01", "2024-04-05") == (dt.date(2024, 3, 29), dt.date(2024, 4, 5))
    assert calendar.days_served_by("2024-03-29", "2024-03-31") is None  # Good Friday + weekend: no session
    assert calendar.days_served_by("2024-03-25", "2024-03-30") == (dt.date(2024, 3, 23), dt.date(2024, 3, 28))
    a, b = calendar.days_served_by("2024-07-01", "2024-07-03"), calendar.days_served_by("2024-07-04", "2024-07-12")
    assert b[0] == a[1] + dt.timedelta(days=1) == dt.date(2024, 7, 4)

"""FRED-style macro series: true vintage dates, partitioned by the next session, revisions never rewrite earlier vintages."""

from __future__ import annotations

import pandas as pd
from synthetic_requests import fetch

from trademl import calendar


def test_later_vintage_revises_some_observation(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-12-31")
    per_obs = frame.groupby(["series_id", "observation_date"])["value"].nunique()
    revised = per_obs[per_obs > 1]
    assert {"UNRATE", "CPIAUCSL", "GDP"} <= set(revised.index.get_level_values("series_id"))
    assert "DGS10" not in set(revised.index.get_level_values("series_id"))


def test_earlier_vintages_are_unchanged_when_later_ones_exist(make_connector):
    early = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-03-28")
    full = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-09-30")
    again = full[full["date"] <= "2024-03-28"].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, again)


def test_every_vintage_is_stored_at_the_first_session_on_or_after_it_and_follows_its_observation(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-06-28")
    sessions = set(calendar.sessions("2024-01-02", "2024-06-28"))
    assert set(pd.DatetimeIndex(frame["date"].unique())) <= sessions
    vintage = pd.to_datetime(frame["vintage_date"])
    assert (pd.DatetimeIndex(pd.to_datetime(frame["date"])) == calendar.sessions_on_or_after(vintage)).all()
    assert (frame["vintage_date"] > frame["observation_date"]).all()
    # Release calendars put some vintages on weekends (CPI on the 12th, GDP 28 days after a quarter).
    off = frame[~vintage.isin(sessions)]
    assert len(off) > 0 and (pd.to_datetime(off["date"]) > pd.to_datetime(off["vintage_date"])).all()
    # DGS10 is published every session, so every macro partition has rows.
    assert frame["date"].nunique() == len(sessions)


def test_an_employment_report_on_good_friday_keeps_its_date_and_lands_on_monday(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2021-04-01", "2021-04-09", series=("UNRATE",))
    friday = frame[frame["vintage_date"].astype(str) == "2021-04-02"]  # Good Friday 2021, the first Friday of April
    assert len(friday) >= 1 and set(friday["date"].astype(str)) == {"2021-04-05"}


def test_series_filter_returns_only_the_requested_series(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-06-28", series=("GDP",))
    assert set(frame["series_id"]) == {"GDP"} and len(frame) >= 3

"""FRED-style macro series: vintages keyed by vintage_date, revisions never rewrite earlier vintages."""

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
    again = full[full["vintage_date"] <= "2024-03-28"].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, again)


def test_every_vintage_date_is_a_session_and_follows_its_observation(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-06-28")
    assert set(pd.DatetimeIndex(frame["vintage_date"].unique())) <= set(calendar.sessions("2024-01-02", "2024-06-28"))
    assert (frame["vintage_date"] > frame["observation_date"]).all()
    # DGS10 is published every session, so every macro partition has rows.
    assert frame["vintage_date"].nunique() == len(calendar.sessions("2024-01-02", "2024-06-28"))


def test_series_filter_returns_only_the_requested_series(make_connector):
    frame = fetch(make_connector(), "macros_fred", "2024-01-02", "2024-06-28", series=("GDP",))
    assert set(frame["series_id"]) == {"GDP"} and len(frame) >= 3

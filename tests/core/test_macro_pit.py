"""The point-in-time macro reader: values as known at t, from vintage rows or from the lake."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.data.lake import Lake
from trademl.data.macro import known_at, macro_asof, value_as_of
from trademl.schemas import conform

# GDP-style: 2023Q4 advance on a Saturday, second estimate on Good Friday; 2024Q1 on a Thursday.
ROWS = pd.DataFrame({
    "series_id": ["GDP", "GDP", "GDP", "UNRATE"],
    "observation_date": ["2023-10-01", "2023-10-01", "2024-01-01", "2024-03-01"],
    "value": [100.0, 101.5, 103.0, 3.9],
    "vintage_date": ["2024-01-27", "2024-03-29", "2024-04-25", "2024-04-05"],
})


def test_value_as_known_at_t_is_the_latest_vintage_on_or_before_t():
    assert np.isnan(value_as_of(ROWS, "GDP", "2024-01-26", observation_date="2023-10-01"))
    assert value_as_of(ROWS, "GDP", "2024-01-27", observation_date="2023-10-01") == 100.0
    assert value_as_of(ROWS, "GDP", "2024-03-28", observation_date="2023-10-01") == 100.0
    assert value_as_of(ROWS, "GDP", "2024-04-01", observation_date="2023-10-01") == 101.5
    snapshot = value_as_of(ROWS, "GDP", "2024-04-25")
    assert snapshot.to_dict() == {pd.Timestamp("2023-10-01"): 101.5, pd.Timestamp("2024-01-01"): 103.0}


def test_a_weekend_vintage_is_known_from_its_day_on_never_the_session_before():
    friday, monday = "2024-01-26", "2024-01-29"
    assert value_as_of(ROWS, "GDP", friday).empty
    assert value_as_of(ROWS, "GDP", monday).tolist() == [100.0]


def test_timestamps_are_read_as_new_york_days():
    late_utc = pd.Timestamp("2024-03-30 02:00", tz="UTC")  # still Good Friday in New York
    assert value_as_of(ROWS, "GDP", late_utc, observation_date="2023-10-01") == 101.5
    assert value_as_of(ROWS, "GDP", pd.Timestamp("2024-03-29 03:00", tz="UTC"), observation_date="2023-10-01") == 100.0


def test_macro_asof_gives_each_series_latest_observation_at_each_panel_time():
    times = pd.DatetimeIndex(["2024-01-26", "2024-01-29", "2024-04-01", "2024-04-08", "2024-04-25", "2024-01-29"])
    wide = macro_asof(times, ROWS)
    assert list(wide.index) == list(times) and list(wide.columns) == ["GDP", "UNRATE"]
    assert wide["GDP"].tolist()[1:] == [100.0, 101.5, 101.5, 103.0, 100.0] and np.isnan(wide["GDP"].iloc[0])
    assert wide["UNRATE"].isna().tolist() == [True, True, True, False, False, True]
    long = macro_asof(times, ROWS, ["GDP"], long=True)
    assert long["observation_date"].dt.strftime("%Y-%m-%d").tolist() == ["2023-10-01"] * 3 + ["2024-01-01", "2023-10-01"]
    assert long["vintage_date"].dt.strftime("%Y-%m-%d").tolist()[:3] == ["2024-01-27", "2024-03-29", "2024-03-29"]


def test_the_lake_and_its_rows_give_the_same_answers(tmp_path):
    lake = Lake(tmp_path / "lake")
    vintage = pd.to_datetime(ROWS["vintage_date"])
    frame = ROWS.assign(
        date=calendar.sessions_on_or_after(vintage).date,
        observation_date=pd.to_datetime(ROWS["observation_date"]).dt.date,
        vintage_date=vintage.dt.date,
        ingested_at=pd.Timestamp("2024-05-01", tz="UTC"), source_name="test", source_uri="test://",
        vendor_ts=vintage.dt.tz_localize("UTC"), api_version="1",
    )
    lake.write_partitions("raw/macros_fred", conform("raw/macros_fred", frame), conformed=True)
    times = pd.date_range("2024-01-20", "2024-05-01", freq="D")
    pd.testing.assert_frame_equal(known_at(lake, times), known_at(ROWS, times))
    pd.testing.assert_frame_equal(macro_asof(times, lake), macro_asof(times, ROWS))


# ------------------------------------------------------------------------------------------ properties
BASE = dt.date(2024, 1, 1)


@st.composite
def vintage_histories(draw) -> pd.DataFrame:
    """Random new-or-revised rows: 1-2 series, observations and vintages as day offsets from BASE."""
    keys = draw(st.lists(
        st.tuples(st.sampled_from(["A", "B"]), st.integers(0, 40), st.integers(0, 120)), min_size=1, max_size=40, unique=True,
    ))
    values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=len(keys), max_size=len(keys)))
    frame = pd.DataFrame(keys, columns=["series_id", "obs", "vin"]).assign(value=values)
    return pd.DataFrame({
        "series_id": frame["series_id"],
        "observation_date": pd.Timestamp(BASE) + pd.to_timedelta(frame["obs"], unit="D"),
        "value": frame["value"],
        "vintage_date": pd.Timestamp(BASE) + pd.to_timedelta(frame["vin"], unit="D"),
    })


def _brute_force(rows: pd.DataFrame, times: pd.DatetimeIndex) -> pd.DataFrame:
    grid = pd.DataFrame({"t": times.unique().sort_values()}).merge(rows, how="cross")
    grid = grid[grid["vintage_date"] <= grid["t"]].sort_values("vintage_date", kind="stable")
    last = grid.groupby(["t", "series_id", "observation_date"], as_index=False).last()
    return last[["t", "series_id", "observation_date", "value", "vintage_date"]].reset_index(drop=True)


@settings(max_examples=150, deadline=None)
@given(rows=vintage_histories(), cutoff=st.integers(0, 120), later=vintage_histories())
def test_appending_later_vintages_never_changes_the_value_as_known_at_t(rows, cutoff, later):
    cut = pd.Timestamp(BASE) + pd.Timedelta(days=cutoff)
    early = rows[rows["vintage_date"] <= cut]
    late = later[later["vintage_date"] > cut]
    late = late.merge(early[["series_id", "observation_date", "vintage_date"]], how="left", indicator=True)
    grown = pd.concat([early, late[late["_merge"] == "left_only"].drop(columns="_merge")], ignore_index=True)
    times = pd.date_range(pd.Timestamp(BASE) - pd.Timedelta(days=1), cut, freq="D")
    pd.testing.assert_frame_equal(known_at(grown, times), known_at(early, times))
    pd.testing.assert_frame_equal(macro_asof(times, grown, ["A", "B"]), macro_asof(times, early, ["A", "B"]))


@settings(max_examples=150, deadline=None)
@given(rows=vintage_histories(), offsets=st.lists(st.integers(-5, 130), min_size=1, max_size=12))
def test_known_at_equals_the_latest_vintage_on_or_before_t_by_brute_force(rows, offsets):
    times = pd.DatetimeIndex(pd.Timestamp(BASE) + pd.to_timedelta(offsets, unit="D"))
    got = known_at(rows, times)
    want = _brute_force(rows, times)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    wide = macro_asof(times, rows, ["A", "B"])
    latest = want.sort_values("observation_date", kind="stable").groupby(["t", "series_id"]).last()["value"].unstack()
    expect = latest.reindex(index=times, columns=["A", "B"])
    np.testing.assert_array_equal(wide.to_numpy(), expect.to_numpy())

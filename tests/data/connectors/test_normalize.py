"""trademl.data.connectors.normalize: exchange dates of UTC instants, the rule every vendor's bars share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.data.connectors.normalize import EXCHANGE_TS, exchange_dates
from trademl.schemas import UTC_TS


def utc(*stamps: str) -> pa.Array:
    return pa.array(pd.DatetimeIndex(stamps, tz="UTC").as_unit("us"), UTC_TS)


def test_an_evening_bar_in_utc_belongs_to_the_new_york_day():
    assert exchange_dates(utc("2024-03-09 03:00")).to_pylist()[0].isoformat() == "2024-03-08"


def test_midnight_new_york_starts_the_day_on_both_sides_of_the_dst_switch():
    got = exchange_dates(utc("2024-03-10 04:59:59.999999", "2024-03-10 05:00", "2024-03-11 03:59:59", "2024-03-11 04:00"))
    assert [d.isoformat() for d in got.to_pylist()] == ["2024-03-09", "2024-03-10", "2024-03-10", "2024-03-11"]


def test_empty_input_gives_no_dates():
    assert len(exchange_dates(utc())) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(pd.Timestamp("1999-01-01").value // 1000, pd.Timestamp("2030-12-31").value // 1000), min_size=1, max_size=200))
def test_dates_equal_a_time_zone_conversion(micros):
    ts = pa.array(np.array(micros, dtype=np.int64), pa.int64()).view(UTC_TS)
    expected = pc.local_timestamp(ts.cast(EXCHANGE_TS)).cast(pa.date32())
    assert exchange_dates(ts).equals(expected)

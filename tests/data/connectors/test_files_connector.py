"""The files connector on small files written by the test: time zones, set-up errors, rows left out."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trademl.data.connectors.base import FetchRequest, SourceConfigError
from trademl.data.connectors.files import FileMapping, FilesConnector
from trademl.data.connectors.normalize import add_dropped, bars_table
from trademl.schemas import UTC_TS

COLUMNS = {"symbol": "sym", "ts": "time", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}


def _csv(path, stamps: list[str]) -> None:
    n = len(stamps)
    px = 100 + np.arange(n) * 0.01
    pd.DataFrame({"sym": "AAA", "time": stamps, "o": px, "h": px + 0.1, "l": px - 0.1, "c": px, "v": 100}).to_csv(path, index=False)


def _fetch(tmp_path, start: str, end: str, **mapping) -> tuple:
    doc = {"dataset": "equities_minute", "path": "m.csv", "format": "csv", "columns": COLUMNS, **mapping}
    conn = FilesConnector([FileMapping.from_dict("m", doc)], root=tmp_path)
    return conn.fetch(FetchRequest("equities_minute", dt.date.fromisoformat(start), dt.date.fromisoformat(end)))


def test_naive_timestamps_need_the_mapping_to_name_their_zone(tmp_path):
    _csv(tmp_path / "m.csv", ["2025-06-02 09:30:00", "2025-06-02 09:31:00"])
    with pytest.raises(SourceConfigError) as err:
        _fetch(tmp_path, "2025-06-02", "2025-06-02")
    message = str(err.value)
    assert str(tmp_path / "m.csv") in message and "column 'time'" in message and "timezone:" in message


def test_naive_timestamps_are_read_in_the_named_zone(tmp_path):
    _csv(tmp_path / "m.csv", ["2025-06-02 09:30:00"])
    result = _fetch(tmp_path, "2025-06-02", "2025-06-02", timezone="America/New_York")
    assert result.to_pandas()["ts"].tolist() == [pd.Timestamp("2025-06-02 13:30", tz="UTC")]


def test_timestamps_with_offsets_need_no_zone(tmp_path):
    _csv(tmp_path / "m.csv", ["2025-06-02T09:30:00-04:00"])
    assert _fetch(tmp_path, "2025-06-02", "2025-06-02").to_pandas()["ts"].tolist() == [pd.Timestamp("2025-06-02 13:30", tz="UTC")]


def test_an_unknown_zone_name_is_rejected_when_the_mapping_loads():
    with pytest.raises(ValueError, match="mapping 'm': timezone 'New York' is not an IANA zone"):
        FileMapping.from_dict("m", {"dataset": "equities_minute", "path": "m.csv", "columns": COLUMNS, "timezone": "New York"})


def test_bars_left_out_are_counted_by_reason_and_date(tmp_path):
    _csv(tmp_path / "m.csv", [
        "2025-06-02 09:29:00", "2025-06-02 09:30:00", "2025-06-02 16:00:00",  # one regular bar, two outside hours
        "2025-06-07 10:00:00",  # a Saturday inside the request
        "2025-06-10 10:00:00",  # after the request
    ])
    result = _fetch(tmp_path, "2025-06-02", "2025-06-09", timezone="America/New_York")
    assert result.num_rows == 1
    assert result.dropped == {
        "outside_regular_hours": {"2025-06-02": 2},
        "non_session": {"2025-06-07": 1},
        "outside_window": {"2025-06-10": 1},
    }


def test_normalized_bars_count_off_hours_bars_per_session():
    ts = pa.array(pd.DatetimeIndex(["2025-06-02 13:29", "2025-06-02 13:30", "2025-06-03 20:00", "2025-06-03 20:01"], tz="UTC").as_unit("us"), UTC_TS)
    cols = {"symbol": pa.array(["A"] * 4), "ts": ts, **{c: pa.array([1.0] * 4) for c in ("open", "high", "low", "close", "volume")}}
    norm = bars_table(cols, minute=True)
    assert norm.outside_regular_hours == 3
    assert norm.dropped == {"outside_regular_hours": {"2025-06-02": 1, "2025-06-03": 2}}


def test_dropped_counts_add_up_by_reason_and_date():
    total = add_dropped({}, {"non_session": {"2025-06-07": 2}})
    add_dropped(total, {"non_session": {"2025-06-07": 3, "2025-06-08": 1}})
    assert total == {"non_session": {"2025-06-07": 5, "2025-06-08": 1}}
    with pytest.raises(ValueError, match="unknown drop reason"):
        add_dropped(total, {"late": {"2025-06-07": 1}})

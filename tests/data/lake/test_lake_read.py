"""Read path of the lake: DuckDB over the latest version of each partition in a date range."""

from __future__ import annotations

import pandas as pd
import pytest
from lake_payloads import bars, rows

from trademl.schemas import table_spec

BARS = "raw/equities_bars"
DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]


@pytest.fixture
def filled(lake):
    """A lake holding four sessions of four symbols, and the payload that was written."""
    payload = bars(DATES, SYMBOLS, seed=11)
    lake.write_partitions(BARS, payload)
    return lake, payload


def test_read_over_a_date_range_with_symbol_filter_returns_exactly_the_expected_rows(filled):
    lake, payload = filled
    got = lake.read(BARS, start="2024-01-03", end="2024-01-04", symbols=["AAA", "CCC"])
    day = pd.to_datetime(payload["date"])
    expected = payload[day.between("2024-01-03", "2024-01-04") & payload["symbol"].isin(["AAA", "CCC"])]
    assert got.num_rows == 4
    pd.testing.assert_frame_equal(rows(got), rows(expected), check_dtype=False)


def test_read_is_typed_exactly_as_the_table_schema(filled):
    lake, _ = filled
    assert lake.read(BARS).schema.equals(table_spec(BARS).schema)


def test_read_rows_come_ordered_by_date_then_symbol(filled):
    lake, payload = filled
    got = lake.read(BARS, columns=["date", "symbol"]).to_pandas()
    expected = payload[["date", "symbol"]].sort_values(["date", "symbol"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_read_returns_the_latest_version_of_each_partition(filled):
    lake, payload = filled
    revision = bars(["2024-01-03"], SYMBOLS, seed=99)
    lake.write_partition(BARS, "2024-01-03", revision)
    got = lake.read(BARS, start="2024-01-02", end="2024-01-03")
    expected = pd.concat([payload[pd.to_datetime(payload["date"]) == "2024-01-02"], revision])
    pd.testing.assert_frame_equal(rows(got), rows(expected), check_dtype=False)


def test_read_columns_selects_and_orders_the_output(filled):
    lake, payload = filled
    got = lake.read(BARS, symbols="BBB", columns=["close", "symbol"])
    assert got.column_names == ["close", "symbol"]
    expected = payload[payload["symbol"] == "BBB"].sort_values("date")["close"].tolist()
    assert got.column("close").to_pylist() == expected


def test_read_with_open_ends_covers_every_partition(filled):
    lake, payload = filled
    assert lake.read(BARS, start="2024-01-04").num_rows == 8
    assert lake.read(BARS, end="2024-01-02").num_rows == 4
    assert lake.read(BARS).num_rows == len(payload)


def test_read_of_a_range_without_partitions_is_empty_with_schema(filled):
    lake, _ = filled
    got = lake.read(BARS, start="2023-01-01", end="2023-12-31")
    assert got.num_rows == 0 and got.schema.equals(table_spec(BARS).schema)


def test_partitions_lists_committed_sessions_in_order(filled):
    lake, _ = filled
    assert [d.isoformat() for d in lake.partitions(BARS)] == DATES


def test_read_rejects_end_before_start(lake):
    with pytest.raises(ValueError, match="end 2024-01-02 is before start 2024-01-05"):
        lake.read(BARS, start="2024-01-05", end="2024-01-02")


def test_read_rejects_unknown_columns(lake):
    with pytest.raises(ValueError, match="unknown or no columns"):
        lake.read(BARS, columns=["date", "price"])


def test_symbol_filter_on_a_table_without_symbols_is_rejected(lake):
    with pytest.raises(ValueError, match="no symbol column"):
        lake.read("reference/calendars", symbols=["AAA"])

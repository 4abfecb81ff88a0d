"""`trademl.data.lake.sql`: read-only DuckDB views of every lake table over its latest versions."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from lake_payloads import bars

from trademl.data.lake import EmptyLakeError
from trademl.data.lake.sql import LakeQueryError, lake_connection, lake_views, run_query
from trademl.schemas import TABLES

BARS = "raw/equities_bars"
DATES = ["2024-01-02", "2024-01-03", "2024-01-04"]
SYMBOLS = ["AAA", "BBB"]


@pytest.fixture
def con(lake):
    """A connection over a lake of three sessions of two symbols, the middle session revised once."""
    lake.write_partitions(BARS, bars(DATES, SYMBOLS, seed=1))
    lake.write_partition(BARS, DATES[1], bars([DATES[1]], SYMBOLS, seed=2))
    connection = lake_connection(lake.root)
    yield connection
    connection.close()


def test_every_catalog_table_is_a_view_named_layer_dot_table(lake):
    lake.write_partitions(BARS, bars(DATES, SYMBOLS))
    connection = duckdb.connect()
    views = lake_views(connection, lake.root)
    assert views == {name.replace("/", "."): (3 if name == BARS else 0) for name in TABLES}
    listed = connection.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() UNION ALL "
                            "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert sorted(r[0] for r in listed) == sorted(views)


def test_a_view_counts_the_latest_version_of_each_partition_only(con, lake):
    assert run_query(con, "SELECT count(*) FROM raw.equities_bars").fetchall() == [(6,)]
    latest = lake.read(BARS, start=DATES[1], symbols="AAA", columns=["close"]).column("close")[0].as_py()
    got = run_query(con, f"SELECT close FROM raw.equities_bars WHERE symbol = 'AAA' AND date = '{DATES[1]}'").fetchall()
    assert got == [(latest,)]


def test_views_keep_the_table_types(con):
    row = run_query(con, "SELECT date, ingested_at, volume FROM raw.equities_bars ORDER BY date LIMIT 1").fetchall()[0]
    assert row[0] == dt.date(2024, 1, 2)
    assert row[1].tzinfo is not None and row[1].utcoffset() == dt.timedelta(0) and isinstance(row[2], int)


def test_a_table_without_partitions_answers_zero_rows_with_its_columns(con):
    rel = run_query(con, "SELECT * FROM reference.delistings")
    assert rel.fetchall() == [] and rel.columns[:3] == ["date", "symbol", "delist_date"]


@pytest.mark.parametrize(
    "query",
    ["DROP VIEW raw.equities_bars", "CREATE TABLE t AS SELECT 1", "INSERT INTO reference.delistings SELECT * FROM reference.delistings",
     "COPY raw.equities_bars TO 'out.csv'", "ATTACH ':memory:' AS w", "SET threads = 1"],
)
def test_statements_other_than_select_are_refused_as_read_only(con, query):
    with pytest.raises(LakeQueryError, match="the lake views are read-only: only SELECT"):
        run_query(con, query)
    assert run_query(con, "SELECT count(*) FROM raw.equities_bars").fetchall() == [(6,)]


def test_a_query_duckdb_rejects_is_its_message_on_one_line(con):
    with pytest.raises(LakeQueryError) as info:
        run_query(con, "SELECT nope FROM raw.equities_bars")
    message = str(info.value)
    assert "\n" not in message and message.startswith("Binder Error: Referenced column \"nope\" not found")


def test_an_unknown_view_lists_the_lake_views(con):
    with pytest.raises(LakeQueryError, match=r"Table with name bars does not exist.*\(lake views: raw\.equities_bars, "):
        run_query(con, "SELECT * FROM bars")


def test_more_than_one_statement_is_refused(con):
    with pytest.raises(LakeQueryError, match="one statement at a time, got 2"):
        run_query(con, "SELECT 1; SELECT 2")


def test_a_root_without_a_lake_is_an_empty_lake_error(tmp_path):
    with pytest.raises(EmptyLakeError, match="holds no table yet"):
        lake_connection(tmp_path / "nowhere")

"""Read-only SQL over the lake: a DuckDB view per table of its latest versions (schema = layer, view = table).

One concern: exposing the stored tables to ad-hoc SQL (``trademl sql``) without loading them into
memory and without a way to change them.

* `lake_views(con, root)` creates, in `con`, schema ``raw`` / ``reference`` / ... and in it one view
  per catalog table (``raw.equities_bars``, ``reference.universe`` ...). A view scans, with DuckDB's
  own Parquet reader, exactly the files `Lake.latest_files` names: the latest version of each
  partition, never an older one, so a revised partition is counted once. Columns are the table's
  schema (dates DATE, instants TIMESTAMPTZ shown in UTC). A table with no stored partition is an
  empty table of the same columns, so a query over it answers 0 rows instead of "does not exist".
  The file list is fixed when the views are made: a connection sees the lake as it was then.
* `run_query(con, query)` runs ONE read-only statement (SELECT, including WITH / FROM-first /
  DESCRIBE / SHOW / SUMMARIZE / VALUES, or EXPLAIN); anything else (CREATE, INSERT, COPY, ATTACH,
  SET, PRAGMA ...) is refused before it runs. Errors are `LakeQueryError`: one line, DuckDB's
  own message.
"""

from __future__ import annotations

import os

import duckdb

from trademl.data.lake.api import EmptyLakeError, Lake, _quote
from trademl.schemas import TABLES

READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


class LakeQueryError(ValueError):
    """A query `run_query` refuses (not one read-only statement) or DuckDB rejects (its message, one line)."""


def view_name(table: str) -> str:
    """The SQL name of a lake table: ``raw/equities_bars`` -> ``raw.equities_bars``."""
    return TABLES[table].name.replace("/", ".", 1)


def lake_views(con: duckdb.DuckDBPyConnection, root: str | os.PathLike) -> dict[str, int]:
    """Create a read-only view of every lake table under `root` in `con`; returns view name -> partitions.

    Raises EmptyLakeError (one line) when `root` holds no table at all. The session time zone is
    set to UTC so TIMESTAMPTZ values print and export in UTC.
    """
    lake = Lake(root)
    if not lake.stored_tables():
        raise EmptyLakeError.at(lake.root)
    lake.register(con)
    con.execute("SET TimeZone='UTC'")
    out: dict[str, int] = {}
    for spec in TABLES.values():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(spec.layer)}")
        target = f"{_quote(spec.layer)}.{_quote(spec.short_name)}"
        files = lake.latest_files(spec.name)
        if files:
            listed = ", ".join(_literal(f) for f in files)
            select = ", ".join(_quote(c) for c in spec.schema.names)
            con.execute(
                f"CREATE VIEW {target} AS SELECT {select} FROM read_parquet([{listed}], hive_partitioning=false)"
            )
        else:
            con.register("__trademl_empty", spec.schema.empty_table())
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM __trademl_empty")
            con.unregister("__trademl_empty")
        out[view_name(spec.name)] = len(files)
    return out


def lake_connection(root: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection holding `lake_views` of `root` (close it when done)."""
    con = duckdb.connect()
    try:
        lake_views(con, root)
    except BaseException:
        con.close()
        raise
    return con


def run_query(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyRelation:
    """One read-only statement on `con`, bound and ready to stream (e.g. `.to_arrow_reader(batch_rows)`).

    Raises LakeQueryError when the text is empty, holds more than one statement, is not a
    read-only statement (the lake views are read-only: no DDL, no writes, no settings), or when
    DuckDB rejects it (its message, on one line). Errors found only while the rows are produced
    (a failing cast) are raised by the fetch as duckdb.Error; `one_line` formats them.
    """
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise LakeQueryError(one_line(exc)) from None
    if not statements:
        raise LakeQueryError("empty query: give one SELECT statement, e.g. \"SELECT count(*) FROM raw.equities_bars\"")
    if len(statements) > 1:
        raise LakeQueryError(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type
    if kind not in READ_ONLY_STATEMENTS:
        raise LakeQueryError(
            f"the lake views are read-only: only SELECT (or EXPLAIN) queries run, not {kind.name}"
        )
    try:
        return con.sql(query)
    except duckdb.CatalogException as exc:  # a misspelt view: DuckDB's guess may be a system table
        views = ", ".join(view_name(t) for t in TABLES)
        raise LakeQueryError(f"{one_line(exc)} (lake views: {views})") from None
    except duckdb.Error as exc:
        raise LakeQueryError(one_line(exc)) from None


def one_line(exc: BaseException) -> str:
    """DuckDB's message on one line: its lines joined, the query excerpt (``LINE n:`` and caret) dropped."""
    lines = []
    for line in str(exc).splitlines():
        text = line.strip()
        if text.startswith("LINE ") or text.startswith("^"):
            break
        if text:
            lines.append(text)
    return " ".join(lines) or type(exc).__name__


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

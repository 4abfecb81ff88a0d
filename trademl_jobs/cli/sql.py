"""`trademl sql "<query>"`: one read-only SQL query over the lake's tables, printed or exported.

Every lake table is a DuckDB view named layer.table (``raw.equities_bars``, ``reference.universe``)
over the latest version of each of its partitions (`trademl.data.lake.sql`); the query streams
from the Parquet files, nothing is loaded whole. Output: a readable table of at most --max-rows
rows (with a note when there are more), or every row as --format csv (stdout or --out) /
--format parquet --out FILE. A query DuckDB rejects, or one that would write, is a one-line
error, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

from trademl.config import settings
from trademl_jobs.cli.args import CliError, add_out_arguments, export_path, positive_int, say

FORMATS = ("table", "csv", "parquet")
BATCH_ROWS = 65_536  # rows per Arrow batch streamed out of DuckDB


@contextmanager
def _result(query: str) -> Iterator[pa.RecordBatchReader]:
    """The query's rows as a stream of Arrow batches from a fresh connection over the lake views.

    Errors DuckDB raises while executing or streaming become one-line CliErrors; the connection
    is closed on the way out.
    """
    import duckdb

    from trademl.data.lake.sql import LakeQueryError, lake_connection, one_line, run_query
    from trademl.features.indicators.tables import register_indicator_tables

    register_indicator_tables()  # the features/indicators_<set> views
    con = lake_connection(settings().data_root)
    try:
        try:
            reader = run_query(con, query).to_arrow_reader(BATCH_ROWS)
        except LakeQueryError as exc:
            raise CliError(str(exc)) from None
        except duckdb.Error as exc:  # raised on execution (e.g. a failing cast)
            raise CliError(one_line(exc)) from None
        try:
            yield reader
        except (duckdb.Error, pa.ArrowException) as exc:  # raised while streaming (e.g. a failing cast)
            raise CliError(one_line(exc)) from None
    finally:
        con.close()


def _print_table(reader: pa.RecordBatchReader, max_rows: int) -> None:
    """The first `max_rows` rows as an aligned text table, then the row count (every row is counted)."""
    head: list[pa.RecordBatch] = []
    kept = total = 0
    for batch in reader:
        total += batch.num_rows
        if kept < max_rows:
            head.append(batch.slice(0, max_rows - kept))
            kept += head[-1].num_rows
    frame = pa.Table.from_batches(head, schema=reader.schema).to_pandas()
    if frame.empty:
        say("  ".join(reader.schema.names))
    else:
        say(frame.to_string(index=False, max_colwidth=48))
    if total > kept:
        say(f"({total} rows, showing the first {kept}; --max-rows N shows more, --format csv|parquet --out FILE exports all)")
    else:
        say(f"({total} row{'' if total == 1 else 's'})")


def _write(reader: pa.RecordBatchReader, fmt: str, out: str | None) -> None:
    """Every row as CSV (to `out`, or stdout) or Parquet (to `out`), streamed batch by batch."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    total = 0
    if fmt == "parquet":
        with pq.ParquetWriter(out, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                total += batch.num_rows
    else:
        with pacsv.CSVWriter(out if out is not None else sys.stdout.buffer, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                total += batch.num_rows
        if out is None:
            sys.stdout.flush()
            return
    say(f"wrote {total} row{'' if total == 1 else 's'} to {out}")


def cmd_sql(args: argparse.Namespace) -> int:
    fmt = args.format
    out = args.out
    if fmt is None:
        suffix = os.path.splitext(out or "")[1].lstrip(".")
        fmt = suffix if suffix in ("csv", "parquet") else "table"
        if out is not None and fmt == "table":
            raise CliError(f"--out {args.out!r}: name a .csv or .parquet file, or give --format csv|parquet")
    if fmt == "parquet" and out is None:
        raise CliError("--format parquet needs --out FILE (Parquet is not printable)")
    if fmt == "table" and out is not None:
        raise CliError("--format table prints to the terminal; use --format csv|parquet with --out")
    if out is not None:
        out = str(export_path(out, args.allow_outside))
    with _result(args.query) as reader:
        if fmt == "table":
            _print_table(reader, args.max_rows)
        else:
            try:
                _write(reader, fmt, out)
            except BrokenPipeError:  # `trademl sql ... --format csv | head`: the reader has what it wants
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """`trademl sql "<query>" [--max-rows N] [--format table|csv|parquet] [--out FILE]`."""
    cmd = sub.add_parser(
        "sql",
        help="run one read-only SQL query over the lake (views layer.table, latest versions)",
        description=(
            "Run one read-only DuckDB SQL query over the lake. Every table is a view layer.table "
            "(raw.equities_bars, raw.equities_minute, raw.options_nbbo, raw.macros_fred, reference.universe, "
            "...) of the latest version of each partition. Example: "
            "trademl sql \"SELECT symbol, count(*) AS sessions FROM raw.equities_bars GROUP BY symbol\""
        ),
    )
    cmd.add_argument("query", help="one SELECT (or EXPLAIN) statement; quote it for the shell")
    cmd.add_argument("--max-rows", type=positive_int, default=40, help="rows printed as a table (default 40)")
    cmd.add_argument("--format", choices=FORMATS, default=None,
                     help="table (default), csv (stdout or --out) or parquet (needs --out); inferred from --out's suffix")
    add_out_arguments(cmd, "every row (.csv or .parquet)")
    cmd.set_defaults(func=cmd_sql)

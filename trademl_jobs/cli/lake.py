"""`trademl lake versions|read|accept`: a partition's stored versions, read straight from the lake."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from trademl.config import settings
from trademl_jobs.cli.args import CliError, add_out_arguments, control_db, export_path, parse_date, resolve_tables, say


def _lake_target(args: argparse.Namespace) -> tuple:
    """The lake, the SSOT table name and the partition date named by --table / --partition."""
    from trademl.data.lake import Lake
    from trademl.features.indicators.tables import register_indicator_tables

    register_indicator_tables()  # so features/indicators_<set> can be named

    table = resolve_tables([args.table])[0]
    return Lake(settings().data_root), table, parse_date(args.partition, "--partition")


def cmd_lake_versions(args: argparse.Namespace) -> int:
    """List the committed versions of one partition: rows, vendor, what each revised, its review."""
    lake, table, day = _lake_target(args)
    versions = lake.versions(table, day)
    if not versions:
        raise CliError(f"{table} has no stored version of partition {day}")
    if args.json:
        from dataclasses import asdict

        print(json.dumps([{**asdict(v), "created_at": v.created_at.isoformat()} for v in versions], sort_keys=True))
        return 0
    say(f"{table} {day}: {len(versions)} version(s)")
    say(f"{'version':>7}  {'created_at (UTC)':<19}  {'rows':>7}  {'vendor':<10}  {'revised rows':<22}  review")
    latest = versions[-1].version
    for v in versions:
        revised = (
            f"{v.revised_rows}/{v.previous_rows} of v{v.previous_version} ({v.revised_rows / v.previous_rows:.1%})"
            if v.previous_version is not None and v.previous_rows
            else "-"
        )
        review = "-"
        if v.review:
            review = f"{v.review.get('code')} ({'accepted' if v.review.get('accepted_at') else 'pending'})"
        created = v.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        tail = "  latest" if v.version == latest else ""
        say(f"{v.version:>7}  {created:<19}  {v.row_count:>7}  {str(v.vendor or '-'):<10}  {revised:<22}  {review}{tail}")
    return 0


def cmd_lake_read(args: argparse.Namespace) -> int:
    """Print one version of a partition as CSV (default: the latest), or export it with --out."""
    lake, table, day = _lake_target(args)
    versions = [v.version for v in lake.versions(table, day)]
    if not versions:
        raise CliError(f"{table} has no stored version of partition {day}")
    version = versions[-1] if args.version is None else args.version
    if version not in versions:
        raise CliError(f"{table} partition {day} has no version {version}; versions: {', '.join(map(str, versions))}")
    rows = lake.read(table, start=day, version=version)
    if args.out is None:
        try:
            rows.to_pandas().to_csv(sys.stdout, index=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `trademl lake read ... | head`: the reader has all it wants
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if not args.out.endswith((".parquet", ".csv")):
        raise CliError(f"--out {args.out!r}: name a .parquet or .csv file")
    out = str(export_path(args.out, args.allow_outside))
    if out.endswith(".parquet"):
        import pyarrow.parquet as pq

        pq.write_table(rows, out)
    else:
        rows.to_pandas().to_csv(out, index=False)
    say(f"wrote {rows.num_rows} rows of {table} {day} version {version} to {out}")
    return 0


def cmd_lake_accept(args: argparse.Namespace) -> int:
    """Accept a partition's flagged latest version (LARGE_REVISION) and re-record its QC."""
    from trademl.data.ingest import accept_revision

    lake, table, day = _lake_target(args)
    summary = accept_revision(lake, control_db(), table, day)
    say(f"{table} {day}: latest version accepted; now {summary.color} ({', '.join(summary.qc_codes) or 'no rows'})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """`trademl lake versions|read|accept --table T --partition YYYY-MM-DD`."""
    lake = sub.add_parser("lake", help="inspect a partition's stored versions")
    lake_sub = lake.add_subparsers(dest="lake_command", required=True)
    for name, func, text in (
        ("versions", cmd_lake_versions, "list a partition's versions (rows, vendor, revision, review)"),
        ("read", cmd_lake_read, "print (CSV) or export one version of a partition"),
        ("accept", cmd_lake_accept, "accept a partition's LARGE_REVISION (its latest version) and re-run its QC"),
    ):
        cmd = lake_sub.add_parser(name, help=text)
        cmd.add_argument("--table", required=True, help="table or dataset name, e.g. raw/equities_minute")
        cmd.add_argument("--partition", required=True, help="session date YYYY-MM-DD")
        if name == "versions":
            cmd.add_argument("--json", action="store_true")
        if name == "read":
            cmd.add_argument("--version", type=int, default=None, help="version number (default: the latest)")
            add_out_arguments(cmd, "the rows (.parquet or .csv) instead of printing them")
        cmd.set_defaults(func=func)

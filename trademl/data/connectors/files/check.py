"""`trademl files check`: what a files mapping would ingest, and what is wrong with it, before any ingest.

Reads the mapping's files through the same FilesConnector code an ingest uses (over every session
of the calendar up to the latest completed one), so what it reports is what an ingest of that span
would store: the dataset and table, each matched file with its rows, the symbols (series for
macro data), the first..last session, rows per symbol, rows left out by reason, and the problems
that would fail or degrade an ingest (no file matches, mapped columns missing from a file, naive
timestamps without ``timezone:``, unreadable files, non-numeric prices). Nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trademl import calendar
from trademl.data.connectors.base import FetchRequest, SourceConfigError, VendorError
from trademl.data.connectors.files.connector import FilesConnector
from trademl.data.connectors.files.mapping import FileMapping, file_stem
from trademl.schemas import table_spec

_PRICES = ("open", "high", "low", "close")
_SHOW_SYMBOLS = 20  # per-symbol lines printed in full up to this many symbols


@dataclass
class MappingCheck:
    """The outcome of checking one mapping against its files (see the module docstring).

    `files`: path -> rows in the file; `per_symbol`: one row per symbol (or series) with ``rows``,
    ``first``, ``last`` (sessions, dates); `left_out`: reason -> {"YYYY-MM-DD": rows} not stored
    (``non_session``, ``outside_regular_hours``, ``outside_window`` = dated before the calendar's
    start or after the latest completed session).
    """

    mapping: FileMapping
    table: str
    root: Path | None = None
    files: dict[Path, int] = field(default_factory=dict)
    per_symbol: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: int = 0
    sessions: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def symbols(self) -> list[str]:
        return [] if self.per_symbol.empty else self.per_symbol.index.astype(str).tolist()

    def lines(self) -> list[str]:
        """The human report, one fact per line."""
        m = self.mapping
        out = [f"mapping {m.name!r}" + (f" ({m.source})" if m.source else "") + f": {m.dataset} -> {self.table}"]
        if self.root is not None:
            out.append(f"files under {self.root}:")
        for path, n in self.files.items():
            out.append(f"  {path}  {n} rows")
        if not self.files:
            out.append("  no file matched")
        key = "series" if m.dataset == "macros_fred" else "symbols"
        names = self.symbols
        shown = ", ".join(names if len(names) <= _SHOW_SYMBOLS else names[:10] + ["..."] + names[-3:])
        out.append(f"{key}: {len(names)}" + (f" ({shown})" if names else ""))
        span = f"{self.first}..{self.last} ({self.sessions} sessions)" if self.first else "none"
        out.append(f"sessions: {span}")
        out.append(f"rows: {self.rows} would be ingested" + (f" into {self.table}" if self.rows else ""))
        if 0 < len(self.per_symbol) <= _SHOW_SYMBOLS:
            width = max(len(s) for s in names)
            for name, row in self.per_symbol.iterrows():  # at most _SHOW_SYMBOLS lines of output
                out.append(f"  {name:<{width}}  {int(row['rows']):>8} rows  {row['first']}..{row['last']}")
        for reason, days in sorted(self.left_out.items()):
            dates = sorted(days)
            shown = ", ".join(dates[:3]) + (f", ... {dates[-1]}" if len(dates) > 3 else "")
            out.append(f"left out: {sum(days.values())} rows {reason} on {len(dates)} date(s) ({shown})")
        out.append("problems: none" if self.ok else f"problems: {len(self.problems)}")
        out.extend(f"  - {p}" for p in self.problems)
        return out


def check_mapping(mapping: FileMapping, *, root: str | Path | None = None) -> MappingCheck:
    """Check `mapping` against its files (root as FilesConnector resolves it unless given); never raises
    for a problem in the files - it is listed in `problems` (ValueError only for an invalid mapping)."""
    conn = FilesConnector([mapping], root=root)
    result = MappingCheck(mapping=mapping, table=table_spec(mapping.dataset).name)
    try:
        result.root = conn.root_for(mapping)
        paths = conn.files_for(mapping)
    except (SourceConfigError, VendorError) as exc:
        result.problems.append(str(exc))
        return result
    readable = []
    for path in paths:
        problem, rows = _file_problem(conn, mapping, path)
        result.files[path] = rows
        if problem:
            result.problems.append(problem)
        else:
            readable.append(path)
    if not readable:
        return result
    only = dataclasses.replace(mapping, paths=tuple(str(p.resolve()) for p in readable))
    request = FetchRequest(mapping.dataset, calendar.as_date(calendar.CALENDAR_START), calendar.latest_completed_session())
    try:
        fetched = FilesConnector([only], root=root).fetch(request)
    except (SourceConfigError, VendorError) as exc:
        result.problems.append(str(exc))
        return result
    _summarise(result, fetched.to_pandas(), fetched.dropped)
    return result


def _file_problem(conn: FilesConnector, mapping: FileMapping, path: Path) -> tuple[str | None, int]:
    """(problem or None, rows in the file): mapped source columns the file lacks, or why it cannot be read."""
    wanted = sorted(set(conn._source_columns(mapping, file_stem(path)).values()))
    fmt = mapping.format or ("parquet" if path.suffix in (".parquet", ".pq") else "csv")
    try:
        if fmt == "parquet":
            meta = pq.read_metadata(path)
            names, rows = meta.schema.to_arrow_schema().names, meta.num_rows
        else:
            names = list(pd.read_csv(path, nrows=0).columns)
            rows = len(pd.read_csv(path, usecols=[names[0]], low_memory=False)) if names else 0
    except (ValueError, OSError, pa.ArrowInvalid) as exc:
        return f"{path}: cannot be read as {fmt} ({str(exc).strip().splitlines()[0]})", 0
    missing = [c for c in wanted if c not in names]
    if missing:
        return (
            f"{path}: mapped column(s) {missing} not in the file (it has: {', '.join(map(str, names[:20]))}"
            f"{', ...' if len(names) > 20 else ''}); fix 'columns:' in the mapping"
        ), rows
    return None, rows


def _summarise(result: MappingCheck, frame: pd.DataFrame, dropped: dict[str, dict[str, int]]) -> None:
    """Fill rows, sessions, first..last, per-symbol counts, rows left out and price problems from a fetch."""
    key = "series_id" if result.mapping.dataset == "macros_fred" else "symbol"
    result.left_out = {reason: dict(days) for reason, days in dropped.items() if days}
    result.rows = len(frame)
    if frame.empty:
        result.problems.append("no rows would be ingested (every row was left out, see above)" if result.left_out else "the files hold no rows")
        return
    days = pd.to_datetime(frame["date"]).dt.date
    result.first, result.last, result.sessions = days.min(), days.max(), int(days.nunique())
    result.per_symbol = (
        pd.DataFrame({"key": frame[key].astype(str), "day": days})
        .groupby("key")["day"].agg(rows="size", first="min", last="max")
        .sort_index()
    )
    if result.mapping.dataset in ("equities_eod", "equities_minute"):
        bad = int(frame[list(_PRICES)].isna().any(axis=1).sum())
        if bad:
            result.problems.append(f"{bad} rows have a missing or non-numeric price (open/high/low/close); the schema check rejects the sessions holding them")

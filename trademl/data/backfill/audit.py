"""The audit: re-judge stored partitions against the calendar and the universe, plan GAP tasks.

`audit_scan` re-evaluates QC of each table's stored partitions over a window (default: the stage
window, never before the first session the node knows), writes the ledger (partition_status) and
plans one GAP task per maximal run of consecutive bad sessions (`plan_gap_tasks`). Task windows
are closed-open ``[first, next_session(last))``; symbol NULL means the whole session. Duplicates are
impossible (UNIQUE(dataset, symbol, start_date, end_date, kind)), so repeated scans are idempotent.
Stored partitions without ledger rows are judged like the rest ("reconciled"), not re-fetched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.config import settings
from trademl.data import control, qc
from trademl.data.backfill.forward import latest_completed_session, stage_window
from trademl.data.backfill.gaps import plan_gap_tasks
from trademl.data.backfill.tasks import _config, _section
from trademl.data.lake import Lake
from trademl.data.qc import QcRules
from trademl.schemas import table_spec

log = logging.getLogger("trademl.data.backfill")


@dataclass
class TableAudit:
    """What audit_scan found in one table."""

    table: str
    start: dt.date | None = None
    end: dt.date | None = None
    sessions: int = 0
    green: int = 0
    amber: int = 0
    red: int = 0
    status_rows: int = 0
    tasks_planned: int = 0
    tasks_new: int = 0
    reconciled: int = 0  # stored partitions that had no ledger rows, judged by QC (not re-fetched)
    note: str = ""
    planned: pd.DataFrame | None = None  # the GAP tasks planned (dataset, symbol, start_date, end_date, ...)


@dataclass
class AuditReport:
    """audit_scan outcome: per-table session colours and GAP tasks (planned vs newly enqueued)."""

    start: dt.date
    end: dt.date
    tables: dict[str, TableAudit] = field(default_factory=dict)
    dry_run: bool = False  # nothing was written: tasks_new counts the tasks a real scan would add

    @property
    def tasks_new(self) -> int:
        return sum(t.tasks_new for t in self.tables.values())

    @property
    def reconciled(self) -> int:
        return sum(t.reconciled for t in self.tables.values())

    def __str__(self) -> str:
        verb = "would queue" if self.dry_run else "queued"
        lines = [
            f"audit {self.start}..{self.end}{' (dry run: nothing written)' if self.dry_run else ''}: "
            f"{verb} {self.tasks_new} new GAP task(s), "
            f"reconciled {self.reconciled} stored partition(s) that had no ledger rows"
        ]
        width = max([len(t) for t in self.tables] + [5])
        lines.append(f"  {'table':<{width}}  sessions  GREEN  AMBER    RED  gaps  new  reconciled")
        for name, t in self.tables.items():
            lines.append(
                f"  {name:<{width}}  {t.sessions:>8} {t.green:>6} {t.amber:>6} {t.red:>6} {t.tasks_planned:>5} {t.tasks_new:>4}"
                f" {t.reconciled:>11}" + (f"  ({t.note})" if t.note else "")
            )
        for name, t in self.tables.items():
            lines.extend(f"  {verb}: {line}" for line in describe_planned(t.planned))
        return "\n".join(lines)


MAX_LISTED_TASKS = 10  # planned tasks listed one per line before "and N more"


def describe_planned(tasks: pd.DataFrame | None, limit: int = MAX_LISTED_TASKS) -> list[str]:
    """Planned GAP tasks as lines "GAP equities_eod 2024-01-05..2024-01-08 (SYN003) from synthetic" with
    closed session ranges (a task's window is closed-open), at most `limit` then "and N more"."""
    if tasks is None or len(tasks) == 0:
        return []
    shown = tasks.head(limit)
    ends = calendar.offset_sessions(pd.DatetimeIndex(pd.to_datetime(shown["end_date"])), -1)
    starts = pd.to_datetime(shown["start_date"]).dt.strftime("%Y-%m-%d").to_numpy()
    lasts = ends.strftime("%Y-%m-%d")
    spans = [a if a == b else f"{a}..{b}" for a, b in zip(starts, lasts)]
    who = shown["symbol"].astype(object).where(shown["symbol"].notna(), "all symbols").to_numpy()
    lines = [
        f"{k} {d} {span} ({w}) from {v}"
        for k, d, span, w, v in zip(shown["kind"], shown["dataset"], spans, who, shown["vendor"])
    ]
    if len(tasks) > limit:
        lines.append(f"and {len(tasks) - limit} more task(s)")
    return lines


def stored_range(lake: Lake, table: str) -> tuple[dt.date, dt.date] | None:
    """The first and last session `table` has a stored partition for (None: nothing stored)."""
    parts = lake.partitions(table_spec(table).name)
    return (parts[0], parts[-1]) if parts else None


def audit_stored_ranges(
    tables: Iterable[str],
    *,
    engine: Engine,
    lake: Lake,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    vendor: str | None = None,
) -> AuditReport:
    """`audit_scan` of each table over the range already in the lake (its first..last stored session),
    so an audit without dates checks the data the node has and never plans tasks beyond it. A table
    with nothing stored is reported (note) and skipped. The report spans the union of the ranges."""
    names = list(dict.fromkeys(table_spec(t).name for t in tables))
    if not names:
        raise ValueError("audit needs at least one table")
    ranges = {name: stored_range(lake, name) for name in names}
    known = [r for r in ranges.values() if r is not None]
    lo = min(r[0] for r in known) if known else latest_completed_session(now)
    hi = max(r[1] for r in known) if known else lo
    report = AuditReport(lo, hi, dry_run=dry_run)
    for name, span in ranges.items():
        if span is None:
            report.tables[name] = TableAudit(name, note="nothing stored; skipped")
            continue
        one = audit_scan([name], engine=engine, lake=lake, start=span[0], end=span[1], now=now, vendor=vendor, dry_run=dry_run)
        report.tables[name] = one.tables[name]
    return report


def _first_known(engine: Engine, lake: Lake, table: str) -> dt.date | None:
    """The earliest session the lake or the ledger knows for `table` (None: no history at all)."""
    ps = control.partition_status
    with engine.connect() as conn:
        first = conn.execute(select(func.min(ps.c.dt)).where(ps.c.table_name == table)).scalar()
    if isinstance(first, str):
        first = dt.date.fromisoformat(first[:10])
    parts = lake.partitions(table)
    known = [d for d in (first, parts[0] if parts else None) if d is not None]
    return min(known) if known else None


def _expected_pairs(engine: Engine, lake: Lake, table: str, sessions: list[dt.date], counts: pd.DataFrame) -> pd.DataFrame:
    """(dt, symbol) pairs a symbol-complete table must hold over the sessions: the universe's listed
    names; for a session the stored universe does not cover, the symbols the ledger already tracks
    for it plus those stored. So after an ingest of a few symbols without reference/universe, a
    missing partition is RED for exactly those symbols (and its GAP task re-fetches just them), not
    one symbol-less row that stands for the vendor's whole universe."""
    from trademl.data.ingest import expected_symbols_by_session  # ingest imports qc; keep the graph acyclic at import

    by_session = expected_symbols_by_session(lake, table, sessions, None)
    frames = [pd.DataFrame({"dt": pd.Series([], dtype=object), "symbol": pd.Series([], dtype=object)})]
    series = pd.Series({d: v for d, v in by_session.items() if v}, dtype=object)
    if not series.empty:
        exploded = series.explode()
        frames.append(pd.DataFrame({"dt": exploded.index.to_numpy(), "symbol": exploded.to_numpy()}))
    uncovered = {d for d, v in by_session.items() if v is None}
    if uncovered:
        led = control.read_partition_status(engine, table_name=table, start=min(uncovered), end=max(uncovered))
        stored = counts[(counts["rows"] > 0) & counts["symbol"].notna()]
        known = pd.concat([led.loc[led["symbol"].notna(), ["dt", "symbol"]], stored[["dt", "symbol"]]], ignore_index=True)
        frames.append(known[known["dt"].isin(uncovered)].drop_duplicates())
    return pd.concat(frames, ignore_index=True)


def _ledger_days(engine: Engine, table: str, lo: dt.date, hi: dt.date) -> set[dt.date]:
    """Sessions in [lo, hi] for which the ledger holds at least one row of `table`."""
    ps = control.partition_status
    q = select(ps.c.dt).distinct().where(ps.c.table_name == table, ps.c.dt >= lo, ps.c.dt <= hi)
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(q) if r[0] is not None}


def _stored_sources(lake: Lake, table: str, partitions: list[dt.date], chunk: int) -> pd.Series:
    """The source_name most of each partition's stored rows carry (index: dt), read `chunk` at a time."""
    spec = table_spec(table)
    if "source_name" not in spec.schema.names or not partitions:
        return pd.Series(dtype=object)
    wanted = set(partitions)
    stored_parts = lake.partitions(table)
    frames = []
    # Range reads over runs of wanted partitions only (a range read covers every partition in it).
    for part in _contiguous_chunks(stored_parts, set(stored_parts) - wanted, chunk):
        stored = lake.read(table, start=part[0], end=part[-1], columns=[spec.partition_column, "source_name"])
        frames.append(stored.group_by([spec.partition_column, "source_name"]).aggregate([([], "count_all")]).to_pandas())
    if not frames:
        return pd.Series(dtype=object)
    counts = pd.concat(frames, ignore_index=True)
    counts["dt"] = pd.to_datetime(counts[spec.partition_column]).dt.date
    counts = counts[counts["dt"].isin(wanted)].sort_values(["dt", "count_all", "source_name"], ascending=[True, False, True])
    return counts.drop_duplicates("dt").set_index("dt")["source_name"]


def _stored_counts(lake: Lake, table: str, partitions: list[dt.date], chunk: int) -> pd.DataFrame:
    """Stored rows per (dt, symbol) over `partitions` (sorted dates), read `chunk` partitions at a time."""
    spec = table_spec(table)
    columns = [spec.partition_column] + ([spec.symbol_column] if spec.symbol_column else [])
    frames = []
    for i in range(0, len(partitions), max(chunk, 1)):
        part = partitions[i : i + chunk]
        # lake.read covers a closed date range; restrict to exactly these partitions afterwards.
        stored = lake.read(table, start=part[0], end=part[-1], columns=columns)
        counts = qc.stored_counts(stored, table)
        frames.append(counts[counts["dt"].isin(set(part))])
    if not frames:
        return pd.DataFrame({"dt": pd.Series([], dtype=object), "symbol": pd.Series([], dtype=object), "rows": pd.Series([], dtype="int64")})
    return pd.concat(frames, ignore_index=True)


def _contiguous_chunks(partitions: list[dt.date], excluded: set[dt.date], size: int) -> list[list[dt.date]]:
    """Split sorted partitions into runs that skip `excluded` ones, each at most `size` long."""
    chunks: list[list[dt.date]] = []
    current: list[dt.date] = []
    for d in partitions:  # one step per partition (not per row)
        if d in excluded or len(current) >= size:
            if current:
                chunks.append(current)
            current = []
        if d not in excluded:
            current.append(d)
    if current:
        chunks.append(current)
    return chunks


def _sticky_codes(engine: Engine, table: str, lo: dt.date, hi: dt.date, absent: set[dt.date]) -> pd.DataFrame:
    """RED codes the ledger holds for sessions the lake cannot judge (no partition in an event table)."""
    led = control.read_partition_status(engine, table_name=table, start=lo, end=hi)
    led = led[(led["status"] == "RED") & led["dt"].isin(absent) & led["qc_code"].notna()]
    return pd.DataFrame({"dt": led["dt"].to_numpy(), "symbol": None, "qc_code": led["qc_code"].to_numpy()})


def audit_scan(
    tables: Iterable[str],
    *,
    engine: Engine,
    lake: Lake,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    now: dt.datetime | None = None,
    vendor: str | None = None,
    dry_run: bool = False,
) -> AuditReport:
    """Re-evaluate QC of `tables` (SSOT or dataset names) over sessions [start, end] and plan GAP tasks.

    Default window: the stage window. Only history the node already has is audited: the window
    starts no earlier than the first session the lake or the ledger knows for the table (extending
    history is BOOTSTRAP's job). Status rows are upserted into partition_status; GAP tasks (for
    `vendor`, default the configured vendor) are enqueued with dedup on the UNIQUE key, so
    repeated scans are idempotent. `dry_run` writes neither ledger rows nor tasks: the report says
    what the scan would record and queue (`tasks_new`: planned tasks the queue does not hold yet).
    """
    cfg = _config()
    audit = _section(cfg, "audit")
    rules = qc.qc_rules()
    names = [table_spec(t).name for t in tables]
    if not names:
        raise ValueError("audit_scan needs at least one table")
    lo, hi = _audit_window(start, end, now)
    vendor = vendor or settings().vendor
    report = AuditReport(lo, hi, dry_run=dry_run)
    for name in dict.fromkeys(names):
        entry = TableAudit(name)
        report.tables[name] = entry
        sessions = _table_sessions(engine, lake, entry, lo, hi)
        if sessions:
            _audit_table(
                entry, sessions, engine=engine, lake=lake, cfg=cfg, audit=audit, rules=rules, vendor=vendor, now=now, dry_run=dry_run
            )
    return report


def _audit_window(start: dt.date | str | None, end: dt.date | str | None, now: dt.datetime | None) -> tuple[dt.date, dt.date]:
    """[start, end] as dates; a bound not given comes from the stage window."""
    if start is None or end is None:
        s0, e0 = stage_window(now)
        start = s0 if start is None else start
        end = e0 if end is None else end
    lo, hi = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if hi < lo:
        raise ValueError(f"audit window end {hi} is before start {lo}")
    return lo, hi


def _table_sessions(engine: Engine, lake: Lake, entry: TableAudit, lo: dt.date, hi: dt.date) -> list[dt.date]:
    """The sessions of [lo, hi] to audit for `entry.table`, none before the first session the node
    knows for it; empty (with `entry.note` saying why) when there is nothing to audit."""
    first = _first_known(engine, lake, entry.table)
    eff_lo = lo if first is None else max(lo, first)
    if first is None or eff_lo > hi:
        entry.note = "no stored history in the window (BOOTSTRAP extends history)"
        return []
    sessions = [d.date() for d in calendar.sessions(eff_lo, hi)]
    if not sessions:
        entry.note = "no session in the window"
        return []
    entry.start, entry.end, entry.sessions = sessions[0], sessions[-1], len(sessions)
    return sessions


def _audit_table(
    entry: TableAudit,
    sessions: list[dt.date],
    *,
    engine: Engine,
    lake: Lake,
    cfg: Mapping[str, Any],
    audit: Mapping[str, Any],
    rules: QcRules,
    vendor: str,
    now: dt.datetime | None,
    dry_run: bool = False,
) -> None:
    """Judge one table's sessions from its stored partitions, write the ledger and enqueue GAP tasks
    (`dry_run`: neither; only the report)."""
    name = entry.table
    in_window = set(sessions)
    partitions = [d for d in lake.partitions(name) if d in in_window]
    corrupt: set[dt.date] = set()
    if audit.get("verify_checksums", True):
        corrupt = {d for d in partitions if not lake.verify_partition(name, d)}
    chunk = _read_chunk(audit, name)
    counts = _intact_counts(lake, name, partitions, corrupt, chunk)
    intact = [d for d in partitions if d not in corrupt]
    forced = _forced_codes(engine, name, sessions, partitions, corrupt, rules)
    # Stored partitions the ledger has never heard of (a run killed between its lake writes and
    # its ledger upsert): QC below judges them from the stored rows like every other partition,
    # so they get their rows, named for the vendor that stored them, and no GAP task re-fetches them.
    known_days = _ledger_days(engine, name, sessions[0], sessions[-1])
    unrecorded = [d for d in intact if d not in known_days]
    expected = _expected_pairs(engine, lake, name, sessions, counts) if name in rules.universe_expected_tables else None
    rows = qc.evaluate_partitions(
        name,
        sessions,
        counts,
        source_name=_ledger_source(engine, name, vendor),
        expected=expected,
        present=intact,
        forced=forced,
        rules=rules,
    )
    if unrecorded:
        _reconcile_sources(entry, rows, lake, unrecorded, chunk)
    # A revision awaiting review (LARGE_REVISION) stays AMBER until accepted: re-judging the
    # stored rows alone would turn it GREEN again.
    rows = qc.apply_reviews(rows, lake.pending_reviews(name, intact))
    _record(entry, rows, sessions, engine=engine, cfg=cfg, vendor=vendor, now=now, dry_run=dry_run)


def _read_chunk(audit: Mapping[str, Any], table: str) -> int:
    """Partitions read at a time for `table`: ``audit.read_chunk_sessions`` (per table, else default)."""
    chunks_cfg = audit.get("read_chunk_sessions", {"default": 21})
    chunk = int(chunks_cfg.get(table, chunks_cfg["default"]))
    if chunk < 1:
        raise ValueError(f"configs/backfill.yml audit.read_chunk_sessions for {table} must be >= 1")
    return chunk


def _intact_counts(lake: Lake, table: str, partitions: list[dt.date], corrupt: set[dt.date], chunk: int) -> pd.DataFrame:
    """Stored rows per (dt, symbol) of the partitions that are not corrupt, read in runs of at most `chunk`."""
    chunks = _contiguous_chunks(partitions, corrupt, chunk)
    return pd.concat(
        [_stored_counts(lake, table, c, len(c)) for c in chunks] or [_stored_counts(lake, table, [], chunk)],
        ignore_index=True,
    )


def _forced_codes(
    engine: Engine, table: str, sessions: list[dt.date], partitions: list[dt.date], corrupt: set[dt.date], rules: QcRules
) -> pd.DataFrame:
    """Codes QC must apply whatever the stored rows say: CHECKSUM_MISMATCH for corrupt partitions and,
    for a sparse (event) table, the RED codes the ledger holds for sessions without a partition."""
    forced = [pd.DataFrame({"dt": sorted(corrupt), "symbol": None, "qc_code": "CHECKSUM_MISMATCH"})]
    if table in rules.sparse_tables:
        forced.append(_sticky_codes(engine, table, sessions[0], sessions[-1], set(sessions) - set(partitions)))
    return pd.concat(forced, ignore_index=True)


def _reconcile_sources(entry: TableAudit, rows: pd.DataFrame, lake: Lake, unrecorded: list[dt.date], chunk: int) -> None:
    """Name the ledger rows of partitions stored without ledger rows for the vendor that stored them (in place)."""
    sources = rows["dt"].map(_stored_sources(lake, entry.table, unrecorded, chunk))
    rows["source_name"] = sources.where(sources.notna(), rows["source_name"])
    entry.reconciled = len(unrecorded)
    log.info("audit_scan reconciled stored partitions without ledger rows",
             extra={"table": entry.table, "partitions": len(unrecorded), "first": unrecorded[0].isoformat()})


def _record(
    entry: TableAudit,
    rows: pd.DataFrame,
    sessions: list[dt.date],
    *,
    engine: Engine,
    cfg: Mapping[str, Any],
    vendor: str,
    now: dt.datetime | None,
    dry_run: bool = False,
) -> None:
    """Upsert a table's judged rows into the ledger, count its session colours, enqueue its GAP tasks
    (`dry_run`: count the rows and the tasks not queued yet, write nothing)."""
    entry.status_rows = len(rows) if dry_run else control.upsert_partition_status(engine, rows, now=now)
    colors = qc.session_colors(rows)["color"].value_counts()
    entry.green, entry.amber, entry.red = (int(colors.get(c, 0)) for c in ("GREEN", "AMBER", "RED"))
    tasks = plan_gap_tasks(entry.table, rows, sessions, vendor=vendor, cfg=cfg)
    entry.tasks_planned = len(tasks)
    new = tasks[~control.queued_mask(engine, tasks)].reset_index(drop=True) if len(tasks) else tasks
    entry.planned = new  # what the report lists: the tasks not in the queue before this scan
    if dry_run:
        entry.tasks_new = len(new)
    else:
        entry.tasks_new = control.enqueue_tasks(engine, tasks, now=now) if len(tasks) else 0
    log.info(
        "audit_scan",
        extra={"table": entry.table, "sessions": entry.sessions, "red": entry.red, "gap_tasks_new": entry.tasks_new,
               "reconciled": entry.reconciled},
    )


def _ledger_source(engine: Engine, table: str, default: str) -> str:
    """The source the ledger most often names for `table` (re-evaluation keeps it), else `default`."""
    ps = control.partition_status
    q = (
        select(ps.c.source_name, func.count().label("n"))
        .where(ps.c.table_name == table)
        .group_by(ps.c.source_name)
        .order_by(func.count().desc(), ps.c.source_name)
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return default if row is None else str(row[0])

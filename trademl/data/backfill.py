"""The unified ingest queue (SSOT 2.4): audit -> GAP tasks, leases with TTL, budgets, backoff, draining.

* `audit_scan` re-evaluates QC of stored partitions against the calendar and the universe, writes
  the ledger (partition_status) and plans one GAP task per maximal run of consecutive RED
  sessions. Task windows are closed-open ``[first, next_session(last))``; symbol NULL means the
  whole session. Duplicates are impossible (UNIQUE(dataset, symbol, start_date, end_date, kind)).
* `lease_tasks` hands PENDING tasks out in (priority, created_at, id) order, inside one
  transaction (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE SKIP LOCKED`` on Postgres), within
  per-vendor token buckets and daily caps sliced by kind; budget state is persisted in
  control.vendor_token_bucket / control.vendor_budget_usage so it holds across processes.
* Retry policy: `fail_task` counts the attempt and sets ``next_not_before = now + min(base *
  2**attempts, cap)``. While attempts remain the task goes back to PENDING (leasable once
  next_not_before has passed); after ``max_attempts`` it stays FAILED. So FAILED in queue_counts
  means "gave up". An expired lease returns the task to PENDING without counting an attempt.
* Leases are short (``queue.lease_ttl_seconds``) and renewed while their holder lives: `renew_lease`
  is an owner-checked UPDATE; `backfill_run` runs a `LeaseHeartbeat` thread while it executes its
  tasks and the queue-worker sensor renews the leases of tasks whose Dagster run is unfinished. So
  a killed worker's task returns to PENDING about one TTL after the kill, not after a long timeout.
* `backfill_run` drains the queue: lease -> execute -> (the executor closes the tasks) until
  nothing is leasable, the run budget is spent or max_tasks is reached. When it stops because other
  workers hold the remaining tasks it names them with their owner and lease expiry.

All instants are timezone-aware UTC; the budget day is the UTC calendar day.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, literal, or_, select, update
from sqlalchemy.engine import Connection, Engine, Row

from trademl import calendar

from trademl.data import control, qc
from trademl.config import settings
from trademl.data.control import KIND_PRIORITY, TASK_KINDS, USAGE_COLUMNS, as_utc
from trademl.data.lake import Lake
from trademl.schemas import TABLE_DATASETS, table_spec

log = logging.getLogger(__name__)

_Q = control.backfill_queue


# ----------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One backfill_queue row. The window [start_date, end_date) is closed-open (session dates)."""

    id: int
    dataset: str
    symbol: str | None
    start_date: dt.date
    end_date: dt.date
    kind: str
    priority: int
    status: str
    attempts: int
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    next_not_before: dt.datetime | None
    last_error: str | None
    vendor: str | None
    tokens: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Task:
        """Build from a backfill_queue row mapping (typed columns)."""
        return cls(
            id=int(row["id"]),
            dataset=row["dataset"],
            symbol=row["symbol"],
            start_date=row["start_date"],
            end_date=row["end_date"],
            kind=row["kind"],
            priority=int(row["priority"]),
            status=row["status"],
            attempts=int(row["attempts"]),
            lease_owner=row["lease_owner"],
            lease_expires_at=row["lease_expires_at"],
            next_not_before=row["next_not_before"],
            last_error=row["last_error"],
            vendor=row["vendor"],
            tokens=int(row["tokens"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def describe(self) -> str:
        """Short human form: ``#12 GAP equities_eod [2025-03-06, 2025-03-10) *``."""
        return f"#{self.id} {self.kind} {self.dataset} [{self.start_date}, {self.end_date}) {self.symbol or '*'}"


def task_symbols(engine: Engine, task: Task) -> list[str] | None:
    """The symbols a task's run fetches (None: every symbol the vendor lists for the sessions).

    A per-symbol task fetches its symbol. A symbol-less GAP task of a universe-expected table
    (bars) fetches only the symbols the ledger holds as bad (``audit.gap_colors``) over its window,
    so a session that is RED for some symbols, or for the subset an operator ingested, is repaired
    without re-fetching the rest of the universe; it falls back to every symbol when a bad row
    names no symbol (nothing is known about the session's symbols) or the ledger has none.
    Other kinds (FORWARD, BOOTSTRAP) and other tables always fetch whole sessions.
    """
    if task.symbol and task.symbol != "*":
        return [task.symbol]
    if task.kind != "GAP":
        return None
    table = table_spec(task.dataset).name
    if table not in qc.qc_rules().universe_expected_tables:
        return None
    bad_colors = set(_section(_config(), "audit").get("gap_colors", ["RED"]))
    rows = control.read_partition_status(
        engine, table_name=table, start=task.start_date, end=task.end_date - dt.timedelta(days=1)
    )
    bad = rows[rows["status"].isin(bad_colors)]
    if bad.empty or bad["symbol"].isna().any():
        return None
    return sorted(bad["symbol"].astype(str).unique().tolist())


def _tasks_by_id(conn: Connection, ids: Sequence[int]) -> list[Task]:
    if not ids:
        return []
    rows = conn.execute(select(*_Q.c).where(_Q.c.id.in_(list(ids))).order_by(_Q.c.priority, _Q.c.created_at, _Q.c.id))
    return [Task.from_row(r._mapping) for r in rows]


def get_task(engine: Engine, task_id: int) -> Task | None:
    """The task with this id, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(*_Q.c).where(_Q.c.id == int(task_id))).first()
    return None if row is None else Task.from_row(row._mapping)


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


def _config() -> Mapping[str, Any]:
    return qc.config_snapshot("backfill")


def _section(cfg: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    if name not in cfg or not isinstance(cfg[name], Mapping):
        raise ValueError(f"configs/backfill.yml has no `{name}:` section")
    return cfg[name]


def task_tokens(dataset: str, n_sessions: int, cfg: Mapping[str, Any] | None = None) -> int:
    """Budget tokens a task over `n_sessions` sessions costs: ceil(n / sessions_per_token[dataset])."""
    spt = _section(cfg or _config(), "tokens")["sessions_per_token"]
    per = float(spt.get(dataset, spt["default"]))
    if per <= 0:
        raise ValueError(f"configs/backfill.yml tokens.sessions_per_token for {dataset} must be > 0")
    return max(1, math.ceil(n_sessions / per))


def latest_completed_session(now: dt.datetime | None = None, lag_minutes: float = 0.0) -> dt.date:
    """The most recent XNYS session whose close (+ lag) is at or before `now` (UTC)."""
    return calendar.latest_completed_session(as_utc(now), lag_minutes)


def stage_window(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The current stage window [start, end] (closed, session dates): configs/backfill.yml
    ``stage.window_sessions`` sessions ending at the latest completed session."""
    n = int(_section(_config(), "stage")["window_sessions"])
    if n < 1:
        raise ValueError(f"configs/backfill.yml stage.window_sessions must be >= 1, got {n}")
    end = latest_completed_session(now)
    start = end if n == 1 else calendar.previous_session(end, n - 1).date()
    return start, end


# ----------------------------------------------------------------------------------------------
# Audit
# ----------------------------------------------------------------------------------------------


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


@dataclass
class AuditReport:
    """audit_scan outcome: per-table session colours and GAP tasks (planned vs newly enqueued)."""

    start: dt.date
    end: dt.date
    tables: dict[str, TableAudit] = field(default_factory=dict)

    @property
    def tasks_new(self) -> int:
        return sum(t.tasks_new for t in self.tables.values())

    @property
    def reconciled(self) -> int:
        return sum(t.reconciled for t in self.tables.values())

    def __str__(self) -> str:
        lines = [
            f"audit {self.start}..{self.end}: {self.tasks_new} new GAP task(s), "
            f"reconciled {self.reconciled} stored partition(s) that had no ledger rows"
        ]
        width = max([len(t) for t in self.tables] + [5])
        lines.append(f"  {'table':<{width}}  sessions  GREEN  AMBER    RED  gaps  new  reconciled")
        for name, t in self.tables.items():
            lines.append(
                f"  {name:<{width}}  {t.sessions:>8} {t.green:>6} {t.amber:>6} {t.red:>6} {t.tasks_planned:>5} {t.tasks_new:>4}"
                f" {t.reconciled:>11}" + (f"  ({t.note})" if t.note else "")
            )
        return "\n".join(lines)


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


def plan_gap_tasks(
    table: str,
    status_rows: pd.DataFrame,
    sessions: Sequence[dt.date],
    *,
    vendor: str | None,
    cfg: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """GAP tasks for the bad sessions of `status_rows` (one table): one task per maximal run of
    consecutive bad sessions (split at ``audit.max_task_sessions``), symbol NULL when more than
    ``audit.whole_session_red_frac`` of the session's rows are bad, else per-symbol runs.
    Returns columns dataset, symbol, start_date, end_date (closed-open), kind, priority, vendor, tokens.
    """
    cfg = cfg or _config()
    audit = _section(cfg, "audit")
    bad_colors = set(audit.get("gap_colors", ["RED"]))
    whole_frac = float(audit["whole_session_red_frac"])
    max_len = int(audit["max_task_sessions"])
    if max_len < 1:
        raise ValueError("configs/backfill.yml audit.max_task_sessions must be >= 1")
    cols = ["dataset", "symbol", "start_date", "end_date", "kind", "priority", "vendor", "tokens"]
    if len(status_rows) == 0:
        return pd.DataFrame(columns=cols)
    order = pd.Index(sorted(set(sessions)))
    rows = pd.DataFrame(
        {
            "dt": status_rows["dt"].to_numpy(),
            "symbol": status_rows["symbol"].astype(object).to_numpy(),
            "bad": status_rows["status"].isin(bad_colors).to_numpy(),
        }
    )
    rows["pos"] = order.get_indexer(rows["dt"])
    rows = rows[rows["pos"] >= 0]
    per_session = rows.groupby("pos")["bad"].agg(["sum", "size"])
    per_session = per_session[per_session["sum"] > 0]
    whole_pos = per_session.index[(per_session["sum"] / per_session["size"]) > whole_frac]
    whole = pd.DataFrame({"symbol": None, "pos": np.asarray(whole_pos, dtype="int64")})
    named = rows[rows["bad"] & ~rows["pos"].isin(whole_pos) & rows["symbol"].notna()][["symbol", "pos"]]
    runs = pd.concat([whole, named], ignore_index=True)
    if runs.empty:
        return pd.DataFrame(columns=cols)
    runs["key"] = runs["symbol"].fillna("\x00")
    runs = runs.sort_values(["key", "pos"], kind="stable").reset_index(drop=True)
    new_run = (runs["key"] != runs["key"].shift()) | (runs["pos"].diff() != 1)
    runs["run"] = new_run.cumsum()
    runs["offset"] = runs.groupby("run").cumcount()
    runs["chunk"] = runs["offset"] // max_len
    g = runs.groupby(["run", "chunk"], sort=True).agg(
        symbol=("symbol", "first"), first=("pos", "min"), last=("pos", "max")
    )
    first = pd.DatetimeIndex(pd.to_datetime(order[g["first"].to_numpy()]))
    last = pd.DatetimeIndex(pd.to_datetime(order[g["last"].to_numpy()]))
    end = calendar.offset_sessions(last, 1)
    dataset = TABLE_DATASETS[table_spec(table).name]
    n_sessions = (g["last"] - g["first"] + 1).to_numpy()
    spt = _section(cfg, "tokens")["sessions_per_token"]
    per = float(spt.get(dataset, spt["default"]))
    return pd.DataFrame(
        {
            "dataset": dataset,
            "symbol": g["symbol"].astype(object).where(g["symbol"].notna(), None).to_numpy(),
            "start_date": first.date,
            "end_date": end.date,
            "kind": "GAP",
            "priority": KIND_PRIORITY["GAP"],
            "vendor": vendor,
            "tokens": np.maximum(1, np.ceil(n_sessions / per)).astype("int64"),
        }
    )[cols]


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
) -> AuditReport:
    """Re-evaluate QC of `tables` (SSOT or dataset names) over sessions [start, end] and plan GAP tasks.

    Default window: the stage window. Only history the node already has is audited: the window
    starts no earlier than the first session the lake or the ledger knows for the table (extending
    history is BOOTSTRAP's job). Status rows are upserted into partition_status; GAP tasks (for
    `vendor`, default the configured vendor) are enqueued with dedup on the UNIQUE key, so
    repeated scans are idempotent.
    """
    cfg = _config()
    audit = _section(cfg, "audit")
    rules = qc.qc_rules()
    names = [table_spec(t).name for t in tables]
    if not names:
        raise ValueError("audit_scan needs at least one table")
    if start is None or end is None:
        s0, e0 = stage_window(now)
        start = s0 if start is None else start
        end = e0 if end is None else end
    lo, hi = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if hi < lo:
        raise ValueError(f"audit window end {hi} is before start {lo}")
    vendor = vendor or settings().vendor
    chunks_cfg = audit.get("read_chunk_sessions", {"default": 21})
    report = AuditReport(lo, hi)
    for name in dict.fromkeys(names):
        entry = TableAudit(name)
        report.tables[name] = entry
        first = _first_known(engine, lake, name)
        eff_lo = lo if first is None else max(lo, first)
        if first is None or eff_lo > hi:
            entry.note = "no stored history in the window (BOOTSTRAP extends history)"
            continue
        sessions = [d.date() for d in calendar.sessions(eff_lo, hi)]
        if not sessions:
            entry.note = "no session in the window"
            continue
        entry.start, entry.end, entry.sessions = sessions[0], sessions[-1], len(sessions)
        in_window = set(sessions)
        partitions = [d for d in lake.partitions(name) if d in in_window]
        corrupt: set[dt.date] = set()
        if audit.get("verify_checksums", True):
            corrupt = {d for d in partitions if not lake.verify_partition(name, d)}
        chunk = int(chunks_cfg.get(name, chunks_cfg["default"]))
        if chunk < 1:
            raise ValueError(f"configs/backfill.yml audit.read_chunk_sessions for {name} must be >= 1")
        chunks = _contiguous_chunks(partitions, corrupt, chunk)
        counts = pd.concat(
            [_stored_counts(lake, name, c, len(c)) for c in chunks] or [_stored_counts(lake, name, [], chunk)],
            ignore_index=True,
        )
        forced = [pd.DataFrame({"dt": sorted(corrupt), "symbol": None, "qc_code": "CHECKSUM_MISMATCH"})]
        if name in rules.sparse_tables:
            forced.append(_sticky_codes(engine, name, sessions[0], sessions[-1], in_window - set(partitions)))
        # Stored partitions the ledger has never heard of (a run killed between its lake writes and
        # its ledger upsert): QC below judges them from the stored rows like every other partition,
        # so they get their rows, named for the vendor that stored them, and no GAP task re-fetches them.
        known_days = _ledger_days(engine, name, sessions[0], sessions[-1])
        unrecorded = [d for d in partitions if d not in corrupt and d not in known_days]
        expected = _expected_pairs(engine, lake, name, sessions, counts) if name in rules.universe_expected_tables else None
        rows = qc.evaluate_partitions(
            name,
            sessions,
            counts,
            source_name=_ledger_source(engine, name, vendor),
            expected=expected,
            present=[d for d in partitions if d not in corrupt],
            forced=pd.concat(forced, ignore_index=True),
            rules=rules,
        )
        if unrecorded:
            sources = rows["dt"].map(_stored_sources(lake, name, unrecorded, chunk))
            rows["source_name"] = sources.where(sources.notna(), rows["source_name"])
            entry.reconciled = len(unrecorded)
            log.info("audit_scan reconciled stored partitions without ledger rows",
                     extra={"table": name, "partitions": len(unrecorded), "first": unrecorded[0].isoformat()})
        # A revision awaiting review (LARGE_REVISION) stays AMBER until accepted: re-judging the
        # stored rows alone would turn it GREEN again.
        rows = qc.apply_reviews(rows, lake.pending_reviews(name, [d for d in partitions if d not in corrupt]))
        entry.status_rows = control.upsert_partition_status(engine, rows, now=now)
        colors = qc.session_colors(rows)["color"].value_counts()
        entry.green, entry.amber, entry.red = (int(colors.get(c, 0)) for c in ("GREEN", "AMBER", "RED"))
        tasks = plan_gap_tasks(name, rows, sessions, vendor=vendor, cfg=cfg)
        entry.tasks_planned = len(tasks)
        entry.tasks_new = control.enqueue_tasks(engine, tasks, now=now) if len(tasks) else 0
        log.info(
            "audit_scan",
            extra={"table": name, "sessions": entry.sessions, "red": entry.red, "gap_tasks_new": entry.tasks_new,
                   "reconciled": entry.reconciled},
        )
    return report


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


# ----------------------------------------------------------------------------------------------
# Budgets
# ----------------------------------------------------------------------------------------------


@dataclass
class VendorBudget:
    """Per-vendor budget state inside one lease transaction (loaded from, then saved to, the control db)."""

    vendor: str
    per_minute: float
    burst: float
    daily_cap: float
    level: float
    usage: dict[str, float]
    updated_at: dt.datetime

    @property
    def used_today(self) -> float:
        return float(sum(self.usage.values()))


def _budget_vendor(vendor: str) -> str:
    """Vendor whose budget a task spends (aliases such as alfred -> fred, via configs/endpoints.yml)."""
    from trademl.data.http import budget_vendor

    try:
        return budget_vendor(vendor, qc.config_snapshot("endpoints"))
    except ValueError:
        return vendor


def _edge_budgets() -> dict[str, Mapping[str, Any]]:
    doc = qc.config_snapshot("edge").get("budgets") or {}
    out = {}
    for vendor, b in doc.items():
        try:
            out[vendor] = {
                "tokens_per_minute": float(b["tokens_per_minute"]),
                "burst": float(b.get("burst", b["tokens_per_minute"])),
                "daily_cap": float(b["daily_cap"]),
            }
        except (KeyError, TypeError) as exc:
            raise ValueError(f"configs/edge.yml budgets.{vendor} needs tokens_per_minute and daily_cap: {exc}") from exc
        if min(out[vendor].values()) <= 0:
            raise ValueError(f"configs/edge.yml budgets.{vendor}: limits must be > 0")
    return out


def _load_budget(conn: Connection, vendor: str, limits: Mapping[str, float], now: dt.datetime) -> VendorBudget:
    """Lock (Postgres) and read a vendor's bucket and today's usage, creating them if missing; refill the bucket."""
    day = now.date()
    bucket, usage = control.vendor_token_bucket, control.vendor_budget_usage
    ins = control.dialect_insert(conn, bucket).values(vendor=vendor, tokens=limits["burst"], updated_at=now)
    conn.execute(ins.on_conflict_do_nothing())
    ins = control.dialect_insert(conn, usage).values(vendor=vendor, day=day, updated_at=now)
    conn.execute(ins.on_conflict_do_nothing())
    b = conn.execute(select(bucket).where(bucket.c.vendor == vendor).with_for_update()).one()._mapping
    u = conn.execute(select(usage).where(usage.c.vendor == vendor, usage.c.day == day).with_for_update()).one()._mapping
    elapsed = max(0.0, (now - b["updated_at"]).total_seconds())
    level = min(limits["burst"], float(b["tokens"]) + elapsed * limits["tokens_per_minute"] / 60.0)
    return VendorBudget(
        vendor=vendor,
        per_minute=limits["tokens_per_minute"],
        burst=limits["burst"],
        daily_cap=limits["daily_cap"],
        level=level,
        usage={kind: float(u[col]) for kind, col in USAGE_COLUMNS.items()},
        updated_at=max(b["updated_at"], now),
    )


def _save_budget(conn: Connection, state: VendorBudget, now: dt.datetime) -> None:
    bucket, usage = control.vendor_token_bucket, control.vendor_budget_usage
    conn.execute(update(bucket).where(bucket.c.vendor == state.vendor).values(tokens=state.level, updated_at=state.updated_at))
    conn.execute(
        update(usage)
        .where(usage.c.vendor == state.vendor, usage.c.day == now.date())
        .values(updated_at=now, **{USAGE_COLUMNS[k]: v for k, v in state.usage.items()})
    )


def budget_usage(engine: Engine, vendor: str, day: dt.date | None = None) -> dict[str, float]:
    """Tokens a vendor spent on a UTC day, by task kind (zeros when nothing was spent)."""
    day = day or control.utc_now().date()
    usage = control.vendor_budget_usage
    with engine.connect() as conn:
        row = conn.execute(select(usage).where(usage.c.vendor == vendor, usage.c.day == day)).first()
    if row is None:
        return dict.fromkeys(TASK_KINDS, 0.0)
    return {kind: float(row._mapping[col]) for kind, col in USAGE_COLUMNS.items()}


# ----------------------------------------------------------------------------------------------
# Leasing and closing
# ----------------------------------------------------------------------------------------------


def lease_tasks(
    engine: Engine,
    owner: str,
    *,
    n: int = 1,
    ttl_seconds: int | None = None,
    now: dt.datetime | None = None,
    budgets: Mapping[str, float] | None = None,
) -> list[Task]:
    """Atomically lease up to `n` PENDING tasks whose next_not_before has passed, in (priority, created_at, id) order.

    A task is leased only if its vendor's token bucket holds its tokens (a task larger than the
    bucket goes when the bucket is full), the day's total usage plus its tokens stays within its
    kind's slice of the daily cap (configs/backfill.yml budget.slices) and, when `budgets` names
    its vendor, within that remaining run budget. A blocked vendor (or vendor+kind for cap slices)
    is skipped for the rest of the call so FIFO holds within it; other vendors still lease.
    Leased tasks are LEASED by `owner` until now + ttl and their tokens are charged.
    """
    if not owner or not isinstance(owner, str):
        raise ValueError("lease owner must be a non-empty string")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    cfg = _config()
    queue = _section(cfg, "queue")
    ttl = int(queue["lease_ttl_seconds"] if ttl_seconds is None else ttl_seconds)
    if ttl <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl}")
    slices = {k: float(v) for k, v in _section(cfg, "budget")["slices"].items()}
    missing = set(TASK_KINDS) - set(slices)
    if missing:
        raise ValueError(f"configs/backfill.yml budget.slices lacks {sorted(missing)}")
    scan = int(queue.get("lease_scan_limit", 500))
    now = as_utc(now)
    limits = _edge_budgets()
    default_vendor = settings().vendor
    remaining = None if budgets is None else {_budget_vendor(k): float(v) for k, v in budgets.items()}

    chosen: list[int] = []
    states: dict[str, VendorBudget | None] = {}
    blocked_vendor: set[str] = set()
    blocked_kind: set[tuple[str, str]] = set()
    with control.write_transaction(engine) as conn:
        for task_id, kind, vendor, tokens in _candidates(conn, now, first_page=n, limit=scan):
            v = _budget_vendor(vendor or default_vendor)
            if v in blocked_vendor or (v, kind) in blocked_kind:
                continue
            tokens = float(tokens)
            if remaining is not None and v in remaining and tokens > remaining[v]:
                blocked_vendor.add(v)
                continue
            if v not in states:
                states[v] = _load_budget(conn, v, limits[v], now) if v in limits else None
            state = states[v]
            if state is not None:
                if state.used_today + tokens > slices[kind] * state.daily_cap + 1e-9:
                    blocked_kind.add((v, kind))
                    continue
                if tokens > state.level + 1e-9 and state.level < state.burst - 1e-9:
                    blocked_vendor.add(v)
                    continue
                state.level -= tokens
                state.usage[kind] += tokens
            if remaining is not None and v in remaining:
                remaining[v] -= tokens
            chosen.append(int(task_id))
            if len(chosen) >= n:
                break
        if chosen:
            conn.execute(
                update(_Q)
                .where(_Q.c.id.in_(chosen), _Q.c.status == "PENDING")
                .values(
                    status="LEASED",
                    lease_owner=owner,
                    lease_expires_at=now + dt.timedelta(seconds=ttl),
                    updated_at=now,
                )
            )
            for state in states.values():
                if state is not None:
                    _save_budget(conn, state, now)
        leased = _tasks_by_id(conn, chosen)
    if leased:
        log.info("leased tasks", extra={"owner": owner, "tasks": ",".join(str(t.id) for t in leased)})
    return leased


def _candidates(conn: Connection, now: dt.datetime, *, first_page: int, limit: int) -> Iterator[Row]:
    """Leasable rows (id, kind, vendor, tokens) in lease order, fetched page by page.

    On Postgres every page is ``FOR UPDATE SKIP LOCKED``: rows another worker is leasing are
    skipped, and only the rows examined are locked (the first page is just as large as the number
    of tasks wanted), so concurrent workers find the rest of the queue.
    """
    seen: list[int] = []
    page = max(1, first_page)
    while len(seen) < limit:
        stmt = (
            select(_Q.c.id, _Q.c.kind, _Q.c.vendor, _Q.c.tokens)
            .where(_Q.c.status == "PENDING", or_(_Q.c.next_not_before.is_(None), _Q.c.next_not_before <= now))
            .order_by(_Q.c.priority, _Q.c.created_at, _Q.c.id)
            .limit(min(page, limit - len(seen)))
        )
        if seen:
            stmt = stmt.where(_Q.c.id.notin_(seen))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = conn.execute(stmt).all()
        if not rows:
            return
        yield from rows
        seen.extend(int(r[0]) for r in rows)
        page = max(page, 50)


def expire_leases(engine: Engine, now: dt.datetime | None = None) -> int:
    """LEASED tasks whose lease_expires_at has passed go back to PENDING (no attempt counted); returns how many."""
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.status == "LEASED", _Q.c.lease_expires_at < now)
            .values(
                status="PENDING",
                last_error=literal("lease expired; held by ") + func.coalesce(_Q.c.lease_owner, literal("?")),
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        n = int(res.rowcount or 0)
    if n:
        log.warning("expired leases returned to PENDING", extra={"tasks": n})
    return n


@dataclass(frozen=True)
class LeaseSettings:
    """How long a lease lasts and how often its holder renews it (configs/backfill.yml ``queue``), in seconds."""

    ttl_seconds: int
    heartbeat_seconds: float


def lease_settings(cfg: Mapping[str, Any] | None = None) -> LeaseSettings:
    """``queue.lease_ttl_seconds`` and ``queue.heartbeat_seconds``, validated: the heartbeat must be
    shorter than the TTL, else a live holder's lease would expire between two renewals."""
    queue = _section(cfg or _config(), "queue")
    ttl = int(queue["lease_ttl_seconds"])
    beat = float(queue.get("heartbeat_seconds", ttl / 4))
    if ttl <= 0 or beat <= 0:
        raise ValueError(f"configs/backfill.yml queue.lease_ttl_seconds ({ttl}) and heartbeat_seconds ({beat:g}) must be > 0")
    if beat >= ttl:
        raise ValueError(
            f"configs/backfill.yml queue.heartbeat_seconds ({beat:g}) must be below lease_ttl_seconds ({ttl}): "
            "a lease renewed less often than it lasts expires under a live holder"
        )
    return LeaseSettings(ttl, beat)


def renew_lease(engine: Engine, task_id: int, owner: str, ttl_seconds: float, *, now: dt.datetime | None = None) -> bool:
    """Extend `owner`'s lease on a task to now + `ttl_seconds` (the heartbeat of a live holder).

    One owner-checked UPDATE, atomic on every backend: it changes the row only while the task is
    LEASED by `owner`. Returns False when the lease was lost (expired and re-leased by another
    worker, returned to PENDING, or the task closed), so the caller knows it no longer holds it.
    """
    if not owner:
        raise ValueError("lease owner must be a non-empty string")
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be > 0, got {ttl_seconds}")
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.id == int(task_id), _Q.c.status == "LEASED", _Q.c.lease_owner == owner)
            .values(lease_expires_at=now + dt.timedelta(seconds=float(ttl_seconds)), updated_at=now)
        )
        return int(res.rowcount or 0) == 1


def release_lease(engine: Engine, task_id: int, owner: str, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Give a task `owner` still holds back to PENDING at once (no attempt counted), e.g. when its
    worker is interrupted; returns False when `owner` did not hold it."""
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        res = conn.execute(
            update(_Q)
            .where(_Q.c.id == int(task_id), _Q.c.status == "LEASED", _Q.c.lease_owner == owner)
            .values(status="PENDING", lease_owner=None, lease_expires_at=None, last_error=f"[{owner}] {reason}"[:4000], updated_at=now)
        )
        return int(res.rowcount or 0) == 1


def leased_tasks(engine: Engine) -> list[Task]:
    """Every LEASED task, soonest-expiring first (what `trademl status` and an idle `backfill run` report)."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_Q.c).where(_Q.c.status == "LEASED").order_by(_Q.c.lease_expires_at, _Q.c.id))
        return [Task.from_row(r._mapping) for r in rows]


def lease_record(task: Task) -> dict[str, Any]:
    """A LEASED task as a JSON-ready mapping: id, kind, dataset, symbol, start_date, end_date
    (closed-open, ISO dates), owner and expires_at (UTC ISO instant)."""
    return {
        "id": task.id,
        "kind": task.kind,
        "dataset": task.dataset,
        "symbol": task.symbol,
        "start_date": task.start_date.isoformat(),
        "end_date": task.end_date.isoformat(),
        "owner": task.lease_owner,
        "expires_at": None if task.lease_expires_at is None else task.lease_expires_at.astimezone(dt.timezone.utc).isoformat(),
    }


def describe_lease(lease: Mapping[str, Any], now: dt.datetime | None = None) -> str:
    """A `lease_record` in one line: ``#12 GAP equities_eod [2025-03-06, 2025-03-10) * held by
    cli:node:4242 until 2025-03-20T12:03:00Z (in 95 s)``."""
    head = f"#{lease['id']} {lease['kind']} {lease['dataset']} [{lease['start_date']}, {lease['end_date']}) {lease['symbol'] or '*'}"
    owner = lease["owner"] or "?"
    if lease["expires_at"] is None:
        return f"{head} held by {owner} (no expiry)"
    expires = dt.datetime.fromisoformat(lease["expires_at"])
    left = (expires - as_utc(now)).total_seconds()
    when = f"in {left:.0f} s" if left >= 0 else f"expired {-left:.0f} s ago; back to PENDING at the next lease"
    return f"{head} held by {owner} until {expires.strftime('%Y-%m-%dT%H:%M:%SZ')} ({when})"


class LeaseHeartbeat:
    """A daemon thread renewing `owner`'s leases every `every_seconds` while its tasks run.

    A worker holds a lease only as long as it proves it is alive, so the TTL can be short: when the
    process dies (SIGKILL, OOM, power loss) the renewals stop and its tasks return to PENDING one
    TTL later. A renewal that finds the lease gone (re-leased by another worker after an expiry)
    drops the task and logs it; a task the worker closed itself is dropped silently. Database
    errors are logged and retried at the next beat. Use as a context manager around the run.
    """

    def __init__(self, engine: Engine, owner: str, task_ids: Iterable[int], *, ttl_seconds: float, every_seconds: float) -> None:
        if every_seconds <= 0 or every_seconds >= ttl_seconds:
            raise ValueError(f"heartbeat every {every_seconds:g} s must be > 0 and below the lease TTL ({ttl_seconds:g} s)")
        self.engine, self.owner = engine, owner
        self.ttl_seconds, self.every_seconds = float(ttl_seconds), float(every_seconds)
        self._ids: set[int] = {int(i) for i in task_ids}
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-heartbeat-{owner}", daemon=True)
        self.renewals = 0

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def lost(self) -> set[int]:
        """Tasks whose lease another worker took over while this one ran them."""
        with self._lock:
            return set(self._lost)

    def forget(self, task_id: int) -> None:
        """Stop renewing a task (its worker closed it)."""
        with self._lock:
            self._ids.discard(int(task_id))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_seconds + 5)

    def beat(self) -> None:
        """Renew every tracked lease once."""
        with self._lock:
            ids = sorted(self._ids)
        for task_id in ids:
            if renew_lease(self.engine, task_id, self.owner, self.ttl_seconds):
                self.renewals += 1
                continue
            self.forget(task_id)
            task = get_task(self.engine, task_id)
            taken = task is not None and task.status == "LEASED" and task.lease_owner != self.owner
            expired = task is not None and task.status == "PENDING" and (task.last_error or "") == f"lease expired; held by {self.owner}"
            if taken or expired:
                with self._lock:
                    self._lost.add(task_id)
                log.warning(
                    "lease lost while the task ran",
                    extra={"task": task_id, "owner": self.owner, "status": task.status, "lease_owner": task.lease_owner},
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a busy or briefly unreachable db must not kill the heartbeat
                log.exception("lease heartbeat failed; retrying at the next beat", extra={"owner": self.owner})


def _locked_task(conn: Connection, task_id: int) -> Task:
    stmt = select(*_Q.c).where(_Q.c.id == int(task_id))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise ValueError(f"no backfill task with id {task_id}")
    return Task.from_row(row._mapping)


def complete_task(engine: Engine, task_id: int, owner: str, *, now: dt.datetime | None = None) -> Task:
    """Mark a task DONE (its data is stored). A close by another owner than the lease holder is
    accepted — the ledger, not the lease, proves the outcome — and logged."""
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        task = _locked_task(conn, task_id)
        if task.status == "DONE":
            return task
        if task.status == "LEASED" and task.lease_owner not in (None, owner):
            log.warning("task closed by a different owner", extra={"task": task.id, "owner": owner, "lease_owner": task.lease_owner})
        conn.execute(
            update(_Q)
            .where(_Q.c.id == task.id)
            .values(status="DONE", lease_owner=owner, lease_expires_at=None, next_not_before=None, updated_at=now)
        )
        return _tasks_by_id(conn, [task.id])[0]


def backoff_seconds(attempts: int, cfg: Mapping[str, Any] | None = None) -> float:
    """Delay before retrying a task that has failed `attempts` times before: min(base * 2**attempts, cap)."""
    b = _section(cfg or _config(), "backoff")
    base, cap = float(b["base_seconds"]), float(b["cap_seconds"])
    if attempts < 0:
        raise ValueError(f"attempts must be >= 0, got {attempts}")
    return min(base * (2.0 ** min(attempts, 60)), cap)


def fail_task(engine: Engine, task_id: int, owner: str, reason: str, now: dt.datetime | None = None) -> Task:
    """Record a failed attempt: attempts+1, next_not_before = now + min(base * 2**attempts, cap).

    The task returns to PENDING (leasable after next_not_before) while attempts < max_attempts,
    else it stays FAILED. A DONE task is left as is.
    """
    if not reason:
        raise ValueError("fail_task needs a reason")
    cfg = _config()
    max_attempts = int(_section(cfg, "backoff")["max_attempts"])
    now = as_utc(now)
    with control.write_transaction(engine) as conn:
        task = _locked_task(conn, task_id)
        if task.status == "DONE":
            log.warning("fail_task on a DONE task ignored", extra={"task": task.id, "reason": reason})
            return task
        attempts = task.attempts + 1
        status = "FAILED" if attempts >= max_attempts else "PENDING"
        conn.execute(
            update(_Q)
            .where(_Q.c.id == task.id)
            .values(
                status=status,
                attempts=attempts,
                next_not_before=now + dt.timedelta(seconds=backoff_seconds(task.attempts, cfg)),
                last_error=f"[{owner}] {reason}"[:4000],
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        out = _tasks_by_id(conn, [task.id])[0]
    log.warning("task failed", extra={"task": out.id, "attempts": out.attempts, "status": out.status, "reason": reason})
    return out


def purge_failed_tasks(engine: Engine, older_than_days: float, *, now: dt.datetime | None = None) -> int:
    """Delete FAILED (given-up) tasks last updated more than `older_than_days` days ago; returns how many."""
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be >= 0, got {older_than_days}")
    cutoff = as_utc(now) - dt.timedelta(days=float(older_than_days))
    with control.write_transaction(engine) as conn:
        res = conn.execute(delete(_Q).where(_Q.c.status == "FAILED", _Q.c.updated_at < cutoff))
        return int(res.rowcount or 0)


# ----------------------------------------------------------------------------------------------
# Forward ingest
# ----------------------------------------------------------------------------------------------


def enqueue_forward_tasks(
    engine: Engine, *, now: dt.datetime, datasets: Sequence[str], vendor: str | None = None
) -> int:
    """FORWARD tasks [s, next_session(s)) for the latest completed session(s) whose ledger is not GREEN.

    A session counts as completed ``forward.due_after_close_minutes`` after its close; the last
    ``forward.lookback_sessions`` of them are checked. Returns how many tasks were new.
    """
    cfg = _config()
    fwd = _section(cfg, "forward")
    now = as_utc(now)
    last = latest_completed_session(now, float(fwd.get("due_after_close_minutes", 0)))
    n = int(fwd.get("lookback_sessions", 1))
    if n < 1:
        raise ValueError("configs/backfill.yml forward.lookback_sessions must be >= 1")
    first = last if n == 1 else calendar.previous_session(last, n - 1).date()
    days = [d.date() for d in calendar.sessions(first, last)]
    ends = [d.date() for d in calendar.offset_sessions(pd.DatetimeIndex(days), 1)]
    vendor = vendor or settings().vendor
    tasks = []
    for name in dict.fromkeys(datasets):
        spec = table_spec(name)
        dataset = TABLE_DATASETS[spec.name]
        rows = control.read_partition_status(engine, table_name=spec.name, start=first, end=last)
        colors = qc.session_colors(rows)
        green = set(colors.loc[colors["color"] == "GREEN", "dt"])
        tasks.extend(
            {
                "dataset": dataset,
                "symbol": None,
                "start_date": d,
                "end_date": e,
                "kind": "FORWARD",
                "priority": KIND_PRIORITY["FORWARD"],
                "vendor": vendor,
                "tokens": task_tokens(dataset, 1, cfg),
            }
            for d, e in zip(days, ends)
            if d not in green
        )
    return control.enqueue_tasks(engine, tasks, now=now) if tasks else 0


# ----------------------------------------------------------------------------------------------
# Draining
# ----------------------------------------------------------------------------------------------


@dataclass
class BackfillReport:
    """What one backfill_run did."""

    owner: str
    leased: int = 0
    done: int = 0
    retrying: int = 0
    gave_up: int = 0
    unclosed: int = 0
    errors: int = 0
    tokens: dict[str, float] = field(default_factory=dict)
    stop_reason: str = ""
    seconds: float = 0.0
    pending_left: int = 0

    def __str__(self) -> str:
        spent = ", ".join(f"{v} {t:g}" for v, t in sorted(self.tokens.items())) or "none"
        return (
            f"backfill by {self.owner}: {self.leased} task(s) leased, {self.done} DONE, {self.retrying} retrying, "
            f"{self.gave_up} FAILED, {self.unclosed} left LEASED; tokens spent: {spent}; "
            f"{self.pending_left} PENDING left; stopped: {self.stop_reason} ({self.seconds:.1f}s)"
        )


def backfill_run(
    budget: Mapping[str, int] | None,
    *,
    engine: Engine,
    execute: Callable[[list[Task]], Any],
    owner: str,
    max_tasks: int | None = None,
    ttl_seconds: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> BackfillReport:
    """Drain the queue: expire stale leases, lease (in priority order, within vendor caps and the run
    `budget` of tokens per vendor), call ``execute(tasks)`` — which runs the tasks and closes them via
    complete_task/fail_task — and repeat until nothing is leasable, the budget is spent or
    `max_tasks` tasks were leased. Progress lines go to `progress` (default: stdout)."""
    if budget is not None:
        bad = {k: v for k, v in budget.items() if not isinstance(v, (int, float)) or v < 0}
        if bad:
            raise ValueError(f"budget values must be non-negative token counts, got {bad}")
    if max_tasks is not None and max_tasks < 0:
        raise ValueError(f"max_tasks must be >= 0, got {max_tasks}")
    say = progress or (lambda msg: print(msg, file=sys.stdout, flush=True))
    cfg = _config()
    batch = int(_section(cfg, "queue").get("run_batch_size", 1))
    leases = lease_settings(cfg)
    ttl = leases.ttl_seconds if ttl_seconds is None else int(ttl_seconds)
    beat = min(leases.heartbeat_seconds, ttl / 2)
    remaining = None if budget is None else {k: float(v) for k, v in budget.items()}
    report = BackfillReport(owner=owner)
    t0 = time.perf_counter()
    total = control.queue_counts(engine)["PENDING"]
    while True:
        if max_tasks is not None and report.leased >= max_tasks:
            report.stop_reason = f"max_tasks={max_tasks} reached"
            break
        expire_leases(engine)
        n = batch if max_tasks is None else max(1, min(batch, max_tasks - report.leased))
        tasks = lease_tasks(engine, owner, n=n, ttl_seconds=ttl, budgets=remaining)
        if not tasks:
            report.stop_reason = _why_idle(engine, remaining, owner)
            break
        for t in tasks:
            v = t.vendor or settings().vendor
            report.tokens[v] = report.tokens.get(v, 0.0) + t.tokens
            if remaining is not None:
                key = v if v in remaining else _budget_vendor(v)
                if key in remaining:
                    remaining[key] -= t.tokens
        report.leased += len(tasks)
        started = time.perf_counter()
        try:
            with LeaseHeartbeat(engine, owner, [t.id for t in tasks], ttl_seconds=ttl, every_seconds=beat):
                execute(tasks)
        except (KeyboardInterrupt, SystemExit):
            # Interrupted (Ctrl-C, SIGTERM): what this worker still holds goes back to the queue now,
            # not one TTL later.
            for t in tasks:
                release_lease(engine, t.id, owner, "worker interrupted before closing the task")
            raise
        except Exception as exc:  # noqa: BLE001 - one failing batch must not stop the drain
            report.errors += 1
            log.exception("backfill execute failed", extra={"tasks": ",".join(str(t.id) for t in tasks)})
            for t in tasks:
                current = get_task(engine, t.id)
                if current is not None and current.status == "LEASED":
                    fail_task(engine, t.id, owner, f"executor raised {type(exc).__name__}: {exc}")
        for t in tasks:
            current = get_task(engine, t.id)
            verdict = current.status if current is not None else "GONE"
            if verdict == "DONE":
                report.done += 1
            elif verdict == "PENDING":
                report.retrying += 1
            elif verdict == "FAILED":
                report.gave_up += 1
            elif verdict == "LEASED":
                report.unclosed += 1
            say(
                f"[{report.leased}/{max(total, report.leased)}] {t.describe()} -> {verdict} "
                f"({time.perf_counter() - started:.1f}s)"
            )
    report.seconds = time.perf_counter() - t0
    report.pending_left = control.queue_counts(engine)["PENDING"]
    say(str(report))
    return report


def _why_idle(engine: Engine, remaining: Mapping[str, float] | None, owner: str) -> str:
    """Why nothing more could be leased: budgets, tasks LEASED by other workers (with owner and
    expiry: a dead worker's task comes back when its lease expires), backoff waits, or an empty queue.
    Tasks `owner` itself left LEASED are counted by the report (``unclosed``), not listed here."""
    now = control.utc_now()
    leased = [t for t in leased_tasks(engine) if t.lease_owner != owner]
    with engine.connect() as conn:
        ready = conn.execute(
            select(func.count()).where(
                _Q.c.status == "PENDING", or_(_Q.c.next_not_before.is_(None), _Q.c.next_not_before <= now)
            )
        ).scalar()
        waiting = conn.execute(
            select(func.count()).where(and_(_Q.c.status == "PENDING", _Q.c.next_not_before > now))
        ).scalar()
    held = ""
    if leased:
        shown = "; ".join(describe_lease(lease_record(t), now) for t in leased[:_LEASES_SHOWN])
        more = f"; and {len(leased) - _LEASES_SHOWN} more" if len(leased) > _LEASES_SHOWN else ""
        held = f"{len(leased)} task(s) LEASED by other workers: {shown}{more}"
    if ready:
        if remaining is not None:
            left = ", ".join(f"{v} {t:g}" for v, t in sorted(remaining.items()))
            reason = f"budget reached ({ready} ready task(s) left; run budget left: {left})"
        else:
            reason = f"vendor budget reached ({ready} ready task(s) left: token bucket or daily-cap slice)"
        return f"{reason}; {held}" if held else reason
    parts = [p for p in (held, f"{waiting} task(s) waiting for backoff" if waiting else "") if p]
    if leased:
        return "nothing leasable: " + "; ".join(parts)
    if waiting:
        return f"queue drained ({parts[0]})"
    return "queue drained"


_LEASES_SHOWN = 5  # leases listed by name in an idle reason; the rest are counted

"""Queue tasks and the configuration every part of the queue reads.

A `Task` is one backfill_queue row (window ``[start_date, end_date)`` closed-open, symbol NULL for
the whole session); `task_symbols` says which symbols its run fetches and `task_tokens` what it
costs. `_config` / `_section` read configs/backfill.yml (through the QC config snapshot) for the
audit, budgets, leases, forward enqueue and drain modules, which all sit on this one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from trademl.config import config_snapshot
from trademl.data import control, qc
from trademl.schemas import table_spec

_Q = control.backfill_queue


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


def _config() -> Mapping[str, Any]:
    return config_snapshot("backfill")


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

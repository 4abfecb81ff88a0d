"""The backfill queue tables: enqueueing tasks and reading the queue (leasing lives in trademl.data.backfill).

One concern: validating task records (dataclasses, mappings or a DataFrame), inserting them
idempotently (duplicates of dataset, symbol, window and kind ignored) and reading the queue in
lease order with per-status counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from trademl.data.control.engine import _as_date, as_utc, dialect_insert, write_transaction
from trademl.data.control.tables import KIND_PRIORITY, TASK_KINDS, TASK_STATUSES, backfill_queue

def _task_record(task: Any, now: dt.datetime) -> dict[str, Any]:
    if dataclasses.is_dataclass(task) and not isinstance(task, type):
        raw = dataclasses.asdict(task)
    elif isinstance(task, Mapping):
        raw = dict(task)
    else:
        raise ValueError(f"a task must be a dataclass or a mapping, got {type(task).__name__}")
    dataset = raw.get("dataset")
    if not dataset or not isinstance(dataset, str):
        raise ValueError(f"task has no dataset: {raw!r}")
    kind = str(raw.get("kind", ""))
    kind = getattr(raw.get("kind"), "value", kind)
    if kind not in TASK_KINDS:
        raise ValueError(f"task kind must be one of {TASK_KINDS}, got {raw.get('kind')!r}")
    start, end = _as_date(raw.get("start_date"), "start_date"), _as_date(raw.get("end_date"), "end_date")
    if end <= start:
        raise ValueError(f"task window [{start}, {end}) is empty: end_date must be after start_date (closed-open)")
    priority = raw.get("priority")
    priority = KIND_PRIORITY[kind] if priority is None else int(priority)
    if priority < 0:
        raise ValueError(f"priority must be >= 0, got {priority}")
    tokens = raw.get("tokens")
    tokens = 1 if tokens is None else int(tokens)
    if tokens < 0:
        raise ValueError(f"tokens must be >= 0, got {tokens}")
    symbol = raw.get("symbol")
    return {
        "dataset": dataset,
        "symbol": None if symbol is None or (isinstance(symbol, float) and np.isnan(symbol)) else str(symbol),
        "start_date": start,
        "end_date": end,
        "kind": kind,
        "priority": priority,
        "status": "PENDING",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        "vendor": raw.get("vendor"),
        "tokens": tokens,
        "next_not_before": raw.get("next_not_before"),
    }


def enqueue_tasks(
    engine: Engine,
    tasks: Iterable[Any] | pd.DataFrame,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Insert PENDING tasks (dataclasses, mappings or a DataFrame); returns how many were new.

    Duplicates of (dataset, symbol, start_date, end_date, kind) — NULL symbols included — are
    ignored, whatever the existing task's status. Priority defaults to the kind's lane (SSOT 2.4).
    """
    created = as_utc(now)
    items = tasks.to_dict("records") if isinstance(tasks, pd.DataFrame) else list(tasks)
    records = [_task_record(t, created) for t in items]
    if not records:
        return 0
    # One statement per unique key: duplicates inside the batch would otherwise hit the conflict twice.
    unique: dict[tuple, dict[str, Any]] = {}
    for r in records:
        unique.setdefault((r["dataset"], r["symbol"] or "", r["start_date"], r["end_date"], r["kind"]), r)
    q = backfill_queue
    with write_transaction(engine) as conn:
        stmt = dialect_insert(conn, q).on_conflict_do_nothing().returning(q.c.id)
        result = conn.execute(stmt, list(unique.values()))
        return len(result.fetchall())


def read_queue(
    engine: Engine,
    status: str | Sequence[str] | None = None,
    dataset: str | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Queue rows (all SSOT 2.8 columns + vendor, tokens) in lease order (priority, created_at, id)."""
    q = backfill_queue
    stmt = select(*q.c)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        unknown = set(wanted) - set(TASK_STATUSES)
        if unknown:
            raise ValueError(f"unknown task status {sorted(unknown)}; known: {TASK_STATUSES}")
        stmt = stmt.where(q.c.status.in_(wanted))
    if dataset is not None:
        stmt = stmt.where(q.c.dataset == dataset)
    if kind is not None:
        stmt = stmt.where(q.c.kind == kind)
    stmt = stmt.order_by(q.c.priority, q.c.created_at, q.c.id)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in ("lease_expires_at", "next_not_before", "created_at", "updated_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def queue_counts(engine: Engine) -> dict[str, int]:
    """Tasks per status: ``{"PENDING": n, "LEASED": n, "DONE": n, "FAILED": n}``."""
    q = backfill_queue
    out = dict.fromkeys(TASK_STATUSES, 0)
    with engine.connect() as conn:
        for status, n in conn.execute(select(q.c.status, func.count()).group_by(q.c.status)):
            out[status] = int(n)
    return out


def queued_mask(engine: Engine, tasks: pd.DataFrame) -> pd.Series:
    """Which of `tasks` (columns dataset, symbol, start_date, end_date, kind) the queue already holds,
    whatever their status (`enqueue_tasks` would skip them): a boolean Series on `tasks.index`."""
    if len(tasks) == 0:
        return pd.Series([], dtype=bool, index=tasks.index)
    keys = ["dataset", "symbol", "start_date", "end_date", "kind"]
    existing = pd.concat(
        [read_queue(engine, dataset=d)[keys] for d in tasks["dataset"].unique()], ignore_index=True
    )

    def _key(frame: pd.DataFrame) -> pd.Series:
        return (
            frame["dataset"].astype(str) + "|" + frame["symbol"].astype(object).where(frame["symbol"].notna(), "").astype(str)
            + "|" + pd.to_datetime(frame["start_date"]).dt.strftime("%Y-%m-%d")
            + "|" + pd.to_datetime(frame["end_date"]).dt.strftime("%Y-%m-%d") + "|" + frame["kind"].astype(str)
        )

    known = set(_key(existing)) if len(existing) else set()
    return _key(tasks).isin(known)


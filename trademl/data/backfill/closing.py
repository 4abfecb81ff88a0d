"""Closing tasks: DONE, or a failed attempt with exponential backoff (SSOT 2.4 retry policy).

`fail_task` counts the attempt and sets ``next_not_before = now + min(base * 2**attempts, cap)``;
while attempts remain the task goes back to PENDING, after ``backoff.max_attempts`` it stays
FAILED ("gave up"). `complete_task` accepts a close by another owner than the lease holder (the
ledger, not the lease, proves the outcome). `purge_failed_tasks` deletes old given-up tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from trademl.data import control
from trademl.data.backfill.tasks import _Q, Task, _config, _section, _tasks_by_id
from trademl.data.control import as_utc

log = logging.getLogger("trademl.data.backfill")


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

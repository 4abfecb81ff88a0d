"""The drain loop: lease -> execute -> tally, until nothing is leasable, the budget is spent or max_tasks.

`backfill_run` expires stale leases, leases a batch within the run budget, runs the caller's
executor (which closes the tasks via complete_task / fail_task) under a `LeaseHeartbeat`, and
reports each task's outcome in a `BackfillReport`. When it stops because other workers hold the
remaining tasks, `_why_idle` names them with their owner and lease expiry.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from trademl.config import settings
from trademl.data import control
from trademl.data.backfill.budgets import _budget_vendor
from trademl.data.backfill.closing import fail_task
from trademl.data.backfill.leases import (
    LeaseHeartbeat,
    describe_lease,
    expire_leases,
    lease_record,
    lease_settings,
    lease_tasks,
    leased_tasks,
    release_lease,
)
from trademl.data.backfill.tasks import _Q, Task, _config, _section, get_task

log = logging.getLogger("trademl.data.backfill")


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
    _check_run_args(budget, max_tasks)
    say = progress or _print
    batch, ttl, beat = _run_settings(ttl_seconds)
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
        _count_leased(report, remaining, tasks)
        started = time.perf_counter()
        _execute_batch(engine, execute, tasks, owner, report, ttl_seconds=ttl, beat_seconds=beat)
        _tally(engine, tasks, report, say, total=total, started=started)
    report.seconds = time.perf_counter() - t0
    report.pending_left = control.queue_counts(engine)["PENDING"]
    say(str(report))
    return report


def _print(msg: str) -> None:
    print(msg, file=sys.stdout, flush=True)


def _check_run_args(budget: Mapping[str, int] | None, max_tasks: int | None) -> None:
    if budget is not None:
        bad = {k: v for k, v in budget.items() if not isinstance(v, (int, float)) or v < 0}
        if bad:
            raise ValueError(f"budget values must be non-negative token counts, got {bad}")
    if max_tasks is not None and max_tasks < 0:
        raise ValueError(f"max_tasks must be >= 0, got {max_tasks}")


def _run_settings(ttl_seconds: int | None) -> tuple[int, int, float]:
    """(tasks leased per batch, lease TTL, heartbeat period): configs/backfill.yml ``queue``; the
    heartbeat beats at least twice per TTL."""
    cfg = _config()
    batch = int(_section(cfg, "queue").get("run_batch_size", 1))
    leases = lease_settings(cfg)
    ttl = leases.ttl_seconds if ttl_seconds is None else int(ttl_seconds)
    return batch, ttl, min(leases.heartbeat_seconds, ttl / 2)


def _count_leased(report: BackfillReport, remaining: dict[str, float] | None, tasks: list[Task]) -> None:
    """Add a leased batch to the report and charge its tokens to what is left of the run budget."""
    for t in tasks:
        v = t.vendor or settings().vendor
        report.tokens[v] = report.tokens.get(v, 0.0) + t.tokens
        if remaining is not None:
            key = v if v in remaining else _budget_vendor(v)
            if key in remaining:
                remaining[key] -= t.tokens
    report.leased += len(tasks)


def _execute_batch(
    engine: Engine,
    execute: Callable[[list[Task]], Any],
    tasks: list[Task],
    owner: str,
    report: BackfillReport,
    *,
    ttl_seconds: int,
    beat_seconds: float,
) -> None:
    """Run ``execute(tasks)`` under a lease heartbeat. An interrupt gives the tasks back at once and
    re-raises; any other exception is counted and fails the tasks the executor left LEASED."""
    try:
        with LeaseHeartbeat(engine, owner, [t.id for t in tasks], ttl_seconds=ttl_seconds, every_seconds=beat_seconds):
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


def _tally(
    engine: Engine, tasks: list[Task], report: BackfillReport, say: Callable[[str], None], *, total: int, started: float
) -> None:
    """Count each task of a batch by the status its executor left it in, with one progress line each."""
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

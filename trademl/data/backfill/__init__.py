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

This package is a facade over one module per concern: `tasks` (the Task row, its symbols and
tokens, config readers), `audit` (audit_scan) with `gaps` (plan_gap_tasks), `budgets` (token
buckets, daily-cap slices), `leases` (lease, renew, release, expire, the heartbeat), `closing`
(complete, fail with backoff, purge), `forward` (stage window, FORWARD tasks) and `drain`
(backfill_run).
"""

from trademl.data import control, qc  # noqa: F401 - `backfill.qc` / `backfill.control` stay reachable
from trademl.data.backfill.audit import AuditReport, TableAudit, audit_scan, audit_stored_ranges, describe_planned, stored_range
from trademl.data.backfill.budgets import VendorBudget, budget_usage
from trademl.data.backfill.closing import backoff_seconds, complete_task, fail_task, purge_failed_tasks
from trademl.data.backfill.drain import BackfillReport, backfill_run
from trademl.data.backfill.forward import enqueue_forward_tasks, latest_completed_session, stage_window
from trademl.data.backfill.gaps import plan_gap_tasks
from trademl.data.backfill.leases import (
    LeaseHeartbeat,
    LeaseSettings,
    describe_lease,
    expire_leases,
    lease_record,
    lease_settings,
    lease_tasks,
    leased_tasks,
    release_lease,
    renew_lease,
)
from trademl.data.backfill.settings import PlannerSettings, planner_settings
from trademl.data.backfill.tasks import Task, get_task, task_symbols, task_tokens

__all__ = [
    "AuditReport",
    "BackfillReport",
    "LeaseHeartbeat",
    "LeaseSettings",
    "PlannerSettings",
    "TableAudit",
    "Task",
    "VendorBudget",
    "audit_scan",
    "audit_stored_ranges",
    "describe_planned",
    "backfill_run",
    "backoff_seconds",
    "budget_usage",
    "complete_task",
    "describe_lease",
    "enqueue_forward_tasks",
    "expire_leases",
    "fail_task",
    "get_task",
    "latest_completed_session",
    "lease_record",
    "lease_settings",
    "lease_tasks",
    "leased_tasks",
    "plan_gap_tasks",
    "planner_settings",
    "purge_failed_tasks",
    "release_lease",
    "renew_lease",
    "stage_window",
    "stored_range",
    "task_symbols",
    "task_tokens",
]

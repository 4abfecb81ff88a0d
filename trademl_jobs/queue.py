"""Glue between backfill_queue tasks and Dagster runs: a task becomes one range run, a run closes its task."""

from __future__ import annotations

import dagster as dg
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar

from trademl.data import backfill, control, qc
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import IngestConfig, asset_key_for
from trademl_jobs.jobs import QcProbeConfig

TASK_TAG = "trademl/task_id"
KIND_TAG = "trademl/task_kind"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
INGEST_JOB = "ingest_job"
PROBE_JOB = "qc_probe_job"


def task_range(task: backfill.Task) -> tuple[str, str]:
    """The closed session range [first, last] of a task's closed-open window [start_date, end_date)."""
    sessions = calendar.sessions(task.start_date, task.end_date)
    sessions = sessions[sessions < pd.Timestamp(task.end_date)]
    if len(sessions) == 0:
        raise ValueError(f"task {task.id} window [{task.start_date}, {task.end_date}) holds no session")
    return sessions[0].strftime("%Y-%m-%d"), sessions[-1].strftime("%Y-%m-%d")


def lease_run_key(task: backfill.Task) -> str:
    """Unique per lease, so a task re-leased after its lease expired launches a fresh run."""
    stamp = task.lease_expires_at.isoformat() if task.lease_expires_at is not None else "unleased"
    return f"task-{task.id}-attempt-{task.attempts}-lease-{stamp}"


def ingest_run_config(keys: list[dg.AssetKey], symbols: list[str] | None) -> dg.RunConfig:
    """An ingest run's config: each asset's op narrowed to `symbols` (no op config when None or empty)."""
    if not symbols:
        return dg.RunConfig()
    return dg.RunConfig(ops={key.to_python_identifier(): IngestConfig(symbols=list(symbols), series=[]) for key in keys})


def probe_run_config(task: backfill.Task) -> dg.RunConfig:
    """A QC_PROBE task's run config: the probe op over the task's closed session range (one symbol or all)."""
    first, last = task_range(task)
    symbols = [task.symbol] if task.symbol and task.symbol != "*" else []
    return dg.RunConfig(ops={"qc_probe_op": QcProbeConfig(dataset=task.dataset, start=first, end=last, symbols=symbols)})


def run_request_for_task(task: backfill.Task, engine: Engine) -> dg.RunRequest:
    """One single-run range materialization of the task's table (its check runs with it), narrowed
    to `backfill.task_symbols` (a symbol-less GAP task re-fetches only the symbols still RED); a
    QC_PROBE task is one run of the probe job over the task's sessions instead."""
    first, last = task_range(task)
    if task.kind == "QC_PROBE":
        return dg.RunRequest(
            run_key=lease_run_key(task),
            job_name=PROBE_JOB,
            run_config=probe_run_config(task),
            tags={TASK_TAG: str(task.id), KIND_TAG: task.kind},
        )
    key = asset_key_for(table_spec(task.dataset).name)
    return dg.RunRequest(
        run_key=lease_run_key(task),
        job_name=INGEST_JOB,
        asset_selection=[key],
        run_config=ingest_run_config([key], backfill.task_symbols(engine, task)),
        tags={RANGE_START: first, RANGE_END: last, TASK_TAG: str(task.id), KIND_TAG: task.kind},
    )


def range_colours(engine: Engine, dataset: str, first: str, last: str, symbol: str | None = None) -> dict[str, int]:
    """GREEN/AMBER/RED session counts of a dataset's table over [first, last] from the ledger."""
    table = table_spec(dataset).name
    rows = control.read_partition_status(engine, table_name=table, start=first, end=last, symbols=[symbol] if symbol else None)
    counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
    sessions = [d.date() for d in calendar.sessions(first, last)]
    for summary in qc.summaries_by_session(rows, sessions).values():
        counts[summary.color] += 1
    return counts


def close_task(engine: Engine, task_id: int, owner: str | None, run_ok: bool, run_id: str) -> str:
    """Mark a task DONE when its sessions are no longer RED (a QC_PROBE task: when its run
    succeeded), else FAILED with backoff; returns the verdict."""
    task = backfill.get_task(engine, task_id)
    if task is None:
        return "UNKNOWN"
    owner = owner or task.lease_owner
    if task.kind == "QC_PROBE":  # a probe is done when it ran; its findings are AMBER rows, not RED
        if run_ok:
            backfill.complete_task(engine, task_id, owner)
            return "DONE"
        backfill.fail_task(engine, task_id, owner, f"probe run {run_id} failed")
        return "FAILED"
    first, last = task_range(task)
    symbol = task.symbol if task.symbol and task.symbol != "*" else None
    counts = range_colours(engine, task.dataset, first, last, symbol)
    if counts["RED"] == 0:
        backfill.complete_task(engine, task_id, owner)
        return "DONE"
    reason = f"run {run_id} {'succeeded' if run_ok else 'failed'} but {counts['RED']} session(s) still RED"
    backfill.fail_task(engine, task_id, owner, reason)
    return "FAILED"

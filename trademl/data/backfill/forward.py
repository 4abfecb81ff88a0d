"""Forward ingest: which sessions are complete, the stage window, and FORWARD tasks for them.

`latest_completed_session` and `stage_window` place "now" on the XNYS calendar (the audit's
default window is the stage window); `enqueue_forward_tasks` enqueues one FORWARD task per recent
completed session whose ledger is not GREEN, so the daily ingest goes through the same queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.config import settings
from trademl.data import control, qc
from trademl.data.backfill.tasks import _config, _section, task_tokens
from trademl.data.control import KIND_PRIORITY, as_utc
from trademl.schemas import TABLE_DATASETS, table_spec


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

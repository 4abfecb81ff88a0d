"""Pipeline runs: one row per pipeline execution with its config snapshot, final status, metrics and artifact.

One concern: recording a run (`start_pipeline_run`), closing it (`finish_pipeline_run`) and
listing runs (`read_pipeline_runs`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from trademl.data.control.engine import as_utc, write_transaction
from trademl.data.control.tables import RUN_STATUSES, pipeline_runs

def _json_ready(value: Any, name: str) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not JSON-serialisable: {exc}") from exc


def start_pipeline_run(
    engine: Engine, name: str, params: Mapping[str, Any] | None = None, *, now: dt.datetime | None = None
) -> str:
    """Record a RUNNING pipeline execution with its config snapshot; returns the run id (UUID hex)."""
    if not name:
        raise ValueError("pipeline name must be a non-empty string")
    run_id = uuid.uuid4().hex
    with write_transaction(engine) as conn:
        conn.execute(
            pipeline_runs.insert().values(
                id=run_id,
                pipeline_name=name,
                params_json=_json_ready(dict(params or {}), "params"),
                status="RUNNING",
                started_at=as_utc(now),
            )
        )
    return run_id


def finish_pipeline_run(
    engine: Engine,
    run_id: str,
    status: str,
    metrics: Mapping[str, Any] | None = None,
    artifact_uri: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Close a run as SUCCEEDED, FAILED or CANCELLED with optional metrics and artifact link."""
    if status not in RUN_STATUSES or status == "RUNNING":
        raise ValueError(f"final status must be one of SUCCEEDED, FAILED, CANCELLED; got {status!r}")
    pr = pipeline_runs
    with write_transaction(engine) as conn:
        res = conn.execute(
            update(pr)
            .where(pr.c.id == uuid.UUID(str(run_id)).hex)
            .values(
                status=status,
                finished_at=as_utc(now),
                metrics_json=None if metrics is None else _json_ready(dict(metrics), "metrics"),
                artifact_uri=artifact_uri,
            )
        )
        if res.rowcount != 1:
            raise ValueError(f"no pipeline run with id {run_id!r}")


def read_pipeline_runs(engine: Engine, name: str | None = None) -> pd.DataFrame:
    """Pipeline runs, newest first, optionally for one pipeline name."""
    pr = pipeline_runs
    stmt = select(*pr.c).order_by(pr.c.started_at.desc())
    if name is not None:
        stmt = stmt.where(pr.c.pipeline_name == name)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame

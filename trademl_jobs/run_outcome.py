"""What a finished run says about itself, read back from the instance's event log for the CLI."""

from __future__ import annotations

from typing import Any

import dagster as dg


# Step failures that only restate failed checks: the CLI explains the RED sessions instead.
_CHECK_FAILURES = frozenset({"DagsterAssetCheckFailedError"})


def step_failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The first line of each failed step's error (the user-facing cause, not the traceback).

    Dagster wraps a user exception in DagsterExecutionStepExecutionError; the cause is reported,
    as "ExceptionClass: message" without its module path.
    """
    out = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data if record.dagster_event else None
        error = data.error if data is not None else None
        while error is not None and error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
            error = error.cause
        if error is None or not error.message or error.cls_name in _CHECK_FAILURES:
            continue
        first = error.message.strip().splitlines()[0]
        head, sep, rest = first.partition(": ")
        if sep and head.rsplit(".", 1)[-1] == error.cls_name:
            first = f"{error.cls_name}: {rest}"
        out.append(first)
    return out


def materialization_metadata(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """Metadata of every asset materialization of the run, values unwrapped (json -> dict, text -> str)."""
    out = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.dagster_event.event_specific_data.materialization
        out.append({k: getattr(v, "value", v) for k, v in materialization.metadata.items()})
    return out

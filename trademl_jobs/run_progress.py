"""Live progress of one run: a line per step start and finish, read from the instance's event log.

`StepProgress` polls `instance.get_records_for_run` from a background thread while the run
executes in the calling thread (the in-process executor writes each event to the instance as it
happens), so a long range run shows where it is. Each line carries the seconds elapsed since the
watch began, the step's own duration (event timestamps, UTC epoch seconds) and "k/n steps" (n: the
steps of the run's execution plan, assets and checks alike). On exit it reads the last events, so
no line is lost, and `not_run()` names the planned steps that never started (stopped by a failed
step or a RED blocking check upstream).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

PROGRESS_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}
COLOURS = ("GREEN", "AMBER", "RED")


def check_colour(evaluation: dg.AssetCheckEvaluation) -> str:
    """GREEN/AMBER/RED of one check evaluation: its `status` metadata when it carries one (the QC
    checks do), else passed -> GREEN, failed WARN -> AMBER, failed ERROR -> RED."""
    status = evaluation.metadata.get("status") if evaluation.metadata else None
    value = getattr(status, "value", status)
    if isinstance(value, str) and value.upper() in COLOURS:
        return value.upper()
    if evaluation.passed:
        return "GREEN"
    return "RED" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "AMBER"


@dataclass
class _Step:
    index: int  # 1-based order of start
    started: float  # epoch seconds of STEP_START
    materializations: int = 0
    colours: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLOURS, 0))


class StepProgress:
    """Prints one line per step start and finish of run `run_id` through `emit` while it executes.

    Use as a context manager around the execution; `poll()` reads what is new (the thread calls it
    every `poll_seconds`; it is also safe to call directly, e.g. on a finished run).
    """

    def __init__(self, instance: dg.DagsterInstance, run_id: str, emit: Callable[[str], None], poll_seconds: float = 0.25):
        self.instance, self.run_id, self.emit, self.poll_seconds = instance, run_id, emit, poll_seconds
        self.began = time.time()
        self.planned: list[str] | None = None
        self.steps: dict[str, _Step] = {}
        self.finished: dict[str, str] = {}  # step key -> succeeded | failed | skipped
        self._cursor: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"step-progress-{run_id[:8]}", daemon=True)

    def __enter__(self) -> StepProgress:
        self.began = time.time()
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()

    @property
    def total(self) -> int | None:
        """Steps in the run's execution plan (None until the run is stored)."""
        return len(self.planned) if self.planned is not None else None

    def not_run(self) -> list[str]:
        """Planned steps that never started (their upstream failed, or a blocking check stopped them)."""
        return [s for s in (self.planned or []) if s not in self.steps]

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # never let the progress printer take the run down; the final poll retries
                continue

    def _load_plan(self) -> None:
        run = self.instance.get_run_by_id(self.run_id)
        if run is None or run.execution_plan_snapshot_id is None:
            return
        snapshot = self.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        planned = [s.key for s in snapshot.steps]
        if run.step_keys_to_execute:
            planned = [s for s in planned if s in set(run.step_keys_to_execute)]
        self.planned = planned

    def poll(self) -> list[str]:
        """Read the run's new progress events and emit (and return) their lines."""
        with self._lock:
            if self.planned is None:
                self._load_plan()
                if self.planned is None:
                    return []
            lines: list[str] = []
            while True:
                conn = self.instance.get_records_for_run(self.run_id, cursor=self._cursor, of_type=PROGRESS_EVENTS, limit=1000)
                self._cursor = conn.cursor
                for record in conn.records:
                    line = self._line(record.event_log_entry)
                    if line is not None:
                        lines.append(line)
                if not conn.has_more:
                    break
            for line in lines:
                self.emit(line)
            return lines

    def _line(self, entry) -> str | None:
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            return None
        key, at, kind = entry.step_key, entry.timestamp, event.event_type
        elapsed = f"+{max(0.0, at - self.began):.1f}s"
        if kind == dg.DagsterEventType.STEP_START:
            step = self.steps.setdefault(key, _Step(index=len(self.steps) + 1, started=at))
            return f"  {elapsed:>8}  step {step.index}/{self.total} started: {key}"
        step = self.steps.get(key)
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION and step is not None:
            step.materializations += 1
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION and step is not None:
            evaluation = event.event_specific_data
            if evaluation.partition is not None:
                step.colours[check_colour(evaluation)] += 1
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED):
            verdict = {"STEP_SUCCESS": "succeeded", "STEP_FAILURE": "failed", "STEP_SKIPPED": "skipped"}[kind.value]
            self.finished[key] = verdict
            took = f" in {at - step.started:.1f}s" if step is not None else ""
            return f"  {elapsed:>8}  {verdict}{took}: {key}{self._what(step)} ({len(self.finished)}/{self.total} steps done)"
        return None

    @staticmethod
    def _what(step: _Step | None) -> str:
        if step is None:
            return ""
        parts = []
        if step.materializations:
            parts.append(f"{step.materializations} partition{'s' if step.materializations != 1 else ''} materialized")
        if any(step.colours.values()):
            parts.append(" ".join(f"{c} {n}" for c, n in step.colours.items()))
        return f", {'; '.join(parts)}" if parts else ""

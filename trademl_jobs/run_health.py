"""Run health: a dead run never holds a pool slot, and a run waiting for a slot says so and stops on a signal.

- `process_tags()` tags every run the CLI executes with the process that runs it (host, pid, start
  identity), so `reap_dead_runs` can prove the process is gone; daemon-launched runs are judged by
  the pid of their RUN_START event. Dead runs are marked FAILED with the reason and their slots and
  pending claims are freed. The CLI reaps before each run it launches; `run_health_sensor` does it
  for the daemon (Dagster's own run monitoring does not check the default launcher's workers).
- `watch_run` wraps an in-process execution: while a step waits for a slot it logs the pool and the
  holder runs (once, then every `wait.report_every_seconds`) and reaps dead holders; on SIGINT or
  SIGTERM it cancels the run, frees its claims and exits at once (Dagster's in-process executor
  would only notice the signal when the slot arrives).
Settings: configs/runs.yml.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.runs import InMemoryRunStorage, SqliteRunStorage

from trademl.data.liveness import Liveness, ProcessStamp, pid_alive_since
from trademl_jobs.run_settings import run_settings

log = logging.getLogger("trademl.runs")

HOST_TAG = "trademl/host"
PID_TAG = "trademl/pid"
PROCESS_START_TAG = "trademl/process_start"

_UNFINISHED = [
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.CANCELING,
]
_RUN_BATCH = 1000


def process_tags() -> dict[str, str]:
    """Run tags naming the calling process, so a reaper can tell when it is gone."""
    me = ProcessStamp.current()
    return {HOST_TAG: me.host, PID_TAG: str(me.pid), PROCESS_START_TAG: me.start}


# ---------------------------------------------------------------------------------------------- reaper
@dataclass
class Claim:
    """One step of a run in a pool's queue: holding a slot (`claimed`) or waiting for one."""

    pool: str
    run_id: str
    step_key: str
    claimed: bool


@dataclass
class ReapReport:
    """What one reaper pass did: runs marked FAILED, and runs whose leftover slots were freed."""

    failed: dict[str, str] = field(default_factory=dict)  # run id -> reason
    freed: dict[str, list[str]] = field(default_factory=dict)  # run id -> pools of the freed claims

    def __str__(self) -> str:
        if not self.failed and not self.freed:
            return "no dead run holds a slot"
        parts = [f"run {r} FAILED: {why}" for r, why in self.failed.items()]
        parts += [f"freed {len(pools)} claim(s) of run {r} in {', '.join(sorted(set(pools)))}" for r, pools in self.freed.items()]
        return "; ".join(parts)


def pool_claims(instance: dg.DagsterInstance) -> list[Claim]:
    """Every claimed slot and pending claim of every pool, from the instance's event-log storage."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    infos = storage.get_concurrency_infos(sorted(storage.get_concurrency_keys()))
    claims = []
    for pool, info in infos.items():
        held = {(s.run_id, s.step_key) for s in info.claimed_slots}
        claims += [Claim(pool, r, s, True) for r, s in held]
        claims += [Claim(pool, p.run_id, p.step_key, False) for p in info.pending_steps if (p.run_id, p.step_key) not in held]
    return claims


def _judges_untagged_runs(instance: dg.DagsterInstance) -> bool:
    """True when every run worker of this instance is a local process (sqlite storage, default launcher),
    so the pid in a run's RUN_START event is a pid on this machine."""
    return isinstance(instance.run_storage, (SqliteRunStorage, InMemoryRunStorage)) and isinstance(
        instance.run_launcher, DefaultRunLauncher
    )


def run_liveness(instance: dg.DagsterInstance, run: dg.DagsterRun, slack_seconds: float) -> tuple[Liveness, str]:
    """Whether the process executing `run` is alive, and which process that is (for messages)."""
    tags = run.tags
    if PID_TAG in tags and tags.get(PID_TAG, "").isdigit():
        stamp = ProcessStamp(tags.get(HOST_TAG, ""), int(tags[PID_TAG]), tags.get(PROCESS_START_TAG, ""))
        return stamp.liveness(), str(stamp)
    if run.status not in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING) or not _judges_untagged_runs(instance):
        return Liveness.UNKNOWN, "an unknown process"  # not started yet: Dagster's start timeout covers it
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    event = records[0].event_log_entry if records else None
    pid = event.dagster_event.pid if event is not None and event.dagster_event is not None else None
    if pid is None:
        return Liveness.UNKNOWN, "an unknown process"
    return pid_alive_since(pid, event.timestamp, slack_seconds), f"run worker pid {pid}"


def _fail(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> None:
    if run.status == dg.DagsterRunStatus.CANCELING:
        instance.report_run_canceled(run, reason)
    else:
        instance.report_run_failed(run, reason, JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))


def reap_dead_runs(instance: dg.DagsterInstance) -> ReapReport:
    """Mark runs whose process is gone FAILED (with the reason) and free their slots and pending claims;
    free the leftover claims of finished or deleted runs after `reaper.finished_run_slot_grace_seconds`."""
    cfg = run_settings().reaper
    report = ReapReport()
    me = ProcessStamp.current()
    claims = pool_claims(instance)
    pools_of: dict[str, list[str]] = {}
    for c in claims:
        pools_of.setdefault(c.run_id, []).append(c.pool)

    for record in instance.get_run_records(dg.RunsFilter(statuses=_UNFINISHED), limit=_RUN_BATCH):
        run = record.dagster_run
        alive, process = run_liveness(instance, run, cfg.run_start_pid_slack_seconds)
        if alive is not Liveness.DEAD:
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.is_finished:  # finished meanwhile
            continue
        pools = sorted(set(pools_of.get(run.run_id, [])))
        reason = (
            f"The process running this run ({process}) is gone (killed or crashed); marked "
            f"{'CANCELED' if current.status == dg.DagsterRunStatus.CANCELING else 'FAILED'} by trademl's "
            f"run reaper ({me})" + (f", which freed its claims in pool(s) {', '.join(pools)}" if pools else "") + "."
        )
        _fail(instance, current, reason)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        report.failed[run.run_id] = reason
        log.warning(f"reaped run {run.run_id}: {reason}")

    grace = cfg.finished_run_slot_grace_seconds
    leftover = [r for r in pools_of if r not in report.failed]
    if leftover:
        records = {r.dagster_run.run_id: r for r in instance.get_run_records(dg.RunsFilter(run_ids=leftover), limit=len(leftover))}
        now = time.time()
        for run_id in leftover:
            record = records.get(run_id)
            if record is not None and not record.dagster_run.is_finished:
                continue
            if record is not None and record.end_time is not None and now - record.end_time < grace:
                continue
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            report.freed[run_id] = pools_of[run_id]
            state = "deleted" if record is None else record.dagster_run.status.value
            log.warning(f"freed {len(pools_of[run_id])} leftover pool claim(s) of {state} run {run_id}")
    return report


def reap_before_launch(instance: dg.DagsterInstance) -> ReapReport | None:
    """`reap_dead_runs` for an entry point about to launch a run: a failure to reap (e.g. a locked
    sqlite file) is logged, not fatal; a run that then waits reaps again while it waits."""
    try:
        return reap_dead_runs(instance)
    except Exception as exc:
        log.warning(f"could not look for dead runs before launching: {exc}")
        return None


@dg.sensor(
    minimum_interval_seconds=run_settings().reaper.sensor_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process is gone (killed, crashed, power loss) FAILED and frees their pool slots, "
    "so a dead run never blocks a live one (configs/runs.yml `reaper`).",
)
def run_health_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    return dg.SkipReason(str(reap_dead_runs(context.instance)))


# ---------------------------------------------------------------------------------------------- waiting
def _describe_holders(instance: dg.DagsterInstance, pool: str, claims: list[Claim], own_run: str) -> str:
    holders = sorted({c.run_id for c in claims if c.pool == pool and c.claimed and c.run_id != own_run})
    if not holders:
        return "no run yet (the slot is being handed over)"
    out = []
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        if run is None:
            out.append(f"run {run_id} (deleted)")
            continue
        alive, process = run_liveness(instance, run, run_settings().reaper.run_start_pid_slack_seconds)
        out.append(f"run {run_id} ({run.job_name}, {run.status.value}, {process}, {alive.value})")
    return ", ".join(out)


class RunWatch:
    """Watches one in-process run from a background thread (see the module docstring)."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str):
        cfg = run_settings().wait
        self.instance, self.run_id = instance, run_id
        self.poll = cfg.poll_seconds
        self.report_every = cfg.report_every_seconds
        self.report_after = cfg.report_after_seconds
        self.reap_every = cfg.reap_every_seconds
        self.grace = cfg.interrupt_grace_seconds
        self.signum: int | None = None
        self._signal_at = 0.0
        self._stop = threading.Event()
        self._pipe: tuple[int, int] | None = None
        self._old_wakeup_fd = -1
        self._reported: dict[str, float] = {}  # step key -> when its wait was last reported
        self._waiting_since: dict[str, float] = {}  # step key -> when it was first seen waiting
        self._last_reap = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"run-watch-{run_id[:8]}", daemon=True)

    def __enter__(self) -> RunWatch:
        if threading.current_thread() is threading.main_thread():
            # Python writes the number of every signal it handles to this pipe: the watcher sees
            # SIGINT/SIGTERM at once even though Dagster's handler only records them.
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._pipe = (r, w)
            self._old_wakeup_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop.set()
        self._thread.join()
        if self._pipe is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            self._read_signals()
            for fd in self._pipe:
                os.close(fd)
        if self.signum is not None:  # Dagster stopped the step (or the run ended): honour the signal
            self._finish_interrupted(f"interrupted by {signal.Signals(self.signum).name}")
            raise SystemExit(128 + self.signum)

    def _read_signals(self) -> None:
        try:
            data = os.read(self._pipe[0], 512)
        except (BlockingIOError, OSError):
            return
        for signum in data:
            if signum in (signal.SIGINT, signal.SIGTERM) and self.signum is None:
                self.signum, self._signal_at = signum, time.monotonic()

    def _waiting(self) -> tuple[list[Claim], list[Claim]]:
        claims = pool_claims(self.instance)
        return claims, [c for c in claims if c.run_id == self.run_id and not c.claimed]

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._pipe is not None:
                select.select([self._pipe[0]], [], [], self.poll)
                self._read_signals()
            else:
                self._stop.wait(self.poll)
            if self._stop.is_set():
                return
            try:
                self._tick()
            except Exception as exc:  # never let the watcher take the run down
                log.debug(f"run watch of {self.run_id}: {exc!r}")

    def _tick(self) -> None:
        claims, waiting = self._waiting()
        now = time.monotonic()
        for c in waiting:
            if now - self._waiting_since.setdefault(c.step_key, now) < self.report_after:
                continue  # a slot being handed over between runs is not worth a warning
            last = self._reported.get(c.step_key)
            if last is None or now - last >= self.report_every:
                self._reported[c.step_key] = now
                limit = self.instance.event_log_storage.get_concurrency_info(c.pool).slot_count
                log.warning(
                    f"step {c.step_key} of run {self.run_id} is waiting for a slot in pool {c.pool!r} "
                    f"(limit {limit}), held by {_describe_holders(self.instance, c.pool, claims, self.run_id)}"
                    + (" (still waiting)" if last is not None else "")
                )
        if waiting and now - self._last_reap >= self.reap_every:
            self._last_reap = now
            reap_dead_runs(self.instance)
        if self.signum is None:
            return
        name = signal.Signals(self.signum).name
        if waiting:
            c = waiting[0]
            self._abort(f"interrupted by {name} while step {c.step_key} waited for a slot in pool {c.pool!r}")
        elif now - self._signal_at >= self.grace:
            self._abort(f"interrupted by {name}; the running step did not stop within {self.grace:g}s")

    def _finish_interrupted(self, why: str) -> None:
        """Mark the run CANCELED (if Dagster did not end it) and free every slot and claim it holds."""
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None and not run.is_finished:
            self.instance.report_run_canceled(run, f"{why}; canceled by trademl, its pool claims freed")
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        print(f"trademl: {why}; run {self.run_id} stopped, its pool claims freed", file=sys.stderr, flush=True)

    def _abort(self, why: str) -> None:
        """Stop now: nothing of the run is mid-write while it waits, and the lake is crash-safe anyway."""
        try:
            self._finish_interrupted(why)
        finally:
            sys.stdout.flush()
            os._exit(128 + (self.signum or signal.SIGTERM))


@contextlib.contextmanager
def watch_run(instance: dg.DagsterInstance, run_id: str) -> Iterator[RunWatch]:
    """Context for one in-process execution of run `run_id` (see `RunWatch`)."""
    with RunWatch(instance, run_id) as watch:
        yield watch


# ---------------------------------------------------------------------------------------------- dagster fix
def _seconds_to_next_claim_check(self: InstanceConcurrencyContext) -> float:
    """Seconds until the next pending slot claim is due to be re-checked (never negative).

    Dagster 1.13's version returns min(0, ...), i.e. never a positive wait, so an in-process step
    waiting for a slot re-polls in a tight loop at full CPU; this one lets the executor sleep.
    """
    if not self.has_pending_claims() or not self._pending_timeouts:
        return 0.0
    return max(0.0, min(self._pending_timeouts.values()) - time.time())


InstanceConcurrencyContext.interval_to_next_pending_claim_check = _seconds_to_next_claim_check

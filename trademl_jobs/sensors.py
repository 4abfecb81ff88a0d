"""QueueWorkerLoop as Dagster sensors: lease tasks and launch range runs; close tasks when runs end.

The queue worker's leases are short (configs/backfill.yml ``queue.lease_ttl_seconds``): at every
tick it renews the leases of its tasks whose Dagster run is not finished, and lets the others
expire, so a task whose run died without a status event returns to PENDING about one TTL later.
`build_sensors(automation)` builds them with their default status (trademl_jobs/automation.py),
so nothing is read from the environment at import.
"""


import dagster as dg
from sqlalchemy.engine import Engine

from trademl.data import backfill
from trademl_jobs.automation import sensor_status
from trademl_jobs.jobs import ingest_job, qc_probe_job
from trademl_jobs.queue import TASK_TAG, close_task, run_request_for_task
from trademl_resources import ControlDbResource

SENSOR_OWNER = "dagster-queue-worker"
_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
UNFINISHED_STATUSES = [s for s in dg.DagsterRunStatus if s not in _FINISHED]


def renew_live_leases(instance: dg.DagsterInstance, engine: Engine, ttl_seconds: int) -> tuple[int, int]:
    """Renew the queue worker's leases whose task has an unfinished run (queued, starting, started,
    canceling); the others (run finished, or never created) are left to expire. Returns (renewed, left)."""
    mine = [t for t in backfill.leased_tasks(engine) if t.lease_owner == SENSOR_OWNER]
    if not mine:
        return 0, 0
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={TASK_TAG: [str(t.id) for t in mine]}, statuses=UNFINISHED_STATUSES)
    )
    alive = {r.tags.get(TASK_TAG) for r in runs}
    renewed = sum(bool(backfill.renew_lease(engine, t.id, SENSOR_OWNER, ttl_seconds)) for t in mine if str(t.id) in alive)
    return renewed, len(mine) - renewed


def _lease_and_launch(context: dg.SensorEvaluationContext, control_db: ControlDbResource):
    engine = control_db.engine()
    ttl = backfill.lease_settings().ttl_seconds
    renewed, left = renew_live_leases(context.instance, engine, ttl)
    expired = backfill.expire_leases(engine)
    n = backfill.planner_settings().max_runs_per_tick
    tasks = backfill.lease_tasks(engine, SENSOR_OWNER, n=n, ttl_seconds=ttl)
    if not tasks:
        return dg.SkipReason(
            f"no leasable task (leases renewed for live runs: {renewed}, not renewed: {left}, expired leases returned: {expired})"
        )
    return [run_request_for_task(t, engine) for t in tasks]


def _close(context: dg.RunStatusSensorContext, control_db: ControlDbResource, ok: bool) -> dg.SkipReason:
    run = context.dagster_run
    task_id = run.tags.get(TASK_TAG)
    if task_id is None:
        return dg.SkipReason("run was not launched for a queue task")
    verdict = close_task(control_db.engine(), int(task_id), SENSOR_OWNER, ok, run.run_id)
    return dg.SkipReason(f"task {task_id} -> {verdict}")


def _close_succeeded(context: dg.RunStatusSensorContext, control_db: ControlDbResource):
    return _close(context, control_db, True)


def _close_failed(context: dg.RunFailureSensorContext, control_db: ControlDbResource):
    return _close(context, control_db, False)


def build_sensors(automation: bool) -> list[dg.SensorDefinition]:
    """The queue worker and the two run-status sensors closing its tasks, RUNNING when `automation` is on."""
    status = sensor_status(automation)
    worker = dg.sensor(
        name="queue_worker_sensor",
        jobs=[ingest_job, qc_probe_job],
        minimum_interval_seconds=30,
        default_status=status,
        description="Renews the leases of tasks whose run is alive, then leases backfill_queue tasks by (priority, created_at) within vendor budgets and launches one range run per task.",
    )(_lease_and_launch)
    success = dg.run_status_sensor(
        name="task_success_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[ingest_job, qc_probe_job],
        default_status=status,
        description="Marks a queue task DONE (or FAILED with backoff if sessions stayed RED) when its run succeeds.",
    )(_close_succeeded)
    failure = dg.run_failure_sensor(
        name="task_failure_sensor",
        monitored_jobs=[ingest_job, qc_probe_job],
        default_status=status,
        description="Marks a queue task FAILED with exponential backoff (or DONE if its sessions are GREEN after all) when its run fails.",
    )(_close_failed)
    return [worker, success, failure]

"""QueueWorkerLoop as Dagster sensors: lease tasks and launch range runs; close tasks when runs end."""


import dagster as dg

from trademl import backfill
from trademl.config import load_config
from trademl_jobs.automation import sensor_status
from trademl_jobs.jobs import ingest_job, qc_probe_job
from trademl_jobs.queue import TASK_TAG, close_task, run_request_for_task
from trademl_resources import ControlDbResource

SENSOR_OWNER = "dagster-queue-worker"


@dg.sensor(
    jobs=[ingest_job, qc_probe_job],
    minimum_interval_seconds=30,
    default_status=sensor_status(),
    description="Leases backfill_queue tasks by (priority, created_at) within vendor budgets and launches one range run per task.",
)
def queue_worker_sensor(context: dg.SensorEvaluationContext, control_db: ControlDbResource):
    engine = control_db.engine()
    expired = backfill.expire_leases(engine)
    cfg = load_config("backfill")["queue"]
    tasks = backfill.lease_tasks(
        engine, SENSOR_OWNER, n=int(cfg["max_runs_per_tick"]), ttl_seconds=int(cfg["lease_ttl_seconds"])
    )
    if not tasks:
        return dg.SkipReason(f"no leasable task (expired leases returned: {expired})")
    return [run_request_for_task(t) for t in tasks]


def _close(context: dg.RunStatusSensorContext, control_db: ControlDbResource, ok: bool) -> dg.SkipReason:
    run = context.dagster_run
    task_id = run.tags.get(TASK_TAG)
    if task_id is None:
        return dg.SkipReason("run was not launched for a queue task")
    verdict = close_task(control_db.engine(), int(task_id), SENSOR_OWNER, ok, run.run_id)
    return dg.SkipReason(f"task {task_id} -> {verdict}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job, qc_probe_job],
    default_status=sensor_status(),
    description="Marks a queue task DONE (or FAILED with backoff if sessions stayed RED) when its run succeeds.",
)
def task_success_sensor(context: dg.RunStatusSensorContext, control_db: ControlDbResource):
    return _close(context, control_db, True)


@dg.run_failure_sensor(
    monitored_jobs=[ingest_job, qc_probe_job],
    default_status=sensor_status(),
    description="Marks a queue task FAILED with exponential backoff (or DONE if its sessions are GREEN after all) when its run fails.",
)
def task_failure_sensor(context: dg.RunFailureSensorContext, control_db: ControlDbResource):
    return _close(context, control_db, False)

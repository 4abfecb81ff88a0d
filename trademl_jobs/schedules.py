"""ForwardIngestLoop, PlannerLoop, MaintenanceLoop and the nightly QC probe planner as schedules (America/New_York)."""


import datetime as dt

import dagster as dg

from trademl import calendar

from trademl.data import backfill, qc_probe
from trademl_jobs.automation import schedule_status
from trademl_jobs.jobs import audit_job, ingest_job, maintenance_job, qc_probe_job
from trademl_resources import ControlDbResource, VendorResource

TZ = calendar.EXCHANGE_TZ


@dg.schedule(
    job=ingest_job,
    cron_schedule="*/15 * * * *",
    execution_timezone=TZ,
    default_status=schedule_status(),
    description="Every 15 min: enqueue FORWARD tasks for today's session once its data is due; the queue worker runs them.",
)
def forward_ingest_schedule(context: dg.ScheduleEvaluationContext, control_db: ControlDbResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    n = backfill.enqueue_forward_tasks(control_db.engine(), now=now, datasets=list(backfill.planner_settings().forward_datasets))
    return dg.SkipReason(f"enqueued {n} FORWARD task(s); the queue worker sensor launches them")


planner_light_schedule = dg.ScheduleDefinition(
    name="planner_light_schedule",
    job=audit_job,
    cron_schedule="0 */4 * * *",
    execution_timezone=TZ,
    run_config={"ops": {"audit_op": {"config": {"heavy": False, "tables": []}}}},
    default_status=schedule_status(),
    description="PlannerLoop light run: audit_scan of active tables every 4 hours.",
)

planner_heavy_schedule = dg.ScheduleDefinition(
    name="planner_heavy_schedule",
    job=audit_job,
    cron_schedule="0 2 * * *",
    execution_timezone=TZ,
    run_config={"ops": {"audit_op": {"config": {"heavy": True, "tables": []}}}},
    default_status=schedule_status(),
    description="PlannerLoop heavy run at 02:00: full audit and purge of old FAILED tasks.",
)


@dg.schedule(
    job=maintenance_job,
    cron_schedule="30 2 * * *",
    execution_timezone=TZ,
    default_status=schedule_status(),
    description="MaintenanceLoop at 02:30: QC refresh and nightly export to exports/nightly/YYYY-MM-DD/.",
)
def maintenance_schedule(context: dg.ScheduleEvaluationContext):
    day = (context.scheduled_execution_time or dt.datetime.now(dt.UTC)).date().isoformat()
    return dg.RunRequest(run_key=f"maintenance-{day}", run_config={"ops": {"maintenance_op": {"config": {"day": day}}}})


@dg.schedule(
    job=qc_probe_job,
    cron_schedule="0 3 * * *",
    execution_timezone=TZ,
    default_status=schedule_status(),
    description="03:00: queue QC_PROBE tasks (configs/backfill.yml qc_probe) where a second vendor with keys is routed; the queue worker runs them.",
)
def qc_probe_schedule(context: dg.ScheduleEvaluationContext, control_db: ControlDbResource, vendor: VendorResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    plan = qc_probe.enqueue_probe_tasks(control_db.engine(), now=now, build=vendor.provider)
    skipped = "; ".join(f"{d}: {why}" for d, why in plan.skipped.items())
    return dg.SkipReason(f"enqueued {plan.enqueued} QC_PROBE task(s)" + (f"; skipped {skipped}" if skipped else ""))


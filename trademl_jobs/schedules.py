"""ForwardIngestLoop, PlannerLoop, MaintenanceLoop and the nightly QC probe planner as schedules (America/New_York).

`build_schedules(automation)` builds them with their default status (RUNNING when the automation
switch is on, see trademl_jobs/automation.py), so nothing is read from the environment at import.
Their run config is typed: `dg.RunConfig` with the ops' own `Config` classes (trademl_jobs/jobs.py).
"""


import datetime as dt

import dagster as dg

from trademl import calendar

from trademl.data import backfill, qc_probe
from trademl_jobs.automation import schedule_status
from trademl_jobs.jobs import AuditConfig, MaintenanceConfig, audit_job, ingest_job, maintenance_job, qc_probe_job
from trademl_resources import ControlDbResource, VendorResource

TZ = calendar.EXCHANGE_TZ


def planner_run_config(heavy: bool) -> dg.RunConfig:
    """The audit job's run config: a light audit of the configured tables, or a heavy one that also purges old FAILED tasks."""
    return dg.RunConfig(ops={"audit_op": AuditConfig(heavy=heavy, tables=[])})


def maintenance_run_config(day: str) -> dg.RunConfig:
    """The maintenance job's run config for the nightly export of `day` (YYYY-MM-DD, UTC)."""
    return dg.RunConfig(ops={"maintenance_op": MaintenanceConfig(day=day)})


def _enqueue_forward(context: dg.ScheduleEvaluationContext, control_db: ControlDbResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    n = backfill.enqueue_forward_tasks(control_db.engine(), now=now, datasets=list(backfill.planner_settings().forward_datasets))
    return dg.SkipReason(f"enqueued {n} FORWARD task(s); the queue worker sensor launches them")


def _request_maintenance(context: dg.ScheduleEvaluationContext):
    day = (context.scheduled_execution_time or dt.datetime.now(dt.UTC)).date().isoformat()
    return dg.RunRequest(run_key=f"maintenance-{day}", run_config=maintenance_run_config(day))


def _enqueue_probes(context: dg.ScheduleEvaluationContext, control_db: ControlDbResource, vendor: VendorResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    plan = qc_probe.enqueue_probe_tasks(control_db.engine(), now=now, build=vendor.provider)
    skipped = "; ".join(f"{d}: {why}" for d, why in plan.skipped.items())
    return dg.SkipReason(f"enqueued {plan.enqueued} QC_PROBE task(s)" + (f"; skipped {skipped}" if skipped else ""))


def build_schedules(automation: bool) -> list[dg.ScheduleDefinition]:
    """The node loop's schedules, starting RUNNING when `automation` is on, else STOPPED."""
    status = schedule_status(automation)
    forward = dg.schedule(
        name="forward_ingest_schedule",
        job=ingest_job,
        cron_schedule="*/15 * * * *",
        execution_timezone=TZ,
        default_status=status,
        description="Every 15 min: enqueue FORWARD tasks for today's session once its data is due; the queue worker runs them.",
    )(_enqueue_forward)
    light = dg.ScheduleDefinition(
        name="planner_light_schedule",
        job=audit_job,
        cron_schedule="0 */4 * * *",
        execution_timezone=TZ,
        run_config=planner_run_config(heavy=False),
        default_status=status,
        description="PlannerLoop light run: audit_scan of active tables every 4 hours.",
    )
    heavy = dg.ScheduleDefinition(
        name="planner_heavy_schedule",
        job=audit_job,
        cron_schedule="0 2 * * *",
        execution_timezone=TZ,
        run_config=planner_run_config(heavy=True),
        default_status=status,
        description="PlannerLoop heavy run at 02:00: full audit and purge of old FAILED tasks.",
    )
    maintenance = dg.schedule(
        name="maintenance_schedule",
        job=maintenance_job,
        cron_schedule="30 2 * * *",
        execution_timezone=TZ,
        default_status=status,
        description="MaintenanceLoop at 02:30: QC refresh and nightly export to exports/nightly/YYYY-MM-DD/.",
    )(_request_maintenance)
    probe = dg.schedule(
        name="qc_probe_schedule",
        job=qc_probe_job,
        cron_schedule="0 3 * * *",
        execution_timezone=TZ,
        default_status=status,
        description="03:00: queue QC_PROBE tasks (configs/backfill.yml qc_probe) where a second vendor with keys is routed; the queue worker runs them.",
    )(_enqueue_probes)
    return [forward, light, heavy, maintenance, probe]

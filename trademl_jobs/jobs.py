"""Jobs: the ingest asset job (raw + reference), the materialize job (every session-partitioned layer),
the planner / maintenance op jobs and the QC probe job."""


import datetime as dt

import dagster as dg

from trademl.curate import curate_incremental
from trademl.data import backfill, exports, qc_probe
from trademl_resources import ControlDbResource, LakeResource, VendorResource

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("raw", "reference"),
    # partitions: the selected assets' session partitions (trademl_assets/partitions.py), built with them
    description="Raw and reference ingest for a session range (launched by the queue worker sensor).",
)

MATERIALIZE_GROUPS = ("raw", "reference", "curated", "features", "labels", "models", "portfolio", "backtests", "reports")
materialize_job = dg.define_asset_job(
    "materialize_job",
    # A group with no asset yet selects nothing (it resolves to the empty set, not an error).
    selection=dg.AssetSelection.groups(*MATERIALIZE_GROUPS),
    description="Any selection of the data layers over a session range as one run (`trademl materialize`).",
)


class AuditConfig(dg.Config):
    """Planner run: heavy runs also purge old FAILED tasks."""

    heavy: bool = False
    tables: list[str] = []


@dg.op(description="audit_scan over the stage window: update partition_status, upsert GAP tasks")
def audit_op(context: dg.OpExecutionContext, config: AuditConfig, lake: LakeResource, control_db: ControlDbResource) -> None:
    settings = backfill.planner_settings()
    tables = config.tables or list(settings.audit_tables)
    start, end = backfill.stage_window()
    report = backfill.audit_scan(tables, engine=control_db.engine(), lake=lake.lake(), start=start, end=end)
    context.log.info(f"audit {start}..{end}: {report}")
    if config.heavy:
        purged = backfill.purge_failed_tasks(control_db.engine(), older_than_days=settings.purge_failed_after_days)
        context.log.info(f"purged {purged} old FAILED tasks")


@dg.job(description="PlannerLoop: audit_scan and GAP task planning (light every 4h, heavy at 02:00)")
def audit_job() -> None:
    audit_op()


class MaintenanceConfig(dg.Config):
    """Nightly maintenance; `day` defaults to today (UTC)."""

    day: str = ""


@dg.op(
    description="QC refresh of recent partitions, late corporate actions re-curated (curate_incremental) "
    "and the nightly export to exports/nightly/YYYY-MM-DD/"
)
def maintenance_op(context: dg.OpExecutionContext, config: MaintenanceConfig, lake: LakeResource, control_db: ControlDbResource) -> None:
    day = dt.date.fromisoformat(config.day) if config.day else dt.datetime.now(dt.UTC).date()
    start, end = backfill.stage_window()
    backfill.audit_scan(list(backfill.planner_settings().audit_tables), engine=control_db.engine(), lake=lake.lake(), start=start, end=end)
    repaired = curate_incremental(lake=lake.lake(), engine=control_db.engine())
    if len(repaired.events):
        rewritten = {s: len(days) for s, days in repaired.sessions_rewritten.items()}
        context.log.info(f"late corporate actions: {len(repaired.events)} event(s); curated sessions rewritten per symbol: {rewritten}")
    out = exports.nightly_export(lake.lake(), control_db.engine(), day)
    context.log.info(f"nightly export written to {out}")


@dg.job(description="MaintenanceLoop: QC refresh, late corporate actions re-curated, nightly export")
def maintenance_job() -> None:
    maintenance_op()


class QcProbeConfig(dg.Config):
    """One QC_PROBE task: a bar dataset over the closed session range [start, end]."""

    dataset: str
    start: str
    end: str
    symbols: list[str] = []


@dg.op(description="Cross-vendor QC probe: sampled GREEN partitions re-fetched from a second vendor; disagreements -> AMBER")
def qc_probe_op(
    context: dg.OpExecutionContext,
    config: QcProbeConfig,
    lake: LakeResource,
    control_db: ControlDbResource,
    vendor: VendorResource,
) -> None:
    report = qc_probe.probe_window(
        config.dataset,
        config.start,
        config.end,
        lake=lake.lake(),
        engine=control_db.engine(),
        build=vendor.provider,
        symbols=config.symbols or None,
    )
    context.log.info(str(report))


@dg.job(description="QC_PROBE task: spot-check stored bars against a second vendor (launched by the queue worker)")
def qc_probe_job() -> None:
    qc_probe_op()


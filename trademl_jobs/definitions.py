"""The one Definitions object: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg

from trademl.schemas import DATASET_TABLES
from trademl_assets.checks import build_qc_check
from trademl_assets.raw import raw_assets
from trademl_assets.reference import reference_assets
from trademl_jobs.jobs import audit_job, ingest_job, maintenance_job, qc_probe_job
from trademl_jobs.schedules import (
    forward_ingest_schedule,
    maintenance_schedule,
    planner_heavy_schedule,
    planner_light_schedule,
    qc_probe_schedule,
)
from trademl_jobs.run_health import run_health_sensor
from trademl_jobs.sensors import queue_worker_sensor, task_failure_sensor, task_success_sensor
from trademl_resources import ControlDbResource, LakeResource, VendorResource
from trademl_resources.vendors import (
    AlpacaResource,
    AlphaVantageResource,
    FilesResource,
    FinnhubResource,
    FmpResource,
    FredResource,
    MassiveResource,
)

_INGESTED = ("calendars", "universe", "corp_actions", "delistings", "index_membership", "tick_size_regime",
             "equities_eod", "equities_minute", "options_chains", "macros_fred")

# One resource per vendor (non-secret settings only; keys come from the environment at call time).
# The raw assets use `vendor`, which routes TRADEML_VENDOR's providers through these resources.
_PER_VENDOR = {
    "alpaca": AlpacaResource(),
    "massive": MassiveResource(),
    "finnhub": FinnhubResource(),
    "fred": FredResource(),
    "alpha_vantage": AlphaVantageResource(),
    "fmp": FmpResource(),
    "files": FilesResource(),
}

defs = dg.Definitions(
    assets=[*reference_assets, *raw_assets],
    asset_checks=[build_qc_check(DATASET_TABLES[d]) for d in _INGESTED],
    jobs=[ingest_job, audit_job, maintenance_job, qc_probe_job],
    schedules=[forward_ingest_schedule, planner_light_schedule, planner_heavy_schedule, maintenance_schedule, qc_probe_schedule],
    sensors=[queue_worker_sensor, task_success_sensor, task_failure_sensor, run_health_sensor],
    resources={
        "lake": LakeResource(),
        "control_db": ControlDbResource(),
        "vendor": VendorResource(**_PER_VENDOR),
        **_PER_VENDOR,
    },
)

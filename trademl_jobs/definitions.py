"""The one Definitions object, merged from each layer's own (`dg.Definitions.merge`).

Each asset layer file (`trademl_assets/reference.py`, `raw.py`) declares its assets and their
checks; the automation (jobs, schedules, sensors) and the resources are declared here once.
"""

from __future__ import annotations

import dagster as dg

from trademl_assets import raw, reference
from trademl_jobs.jobs import audit_job, ingest_job, maintenance_job, qc_probe_job
from trademl_jobs.run_health import run_health_sensor
from trademl_jobs.schedules import (
    forward_ingest_schedule,
    maintenance_schedule,
    planner_heavy_schedule,
    planner_light_schedule,
    qc_probe_schedule,
)
from trademl_jobs.sensors import queue_worker_sensor, task_failure_sensor, task_success_sensor
from trademl_resources import ControlDbResource, LakeResource, VendorResource
from trademl_resources.vendors import VENDOR_RESOURCES

# One resource per vendor (non-secret settings only; keys come from the environment at call time).
# The raw assets use `vendor`, which routes TRADEML_VENDOR's providers through these resources.
_PER_VENDOR = {name: resource() for name, resource in VENDOR_RESOURCES.items()}


def _automation() -> dg.Definitions:
    """Jobs, schedules and sensors (the node loop)."""
    return dg.Definitions(
        jobs=[ingest_job, audit_job, maintenance_job, qc_probe_job],
        schedules=[forward_ingest_schedule, planner_light_schedule, planner_heavy_schedule, maintenance_schedule, qc_probe_schedule],
        sensors=[queue_worker_sensor, task_success_sensor, task_failure_sensor, run_health_sensor],
    )


def _resources() -> dg.Definitions:
    """The lake, the control db, the routed `vendor` and one resource per vendor."""
    return dg.Definitions(
        resources={
            "lake": LakeResource(),
            "control_db": ControlDbResource(),
            "vendor": VendorResource(**_PER_VENDOR),
            **_PER_VENDOR,
        },
    )


# Dagster loads exactly one Definitions from module scope; the layer files' own are merged into it.
defs = dg.Definitions.merge(reference.defs, raw.defs, _automation(), _resources())

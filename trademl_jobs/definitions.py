"""The Definitions, merged from each layer's own (`dg.Definitions.merge`) and built for one vendor.

Each asset layer file (`trademl_assets/reference.py`, `raw.py`, `curated.py`, `features.py`,
`labels.py`, `models.py`, `portfolio.py`, `backtests.py`, `reports.py`) builds its assets and their checks;
the automation (jobs, schedules, sensors) and the resources are declared here once.
`build_definitions(vendor, ...)` takes everything a deployment chooses explicitly (the vendor,
whose pool the ingest assets run in, see trademl_assets/ingest_asset.py; the synthetic market's
settings; the automation switch) and is cached per choice. `defs` is the code location Dagster
loads (workspace.yaml, `dagster definitions validate -m trademl_jobs.definitions`): a
`@dg.definitions` loader that reads TRADEML_VENDOR and the automation switch when Dagster loads
it, not at import; `trademl_jobs.runner` builds the definitions of the vendor it is given.
"""

from __future__ import annotations

from functools import lru_cache

import dagster as dg

from trademl.config import settings
from trademl_assets import backtests, curated, features, labels, models, portfolio, raw, reference, reports
from trademl_jobs.alerts import build_alert_sensor
from trademl_jobs.automation import automation_on
from trademl_jobs.jobs import audit_job, ingest_job, maintenance_job, materialize_job, qc_probe_job
from trademl_jobs.run_health import run_health_sensor
from trademl_jobs.schedules import build_schedules
from trademl_jobs.sensors import build_sensors
from trademl_jobs.training import build_training_sensors, evaluate_job, promote_job, train_job
from trademl_resources import ControlDbResource, LakeResource, VendorResource
from trademl_resources.training import TrainingResource
from trademl_resources.vendors import VENDOR_RESOURCES, SyntheticResource


def _automation(automation: bool) -> dg.Definitions:
    """Jobs, schedules and sensors (the node loop); the reaper sensor always starts RUNNING."""
    return dg.Definitions(
        jobs=[ingest_job, materialize_job, audit_job, maintenance_job, qc_probe_job, train_job, promote_job, evaluate_job],
        schedules=build_schedules(automation),
        sensors=[*build_sensors(automation), run_health_sensor, build_alert_sensor(automation),
                 *build_training_sensors(automation)],
    )


def _resources(vendor: str, synthetic: SyntheticResource | None, training: TrainingResource | None) -> dg.Definitions:
    """The lake, the control db, the routed `vendor` (set to `vendor`) and one resource per vendor
    (non-secret settings only; keys come from the environment at call time)."""
    per_vendor = {name: resource() for name, resource in VENDOR_RESOURCES.items()}
    if synthetic is not None:
        per_vendor["synthetic"] = synthetic
    return dg.Definitions(
        resources={
            "lake": LakeResource(),
            "control_db": ControlDbResource(),
            "vendor": VendorResource(vendor=vendor, **per_vendor),
            "training": training or TrainingResource(),
            **per_vendor,
        },
    )


def build_definitions(
    vendor: str,
    *,
    synthetic: SyntheticResource | None = None,
    automation: bool = True,
    training: TrainingResource | None = None,
) -> dg.Definitions:
    """Every definition of the project for `vendor` (a TRADEML_VENDOR value: a vendor, a comma list,
    or "auto"): the ingest assets in that vendor's pool and the `vendor` resource routing its
    providers; `synthetic` replaces the default synthetic-market resource (e.g. the demo's size);
    `automation` picks the schedules' and sensors' default status; `training` the model layer's
    overrides (the demo's shorter training window). Built once per choice."""
    return _built(vendor, synthetic, automation, training)


@lru_cache(maxsize=16)
def _built(
    vendor: str, synthetic: SyntheticResource | None, automation: bool, training: TrainingResource | None
) -> dg.Definitions:
    return dg.Definitions.merge(
        reference.build_defs(vendor),
        raw.build_defs(vendor),
        curated.build_defs(),
        features.build_defs(),
        labels.build_defs(),
        models.build_defs(),
        portfolio.build_defs(),
        backtests.build_defs(),
        reports.build_defs(),
        _automation(automation),
        _resources(vendor, synthetic, training),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location: built for TRADEML_VENDOR (default synthetic) and the automation switch
    (TRADEML_AUTOMATION, else configs/runs.yml) as set when Dagster loads it."""
    return build_definitions(settings().vendor, automation=automation_on())

"""Whether schedules and sensors start RUNNING or STOPPED (configs/runs.yml `automation.default`,
overridden by TRADEML_AUTOMATION=on|off, or by an explicit setting such as `trademl ui --automation`).
Dagster applies a default status only until someone toggles the schedule or sensor in the UI; the
instance keeps that choice. The switch is read when the definitions are built
(`trademl_jobs.definitions.defs`), never at import."""

import os

import dagster as dg

from trademl_jobs.run_settings import AUTOMATION_VALUES, run_settings


def automation_on(setting: str | None = None) -> bool:
    """True unless automation is switched off: `setting` when given, else TRADEML_AUTOMATION, else
    configs/runs.yml; ValueError naming the source for anything but on/off."""
    raw, source = setting, "--automation"
    if raw is None:
        raw, source = os.environ.get("TRADEML_AUTOMATION"), "TRADEML_AUTOMATION"
    if raw is None:
        return run_settings().automation_default
    value = raw.strip().lower()
    if value not in AUTOMATION_VALUES:
        raise ValueError(f"{source} must be 'on' or 'off', got {raw!r}")
    return AUTOMATION_VALUES[value]


def sensor_status(on: bool) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED


def schedule_status(on: bool) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED

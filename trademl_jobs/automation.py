"""Whether schedules and sensors start RUNNING or STOPPED (configs/runs.yml `automation.default`,
overridden by TRADEML_AUTOMATION=on|off). Dagster applies a default status only until someone
toggles the schedule or sensor in the UI; the instance keeps that choice."""

import os

import dagster as dg

from trademl_jobs.run_settings import AUTOMATION_VALUES, run_settings


def automation_on() -> bool:
    """True unless automation is switched off; ValueError naming the setting for anything but on/off."""
    raw = os.environ.get("TRADEML_AUTOMATION")
    if raw is None:
        return run_settings().automation_default
    value = raw.strip().lower()
    if value not in AUTOMATION_VALUES:
        raise ValueError(f"TRADEML_AUTOMATION must be 'on' or 'off', got {raw!r}")
    return AUTOMATION_VALUES[value]


def sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED

"""configs/runs.yml typed once per file version: run health (reaper, slot waits) and the automation default.

Read by trademl_jobs/run_health.py (`reaper:`, `wait:`) and trademl_jobs/automation.py (`automation:`).
Plain frozen dataclasses (no Dagster here); every time is in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trademl.config import config_value, typed_config

AUTOMATION_VALUES = {"on": True, "off": False}


def _section(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    if not isinstance(doc.get(name), Mapping):
        raise ValueError(f"configs/runs.yml has no `{name}:` section")
    return doc[name]


def _seconds(doc: Mapping[str, Any], section: str, key: str, *default: float) -> float:
    value = config_value(doc, key, float, name="runs", path=section, **({"default": default[0]} if default else {}))
    if value < 0:
        raise ValueError(f"configs/runs.yml {section}.{key} must be >= 0 seconds, got {value}")
    return value


@dataclass(frozen=True)
class ReaperSettings:
    """``reaper:``: how often the daemon's run_health_sensor looks for dead runs, how long slots of a
    FINISHED run may linger, and the pid-reuse slack for runs judged by their RUN_START event."""

    sensor_interval_seconds: int
    finished_run_slot_grace_seconds: float
    run_start_pid_slack_seconds: float


@dataclass(frozen=True)
class WaitSettings:
    """``wait:``: how a CLI run waiting for a pool slot is watched, reported and interrupted."""

    poll_seconds: float
    report_after_seconds: float
    report_every_seconds: float
    reap_every_seconds: float
    interrupt_grace_seconds: float


@dataclass(frozen=True)
class RunSettings:
    """configs/runs.yml: `reaper`, `wait` and whether schedules and sensors start RUNNING
    (`automation_default`, from ``automation.default: on|off``, default on)."""

    reaper: ReaperSettings
    wait: WaitSettings
    automation_default: bool

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> RunSettings:
        """Validate and build the settings from the whole document."""
        reaper, wait = _section(doc, "reaper"), _section(doc, "wait")
        automation = doc.get("automation") or {}
        raw = str(config_value(automation, "default", str, name="runs", path="automation", default="on"))
        if raw.strip().lower() not in AUTOMATION_VALUES:
            raise ValueError(f"configs/runs.yml automation.default must be 'on' or 'off', got {raw!r}")
        interval = config_value(reaper, "sensor_interval_seconds", int, name="runs", path="reaper")
        if interval < 1:
            raise ValueError(f"configs/runs.yml reaper.sensor_interval_seconds must be >= 1, got {interval}")
        return cls(
            reaper=ReaperSettings(
                sensor_interval_seconds=interval,
                finished_run_slot_grace_seconds=_seconds(reaper, "reaper", "finished_run_slot_grace_seconds"),
                run_start_pid_slack_seconds=_seconds(reaper, "reaper", "run_start_pid_slack_seconds"),
            ),
            wait=WaitSettings(
                poll_seconds=_seconds(wait, "wait", "poll_seconds"),
                report_after_seconds=_seconds(wait, "wait", "report_after_seconds", 0.0),
                report_every_seconds=_seconds(wait, "wait", "report_every_seconds"),
                reap_every_seconds=_seconds(wait, "wait", "reap_every_seconds"),
                interrupt_grace_seconds=_seconds(wait, "wait", "interrupt_grace_seconds"),
            ),
            automation_default=AUTOMATION_VALUES[raw.strip().lower()],
        )


def run_settings() -> RunSettings:
    """The current RunSettings (re-read when configs/runs.yml or its env override changes)."""
    return typed_config(RunSettings, "runs")

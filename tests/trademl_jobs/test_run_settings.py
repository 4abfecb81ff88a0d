"""RunSettings: configs/runs.yml (reaper, wait, automation) typed once, with errors naming file and field."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl_jobs.run_settings import RunSettings, run_settings


def shipped() -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / "runs.yml").read_text())


def test_the_shipped_run_settings_parse():
    doc = shipped()
    settings = RunSettings.from_config(doc)
    assert settings.reaper.sensor_interval_seconds == doc["reaper"]["sensor_interval_seconds"]
    assert settings.reaper.run_start_pid_slack_seconds == doc["reaper"]["run_start_pid_slack_seconds"]
    assert settings.wait.report_after_seconds == doc["wait"]["report_after_seconds"]
    assert settings.wait.interrupt_grace_seconds == doc["wait"]["interrupt_grace_seconds"]
    assert settings.automation_default is True
    assert run_settings() == settings


def test_automation_defaults_to_on_and_reads_off():
    doc = shipped()
    assert RunSettings.from_config({**doc, "automation": {}}).automation_default is True
    assert RunSettings.from_config({**doc, "automation": {"default": "OFF"}}).automation_default is False


def test_a_bad_automation_default_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/runs.yml automation.default must be 'on' or 'off', got 'maybe'$"):
        RunSettings.from_config({**shipped(), "automation": {"default": "maybe"}})


def test_a_missing_wait_setting_names_file_and_field():
    doc = shipped()
    del doc["wait"]["poll_seconds"]
    with pytest.raises(ValueError, match=r"^configs/runs.yml wait.poll_seconds is missing$"):
        RunSettings.from_config(doc)


def test_a_malformed_reaper_interval_names_file_and_field():
    doc = shipped()
    doc["reaper"]["sensor_interval_seconds"] = "minutely"
    with pytest.raises(ValueError, match=r"^configs/runs.yml reaper.sensor_interval_seconds: expected int, got 'minutely'$"):
        RunSettings.from_config(doc)

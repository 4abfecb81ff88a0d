"""ProbeSettings (configs/router.yml qc_probe) and ProbeSchedule (configs/backfill.yml qc_probe, forward)."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.qc_probe import ProbeSchedule, ProbeSettings, probe_settings


def shipped(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / f"{name}.yml").read_text())


def test_the_shipped_probe_settings_parse():
    doc = shipped("router")["qc_probe"]
    assert ProbeSettings.from_config(doc) == ProbeSettings(
        close_rel_tol=doc["close_rel_tol"], volume_rel_tol=doc["volume_rel_tol"], sample_sessions=doc["sample_sessions"],
        sample_symbols=doc["sample_symbols"], seed=doc["seed"],
    )
    assert probe_settings() == ProbeSettings.from_config(doc)


def test_absent_keys_take_the_defaults_and_null_volume_tolerance_skips_volume():
    assert ProbeSettings.from_config({}) == ProbeSettings()
    assert ProbeSettings.from_config({"volume_rel_tol": None}).volume_rel_tol is None


def test_a_malformed_tolerance_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/router.yml qc_probe.close_rel_tol: expected float, got 'tight'$"):
        ProbeSettings.from_config({"close_rel_tol": "tight"})


def test_the_shipped_probe_schedule_parses():
    doc = shipped("backfill")
    schedule = ProbeSchedule.from_config(doc)
    assert schedule.datasets == tuple(doc["qc_probe"]["datasets"])
    assert schedule.sessions_back == doc["qc_probe"]["sessions_back"]
    assert schedule.due_after_close_minutes == doc["forward"]["due_after_close_minutes"]


def test_a_probe_dataset_that_is_not_bars_is_named():
    with pytest.raises(ValueError, match=r"^configs/backfill.yml qc_probe.datasets: 'macros_fred' is not one of"):
        ProbeSchedule.from_config({"qc_probe": {"datasets": ["macros_fred"]}, "forward": {}})


def test_a_malformed_sessions_back_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/backfill.yml qc_probe.sessions_back: expected int, got 'week'$"):
        ProbeSchedule.from_config({"qc_probe": {"sessions_back": "week"}, "forward": {}})

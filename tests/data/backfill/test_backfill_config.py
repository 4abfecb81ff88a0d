"""PlannerSettings: the node loop's typed view of configs/backfill.yml, re-read when the file changes."""

from __future__ import annotations

import shutil

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.backfill import PlannerSettings, planner_settings


@pytest.fixture
def configs(tmp_path, monkeypatch):
    root = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", root)
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(root))
    monkeypatch.setenv("TRADEML_ENV", "local")
    return root


def test_planner_settings_carry_the_shipped_values():
    doc = yaml.safe_load((REPO_ROOT / "configs" / "backfill.yml").read_text())
    settings = PlannerSettings.from_config(doc)
    assert settings.audit_tables == tuple(doc["audit"]["tables"])
    assert settings.forward_datasets == tuple(doc["forward"]["datasets"])
    assert settings.max_runs_per_tick == doc["queue"]["max_runs_per_tick"]
    assert settings.purge_failed_after_days == doc["queue"]["purge_failed_after_days"]


def test_an_environment_override_is_seen_after_the_file_changes(configs):
    before = planner_settings().max_runs_per_tick
    (configs / "env" / "local").mkdir(parents=True, exist_ok=True)
    (configs / "env" / "local" / "backfill.yml").write_text(yaml.safe_dump({"queue": {"max_runs_per_tick": before + 3}}))
    assert planner_settings().max_runs_per_tick == before + 3


def test_a_missing_section_is_named():
    with pytest.raises(ValueError, match="configs/backfill.yml has no `forward:` section"):
        PlannerSettings.from_config({"audit": {"tables": []}, "queue": {"max_runs_per_tick": 1, "purge_failed_after_days": 1}})


def test_a_missing_key_is_named():
    with pytest.raises(ValueError, match="missing 'max_runs_per_tick'"):
        PlannerSettings.from_config({"audit": {"tables": []}, "forward": {"datasets": []}, "queue": {"purge_failed_after_days": 1}})


def test_a_tick_of_zero_tasks_is_refused():
    doc = {"audit": {"tables": []}, "forward": {"datasets": []}, "queue": {"max_runs_per_tick": 0, "purge_failed_after_days": 1}}
    with pytest.raises(ValueError, match="max_runs_per_tick >= 1"):
        PlannerSettings.from_config(doc)

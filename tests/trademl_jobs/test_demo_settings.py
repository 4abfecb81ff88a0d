"""DemoSettings: configs/demo.yml typed once, with errors naming file and field."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl_jobs.cli.demo import DemoSettings


def shipped() -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / "demo.yml").read_text())


def test_the_shipped_demo_settings_parse():
    doc = shipped()
    assert DemoSettings.from_config(doc) == DemoSettings(
        end=doc["end"], symbols=doc["symbols"], daily_sessions=doc["daily_sessions"],
        minute_sessions=doc["minute_sessions"], signal_strength=doc["signal_strength"],
    )


def test_a_malformed_end_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/demo.yml end: expected a YYYY-MM-DD date, got 'soon'$"):
        DemoSettings.from_config({**shipped(), "end": "soon"})


def test_a_missing_field_names_file_and_field():
    doc = shipped()
    del doc["symbols"]
    with pytest.raises(ValueError, match=r"^configs/demo.yml symbols is missing$"):
        DemoSettings.from_config(doc)


def test_zero_minute_sessions_are_refused():
    with pytest.raises(ValueError, match=r"^configs/demo.yml minute_sessions must be >= 1, got 0$"):
        DemoSettings.from_config({**shipped(), "minute_sessions": 0})

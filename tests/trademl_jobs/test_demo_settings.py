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
        minute_sessions=doc["minute_sessions"], macro_lead_sessions=doc["macro_lead_sessions"],
        signal_strength=doc["signal_strength"], training=doc["training"],
    )


def test_an_unknown_training_override_is_refused_naming_the_known_ones():
    doc = shipped()
    doc["training"] = {**doc["training"], "learning_rate": 1}
    with pytest.raises(ValueError, match=r"^configs/demo.yml training takes embargo_sessions, lookback_sessions, min_test_sessions, trials"):
        DemoSettings.from_config(doc)


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


def test_a_negative_macro_lead_is_refused():
    with pytest.raises(ValueError, match=r"^configs/demo.yml macro_lead_sessions must be >= 0, got -1$"):
        DemoSettings.from_config({**shipped(), "macro_lead_sessions": -1})


def test_research_steps_start_where_their_history_allows():
    from trademl import calendar
    from trademl_jobs.cli.demo_research import research_steps

    daily = calendar.sessions("2024-06-03", "2025-06-30")
    steps = {s.label: s for s in research_steps(daily, daily[-10:])}
    assert steps["curated prices"].first == "2024-06-03"
    assert steps["equities_xs + indicator sets"].first == daily[126].strftime("%Y-%m-%d")  # 127 sessions incl. t
    assert steps["equities_xs labels"].last == calendar.previous_session("2025-06-30", 20).strftime("%Y-%m-%d")
    assert steps["sigma labels"].last == calendar.previous_session("2025-06-30", 5).strftime("%Y-%m-%d")


def test_a_short_window_skips_the_steps_it_cannot_feed():
    from trademl import calendar
    from trademl_jobs.cli.demo_research import research_steps

    daily = calendar.sessions("2025-05-01", "2025-06-30")
    steps = {s.label: s for s in research_steps(daily, daily[-3:])}
    assert steps["curated prices"].first == "2025-05-01"
    assert steps["equities_xs + indicator sets"].first is None and steps["market context"].first is None
    assert steps["equities_xs labels"].first is None and steps["sigma labels"].first is None

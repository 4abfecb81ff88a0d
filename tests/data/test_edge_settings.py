"""EdgeSettings: configs/edge.yml pools and budgets typed once, with errors naming file and field."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.edge import EdgeScheduler, EdgeSettings, VendorBudget, edge_settings, vendor_budget


def shipped() -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / "edge.yml").read_text())


def test_the_shipped_pools_and_budgets_parse():
    doc = shipped()
    settings = EdgeSettings.from_config(doc)
    assert settings.pools == {k: int(v) for k, v in doc["pools"].items()}
    assert settings.budgets["alpaca"] == VendorBudget(200.0, 20.0, 150000)
    assert set(settings.budgets) == set(doc["budgets"])


def test_the_configured_settings_are_the_shipped_ones():
    assert edge_settings() == EdgeSettings.from_config(shipped())


def test_burst_defaults_to_the_rate_and_a_zero_cap_means_no_cap():
    settings = EdgeSettings.from_config({"budgets": {"v": {"tokens_per_minute": 30, "daily_cap": 0}}})
    assert settings.budgets["v"] == VendorBudget(30.0, 30.0, None)


def test_an_injected_mapping_gives_the_same_budget_as_the_typed_settings():
    doc = {"budgets": {"v": {"tokens_per_minute": 30, "burst": 3, "daily_cap": 100}}}
    assert vendor_budget("v", doc) == vendor_budget("v", EdgeSettings.from_config(doc)) == VendorBudget(30.0, 3.0, 100)
    assert vendor_budget("other", doc) is None


def test_a_scheduler_without_injected_pools_uses_the_configured_pool():
    with EdgeScheduler(budgets={}) as sched:
        assert sched.runner("massive").workers == edge_settings().pools["massive"]


def test_a_malformed_pool_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/edge.yml pools.alpaca: expected int, got 'two'$"):
        EdgeSettings.from_config({"pools": {"alpaca": "two"}})


def test_a_budget_without_a_rate_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/edge.yml budgets.fmp.tokens_per_minute is missing$"):
        EdgeSettings.from_config({"budgets": {"fmp": {"daily_cap": 250}}})


def test_a_non_positive_budget_names_the_vendor():
    with pytest.raises(ValueError, match=r"^configs/edge.yml budgets.fmp: budget needs tokens_per_minute > 0"):
        EdgeSettings.from_config({"budgets": {"fmp": {"tokens_per_minute": 0}}})

"""EndpointRegistry: configs/endpoints.yml typed once; vendors, aliases and capabilities with named errors."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.endpoints import Capability, EndpointRegistry, VendorSpec, endpoint_registry


def shipped() -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / "endpoints.yml").read_text())


def test_the_shipped_registry_parses_every_vendor_and_capability():
    doc = shipped()
    registry = EndpointRegistry.from_config(doc)
    assert set(registry.vendors) == set(doc["vendors"])
    assert len(registry.capabilities) == len(doc["capabilities"])
    alpaca = registry.vendors["alpaca"]
    assert (alpaca.base_url, alpaca.hard_rpm, alpaca.burst_limit, alpaca.soft_daily_cap) == ("https://data.alpaca.markets", 200.0, 20, 150000)


def test_an_alias_resolves_to_the_vendor_whose_budget_it_spends():
    registry = EndpointRegistry.from_config(shipped())
    assert registry.budget_vendor("alfred") == "fred"
    assert registry.vendors["alfred"].base_url is None


def test_capabilities_keep_file_order_and_types():
    caps = EndpointRegistry.from_config(shipped()).capabilities_of("equities_eod")
    assert [c.vendor for c in caps] == ["alpaca", "massive", "finnhub", "files", "synthetic"]
    assert caps[0].history_start == dt.date(2016, 1, 4) and caps[0].symbols_per_request == 100
    assert caps[3].auto is False


def test_the_configured_registry_is_the_shipped_one():
    assert endpoint_registry() == EndpointRegistry.from_config(shipped())


def test_an_injected_mapping_is_typed_and_a_typed_registry_passes_through():
    registry = endpoint_registry({"vendors": {"v": {"hard_rpm": 10}}, "capabilities": []})
    assert registry.vendors["v"] == VendorSpec(name="v", hard_rpm=10.0)
    assert endpoint_registry(registry) is registry


def test_a_malformed_vendor_limit_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/endpoints.yml vendors.alpaca.hard_rpm: expected float, got 'fast'$"):
        EndpointRegistry.from_config({"vendors": {"alpaca": {"hard_rpm": "fast"}}})


def test_a_non_positive_limit_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/endpoints.yml vendors.fmp.burst_limit must be >= 1, got 0$"):
        VendorSpec.from_config("fmp", {"burst_limit": 0})


def test_a_capability_without_priority_names_its_entry():
    with pytest.raises(ValueError, match=r"^configs/endpoints.yml capabilities\[1\].priority is missing$"):
        EndpointRegistry.from_config(
            {"capabilities": [{"dataset": "d", "vendor": "v", "priority": 1}, {"dataset": "d", "vendor": "w"}]}
        )


def test_a_bad_history_start_names_the_field():
    with pytest.raises(ValueError, match=r"^configs/endpoints.yml capabilities\[0\].history_start: expected date, got 'last year'$"):
        Capability.from_config({"dataset": "d", "vendor": "v", "priority": 1, "history_start": "last year"})


def test_an_unknown_vendor_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"vendor 'yahoo' is not in configs/endpoints.yml \(known: a\)"):
        EndpointRegistry.from_config({"vendors": {"a": {}}}).budget_vendor("yahoo")

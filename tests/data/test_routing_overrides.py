"""RouterOverrides: configs/router.yml order/disabled/enabled typed once, injectable as a mapping."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.routing import RouterOverrides, route, router_overrides


def test_the_shipped_overrides_parse_to_no_override():
    doc = yaml.safe_load((REPO_ROOT / "configs" / "router.yml").read_text())
    assert RouterOverrides.from_config(doc) == RouterOverrides(order={}, disabled=frozenset(), enabled={})
    assert router_overrides() == RouterOverrides.from_config(doc)


def test_overrides_are_typed_per_dataset():
    cfg = RouterOverrides.from_config({"order": {"equities_eod": ["finnhub"]}, "disabled": ["massive"], "enabled": {"equities_eod": ["files"]}})
    assert cfg.order == {"equities_eod": ("finnhub",)}
    assert cfg.disabled == frozenset({"massive"}) and cfg.enabled == {"equities_eod": frozenset({"files"})}


def test_typed_and_mapping_overrides_route_alike():
    doc = {"order": {"equities_eod": ["finnhub"]}, "disabled": ["massive"], "enabled": {"equities_eod": ["files"]}}
    day = dt.date(2024, 3, 8)
    assert route("equities_eod", day, overrides=RouterOverrides.from_config(doc)) == route("equities_eod", day, overrides=doc)


def test_a_provider_list_given_as_text_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/router.yml order.equities_eod: expected a list of provider names, got 'alpaca'$"):
        RouterOverrides.from_config({"order": {"equities_eod": "alpaca"}})


def test_a_disabled_list_given_as_a_mapping_names_the_field():
    with pytest.raises(ValueError, match=r"^configs/router.yml disabled: expected a list of provider names"):
        RouterOverrides.from_config({"disabled": {"massive": True}})

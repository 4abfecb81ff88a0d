"""LabelCatalog: configs/labels.yml typed once; every entry names a known builder."""

from __future__ import annotations

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.labels.configured import LabelCatalog, LabelDefinition, label_catalog, label_spec


def shipped() -> dict:
    return yaml.safe_load((REPO_ROOT / "configs" / "labels.yml").read_text())


def test_the_shipped_labels_parse_with_their_builders_and_parameters():
    doc = shipped()
    catalog = LabelCatalog.from_config(doc)
    assert set(catalog.labels) == set(doc["labels"])
    assert catalog.labels["fwd_returns"] == LabelDefinition("forward_returns", {"horizons": [1, 5, 20], "kind": "simple"})
    assert label_catalog() == catalog


def test_a_label_spec_is_a_copy_callers_may_change():
    _, params = label_spec("fwd_returns")
    params["horizons"].append(60)
    assert label_spec("fwd_returns")[1]["horizons"] == [1, 5, 20]


def test_an_unknown_builder_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/labels.yml labels.x.builder: 'nope' is not one of "):
        LabelCatalog.from_config({"labels": {"x": {"builder": "nope"}}})


def test_an_entry_that_is_not_a_mapping_is_named():
    with pytest.raises(ValueError, match=r"^configs/labels.yml labels.x: expected \{builder: ..., parameters\}, got 5$"):
        LabelCatalog.from_config({"labels": {"x": 5}})

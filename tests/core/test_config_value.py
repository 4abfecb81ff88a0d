"""config_value: one typed field of a config, with errors naming the file and the field."""

from __future__ import annotations

import pytest

from trademl.config import config_value


def test_a_present_field_is_converted():
    assert config_value({"burst": "20"}, "burst", float, name="edge", path="budgets.alpaca") == 20.0


def test_an_absent_or_null_field_takes_the_default():
    assert config_value({}, "burst", float, name="edge", default=5.0) == 5.0
    assert config_value({"burst": None}, "burst", float, name="edge", default=None) is None


def test_a_missing_required_field_names_file_and_field():
    with pytest.raises(ValueError, match=r"^configs/edge.yml budgets.alpaca.burst is missing$"):
        config_value({}, "burst", float, name="edge", path="budgets.alpaca")


def test_a_malformed_field_names_file_field_and_value():
    with pytest.raises(ValueError, match=r"^configs/demo.yml symbols: expected int, got 'many'$"):
        config_value({"symbols": "many"}, "symbols", int, name="demo")


def test_a_section_that_is_not_a_mapping_is_named():
    with pytest.raises(ValueError, match=r"^configs/edge.yml budgets.alpaca: expected a mapping, got 5$"):
        config_value(5, "burst", float, name="edge", path="budgets.alpaca")  # type: ignore[arg-type]

"""CuratorSettings.from_config: configs/curator.yml validated with errors naming file and field."""

from __future__ import annotations

import pytest

from trademl.config import load_config
from trademl.curate import CuratorSettings, curator_settings


def test_shipped_config_gives_crsp_and_shumway_defaults():
    cfg = curator_settings()
    assert cfg.default_convention == "crsp"
    assert cfg.delisting_returns == {"ACQUIRED": 0.0, "BANKRUPTCY": -0.30, "DEREGISTERED": -0.30}
    assert cfg == CuratorSettings.from_config(load_config("curator"))


def test_unknown_convention_names_the_field():
    with pytest.raises(ValueError, match="default_convention.*yahoo"):
        CuratorSettings.from_config({"default_convention": "yahoo"})


def test_delisting_return_of_minus_one_or_less_is_rejected():
    with pytest.raises(ValueError, match="BANKRUPTCY"):
        CuratorSettings.from_config({"delisting_returns": {"BANKRUPTCY": -1.5}})


def test_non_numeric_delisting_return_names_the_field():
    with pytest.raises(ValueError, match="delisting_returns.ACQUIRED"):
        CuratorSettings.from_config({"delisting_returns": {"ACQUIRED": "zero"}})


def test_lookback_must_be_positive():
    with pytest.raises(ValueError, match="seed_lookback_sessions"):
        CuratorSettings.from_config({"seed_lookback_sessions": 0})

"""Specification of the portfolio's risk limits (configs/portfolio.yml, trademl.portfolio.RiskConfig)."""

from __future__ import annotations

import dataclasses

import pytest

from trademl.config import load_config
from trademl.portfolio import RiskConfig, risk_config


def test_repository_config_loads_with_the_ssot_defaults():
    cfg = risk_config()
    assert (cfg.per_name_cap, cfg.gross_cap, cfg.vol_target, cfg.kelly_fraction) == (0.05, 1.0, 0.10, 0.25)
    assert cfg == RiskConfig.from_config(load_config("portfolio"))


def test_edge_is_the_ic_after_the_haircut(cfg):
    assert dataclasses.replace(cfg, edge_ic=0.04, edge_haircut=0.75).edge == pytest.approx(0.01)


def test_from_config_reads_every_key(risk_doc):
    cfg = RiskConfig.from_config(risk_doc)
    assert cfg.cov_lookback == 60 and cfg.min_history == 20 and cfg.shrinkage == "constant_correlation"
    assert cfg.turnover_limit == 0.5 and cfg.max_short_weight == 0.05 and cfg.short_gross_cap == 0.5
    assert cfg.borrow_cost_bps == 50.0 and cfg.fallback_vol == 0.30 and cfg.edge_ic == 0.02 and cfg.edge_haircut == 0.5


def test_missing_key_is_named(risk_doc):
    del risk_doc["kelly"]["fraction"]
    with pytest.raises(ValueError, match=r"configs/portfolio.yml kelly.fraction is missing"):
        RiskConfig.from_config(risk_doc)


def test_missing_section_is_named(risk_doc):
    del risk_doc["shorts"]
    with pytest.raises(ValueError, match=r"no `shorts:` section"):
        RiskConfig.from_config(risk_doc)


def test_malformed_value_is_named(risk_doc):
    risk_doc["gross_cap"] = "lots"
    with pytest.raises(ValueError, match=r"gross_cap: expected number, got 'lots'"):
        RiskConfig.from_config(risk_doc)


def test_fractional_lookback_is_rejected(risk_doc):
    risk_doc["covariance"]["lookback_sessions"] = 60.5
    with pytest.raises(ValueError, match=r"covariance.lookback_sessions: expected integer"):
        RiskConfig.from_config(risk_doc)


def test_negative_per_name_cap_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"per_name_cap must be in \(0, 1\]"):
        dataclasses.replace(cfg, per_name_cap=-0.05)


def test_per_name_cap_above_gross_cap_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"per_name_cap must not exceed gross_cap"):
        dataclasses.replace(cfg, per_name_cap=0.6, gross_cap=0.5, short_gross_cap=0.5)


def test_kelly_multiplier_above_full_kelly_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"kelly.fraction must be in \(0, 1\]"):
        dataclasses.replace(cfg, kelly_fraction=1.5)


def test_short_weight_above_the_per_name_cap_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"shorts.max_short_weight must be in \(0, per_name_cap=0.05\]"):
        dataclasses.replace(cfg, max_short_weight=0.08)


def test_short_gross_cap_above_gross_cap_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"shorts.short_gross_cap must be in \(0, gross_cap=1.0\]"):
        dataclasses.replace(cfg, short_gross_cap=1.2)


def test_unknown_shrinkage_target_is_rejected(risk_doc):
    risk_doc["covariance"]["shrinkage"] = "identity"
    with pytest.raises(ValueError, match=r"covariance.shrinkage must be one of constant_correlation, diagonal"):
        RiskConfig.from_config(risk_doc)


def test_lookback_shorter_than_min_history_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"covariance.lookback_sessions must be >= covariance.min_history"):
        dataclasses.replace(cfg, cov_lookback=10)


def test_zero_turnover_limit_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"turnover_limit must be > 0"):
        dataclasses.replace(cfg, turnover_limit=0.0)


def test_vol_target_given_in_percent_is_rejected(cfg):
    with pytest.raises(ValueError, match=r"vol_target must be an annualised vol in \(0, 1\]"):
        dataclasses.replace(cfg, vol_target=10.0)

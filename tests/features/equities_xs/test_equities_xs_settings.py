"""EquitiesXsConfig: the shipped config, validation errors, params_hash, lookback, metadata rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from trademl.config import load_config
from trademl.features.equities_xs import (
    EquitiesXsConfig,
    equities_xs_config,
    feature_metadata_rows,
    feature_set_info,
    lookback_sessions,
)
from trademl.schemas import conform
from trademl.schemas.features import EQUITIES_XS_CONTINUOUS, EQUITIES_XS_FEATURES, FEATURE_METADATA


def shipped() -> dict:
    return dict(load_config("features/equities_xs")["equities_xs"])


def test_shipped_config_is_the_v1_defaults():
    assert equities_xs_config() == EquitiesXsConfig()
    assert EquitiesXsConfig.from_config(shipped()).continuous_features() == EQUITIES_XS_CONTINUOUS


def test_lookback_is_the_longest_momentum_window_plus_one_session():
    assert lookback_sessions(EquitiesXsConfig()) == 127


def test_lookback_grows_with_a_longer_volatility_window():
    cfg = EquitiesXsConfig.from_config({**shipped(), "version": "v2", "rv_windows": [20, 200]})
    assert lookback_sessions(cfg) == 201


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clip": 0}, "clip must be a number > 0"),
        ({"clip": "3"}, "clip must be a number > 0"),
        ({"min_fraction": 0.0}, "min_fraction must be in \\(0, 1\\]"),
        ({"min_fraction": 1.5}, "min_fraction must be in \\(0, 1\\]"),
        ({"gap_window": 0}, "gap_window must be an integer >= 1"),
        ({"liquidity_window": 2.5}, "liquidity_window must be an integer >= 1"),
        ({"momentum_windows": [5, 5, 60, 126]}, "momentum_windows must be distinct integers"),
        ({"momentum_windows": 5}, "momentum_windows must be a list"),
        ({"version": "v2", "rv_windows": [1]}, "rv_windows need at least 2 sessions"),
        ({"momentum_windows": [5, 20, 60, 250]}, "version v1 fixes the column set"),
        ({"version": ""}, "version must be a non-empty string"),
        ({"lookback": 3}, "unknown keys \\['lookback'\\]"),
    ],
)
def test_invalid_config_values_are_rejected_with_the_reason(change, message):
    with pytest.raises(ValueError, match=message):
        EquitiesXsConfig.from_config({**shipped(), **change})


def test_a_missing_key_is_named():
    doc = shipped()
    del doc["clip"]
    with pytest.raises(ValueError, match="missing \\['clip'\\]"):
        EquitiesXsConfig.from_config(doc)


def test_params_hash_is_stable_and_changes_with_any_parameter():
    a, b = EquitiesXsConfig.from_config(shipped()), EquitiesXsConfig()
    assert a.params_hash == b.params_hash and len(a.params_hash) == 64
    assert EquitiesXsConfig.from_config({**shipped(), "clip": 2.5}).params_hash != a.params_hash
    assert EquitiesXsConfig.from_config({**shipped(), "min_fraction": 0.5}).params_hash != a.params_hash


def test_min_periods_rounds_the_fraction_of_the_window_up():
    cfg = EquitiesXsConfig.from_config({**shipped(), "min_fraction": 0.75})
    assert [cfg.min_periods(20), cfg.min_periods(5), cfg.min_periods(1), cfg.min_periods(1, 2)] == [15, 4, 1, 2]


def test_metadata_rows_name_every_output_feature_with_its_parameters():
    created = pd.Timestamp("2026-03-02T23:30:00", tz="America/New_York")  # 04:30 UTC on the 3rd
    rows = feature_metadata_rows(EquitiesXsConfig(), "abc123", created)
    assert list(rows.columns) == list(FEATURE_METADATA.schema.names)
    assert rows["feature"].tolist() == list(EQUITIES_XS_FEATURES)
    assert set(rows["params_hash"]) == {EquitiesXsConfig().params_hash}
    assert set(rows["date"]) == {pd.Timestamp("2026-03-03").date()}
    mom = json.loads(rows.set_index("feature").loc["feat_rv_20", "params"])
    assert mom == {"raw": "rv_20", "unit": "sessions", "window": 20, "min_periods": 15, "annualization": 252,
                   "standardize": "cross_sectional_zscore", "ddof": 0, "clip": 3.0}  # fmt: skip
    assert conform(FEATURE_METADATA.name, rows).num_rows == len(EQUITIES_XS_FEATURES)


def test_feature_set_info_summarises_version_hash_columns_and_lookback():
    info = feature_set_info(EquitiesXsConfig())
    assert info["feature_set"] == "equities_xs" and info["version"] == "v1"
    assert info["features"] == list(EQUITIES_XS_FEATURES)
    assert info["lookback_sessions"] == 127 and info["params"]["momentum_windows"] == [5, 20, 60, 126]

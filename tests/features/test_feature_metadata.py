"""features/feature_metadata rows: one per output column, recorded once per recipe and code version."""

from __future__ import annotations

import json

import pandas as pd

from trademl.data.lake import Lake
from trademl.features.feature_metadata import code_version, indicator_metadata_rows, store_feature_metadata
from trademl.features.indicators import load_indicator_set

NOW = pd.Timestamp("2026-12-04 12:00", tz="UTC")


def test_one_row_per_output_column_with_its_indicator_parameters():
    minimal = load_indicator_set("minimal")
    rows = indicator_metadata_rows(minimal, code="0.1.0+abc", created_at=NOW)
    assert rows["feature"].tolist() == minimal.output_columns()
    assert set(rows["feature_set"]) == {"indicators_minimal"} and rows["params_hash"].nunique() == 1
    sma = json.loads(rows.loc[rows["feature"] == "sma_20", "params"].iloc[0])
    assert sma == {"indicator": "sma", "version": 1, "period": 20}


def test_a_changed_recipe_changes_the_params_hash():
    minimal = load_indicator_set("minimal")
    changed = minimal.model_copy(update={"indicators": [minimal.indicators[0].model_copy(update={"params": {"period": 50}}), *minimal.indicators[1:]]})
    a = indicator_metadata_rows(minimal, code="x", created_at=NOW)["params_hash"].iloc[0]
    b = indicator_metadata_rows(changed, code="x", created_at=NOW)["params_hash"].iloc[0]
    assert a != b


def test_recording_the_same_rows_twice_writes_once(tmp_path):
    lake = Lake(tmp_path / "lake")
    rows = indicator_metadata_rows(load_indicator_set("minimal"), code="0.1.0+abc", created_at=NOW)
    assert store_feature_metadata(lake, rows) == len(rows)
    later = indicator_metadata_rows(load_indicator_set("minimal"), code="0.1.0+abc", created_at=NOW + pd.Timedelta(days=3))
    assert store_feature_metadata(lake, later) == 0
    newer_code = indicator_metadata_rows(load_indicator_set("minimal"), code="0.1.0+def", created_at=NOW)
    assert store_feature_metadata(lake, newer_code) == len(rows)
    stored = lake.read("features/feature_metadata").to_pandas()
    assert len(stored) == 2 * len(rows) and set(stored["code_version"]) == {"0.1.0+abc", "0.1.0+def"}


def test_code_version_names_the_package_version():
    assert code_version().startswith("0.1.0+")

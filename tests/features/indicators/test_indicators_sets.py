"""IndicatorSpec / IndicatorSet: YAML loading from configs/indicator_sets and validation errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from indicator_bars import make_bars
from pydantic import ValidationError

from trademl.features.indicators import (
    IndicatorSet,
    IndicatorSpec,
    UnknownIndicatorError,
    compute_indicator_set,
    default_registry,
    get_indicator,
    indicator_sets_dir,
    load_indicator_set,
)


def _write(tmp_path: Path, text: str, name: str = "custom") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_set_holds_every_builtin_once() -> None:
    indicator_set = load_indicator_set("default")
    names = [spec.name for spec in indicator_set.indicators]
    assert sorted(names) == default_registry().names()
    assert indicator_set.name == "default" and indicator_set.version == 1


def test_default_set_uses_the_contract_column_names() -> None:
    columns = load_indicator_set("default").output_columns()
    for expected in ("rsi_14", "williams_r_14", "macd", "macd_signal", "macd_hist", "bb_upper_20", "bb_middle_20",
                     "bb_lower_20", "stoch_k", "stoch_d", "atr_14", "obv", "vol_ratio_60", "atr_ratio_15",
                     "return_z_score_20", "vol_adj_mom_20", "time_sin", "time_cos", "day_of_week_sin"):  # fmt: skip
        assert expected in columns
    assert len(columns) == len(set(columns))


def test_minimal_set_is_small_and_runs_on_date_only_daily_bars() -> None:
    indicator_set = load_indicator_set("minimal")
    assert indicator_set.output_columns() == ["sma_20", "rsi_14", "atr_14", "log_return_1"]
    bars = make_bars(60, seed=1)
    bars["date"] = bars.pop("ts").dt.date
    result = compute_indicator_set(bars, indicator_set)
    expected_rsi = get_indicator("rsi")(period=14).calculate(bars)["rsi_14"]
    np.testing.assert_array_equal(result["rsi_14"].to_numpy(), expected_rsi.to_numpy())


def test_sets_directory_follows_the_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "indicator_sets").mkdir()
    _write(tmp_path / "indicator_sets", "name: mine\nversion: 3\nindicators:\n  - {name: obv}\n", name="mine")
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(tmp_path))
    assert indicator_sets_dir() == tmp_path / "indicator_sets"
    assert load_indicator_set("mine").version == 3


def test_load_by_path_and_by_name_from_a_directory(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: custom\nversion: 2\nindicators:\n  - {name: ema, params: {period: 9}}\n")
    by_path = load_indicator_set(path)
    by_name = load_indicator_set("custom", directory=tmp_path)
    assert by_path == by_name
    assert by_path.output_columns() == ["ema_9"]


def test_unknown_indicator_in_a_set_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nversion: 1\nindicators:\n  - {name: rsx}\n")
    with pytest.raises(UnknownIndicatorError, match="'rsx'.*known indicators"):
        load_indicator_set(path)


def test_invalid_parameter_value_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nversion: 1\nindicators:\n  - {name: rsi, params: {period: -3}}\n")
    with pytest.raises(ValueError, match="period must be >= 2, got -3"):
        load_indicator_set(path)


def test_unknown_parameter_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nversion: 1\nindicators:\n  - {name: rsi, params: {length: 14}}\n")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['length'\]"):
        load_indicator_set(path)


def test_version_mismatch_fails_at_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nversion: 1\nindicators:\n  - {name: rsi, version: 2}\n")
    with pytest.raises(ValueError, match="asks for version 2 but version 1 is implemented"):
        load_indicator_set(path)


def test_two_indicators_writing_one_column_fail_at_load(tmp_path: Path) -> None:
    text = "name: x\nversion: 1\nindicators:\n  - {name: macd}\n  - {name: macd, params: {fast: 5, slow: 35}}\n"
    with pytest.raises(ValueError, match="output column 'macd' is produced by both"):
        load_indicator_set(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("version: 1\nindicators:\n  - {name: rsi}\n", "name"),
        ("name: x\nindicators:\n  - {name: rsi}\n", "version"),
        ("name: x\nversion: 0\nindicators:\n  - {name: rsi}\n", "version"),
        ("name: x\nversion: 1\nindicators: []\n", "indicators"),
        ("name: x\nversion: 1\ncolour: red\nindicators:\n  - {name: rsi}\n", "colour"),
        ("name: x\nversion: 1\nindicators:\n  - {name: rsi, window: 3}\n", "window"),
        ("name: x\nversion: 1\nindicators:\n  - {params: {period: 3}}\n", "name"),
    ],
)
def test_malformed_set_is_a_validation_error_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        load_indicator_set(_write(tmp_path, text))


def test_yaml_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be a YAML mapping"):
        load_indicator_set(_write(tmp_path, "- rsi\n- macd\n"))


def test_invalid_yaml_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not valid YAML"):
        load_indicator_set(_write(tmp_path, "name: [unclosed\n"))


def test_missing_set_file_lists_available_sets(tmp_path: Path) -> None:
    _write(tmp_path, "name: a\nversion: 1\nindicators:\n  - {name: obv}\n", name="present")
    with pytest.raises(FileNotFoundError, match=r"absent\.yml.*\['present'\]"):
        load_indicator_set("absent", directory=tmp_path)


def test_spec_builds_its_indicator_with_params() -> None:
    indicator = IndicatorSpec(name="bbands", params={"period": 10, "nbdev_up": 1.5}).build()
    assert indicator.output_columns == ("bb_upper_10", "bb_middle_10", "bb_lower_10")
    assert indicator.params == {"period": 10, "nbdev_up": 1.5, "nbdev_dn": 2.0}


def test_spec_is_immutable() -> None:
    spec = IndicatorSpec(name="rsi")
    with pytest.raises(ValidationError):
        spec.name = "macd"


def test_set_computes_its_columns_in_set_order() -> None:
    indicator_set = IndicatorSet(
        name="pair", version=1, indicators=[IndicatorSpec(name="roc", params={"period": 3}), IndicatorSpec(name="ibs")]
    )
    bars = make_bars(30, seed=8)
    result = compute_indicator_set(bars, indicator_set)
    assert list(result.columns) == ["roc_3", "ibs"]
    close = bars["close"].to_numpy()
    np.testing.assert_allclose(result["roc_3"].to_numpy()[3:], 100 * (close[3:] / close[:-3] - 1), rtol=1e-12)

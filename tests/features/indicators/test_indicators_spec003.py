"""Spec 003 features equal their written formulas (independent pandas references) and known values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from indicator_bars import assert_same_values, make_bars, make_panel
from spec003_reference import SPEC003_CASES, SPEC003_REFERENCES, spec003_expected, spec003_id

from trademl.features.indicators import default_registry, get_indicator

RTOL = 1e-9
ATOL = 1e-12


def _bars_with_halts() -> pd.DataFrame:
    """Random walk with zero-volume bars, flat (high == low) bars and a repeated close."""
    bars = make_bars(300, seed=17)
    bars.loc[[40, 41, 42, 120], "volume"] = 0.0
    for row in (60, 61, 200):
        bars.loc[row, ["open", "high", "low", "close"]] = bars.loc[row - 1, "close"]
    bars.loc[150:160, "close"] = bars.loc[149, "close"]
    bars.loc[150:160, "high"] = bars.loc[150:160, ["high", "close"]].max(axis=1)
    bars.loc[150:160, "low"] = bars.loc[150:160, ["low", "close"]].min(axis=1)
    return bars


def test_every_spec003_feature_is_registered_with_a_reference() -> None:
    registered = set(default_registry().names())
    assert set(SPEC003_REFERENCES) <= registered
    assert {name for name, _ in SPEC003_CASES} == set(SPEC003_REFERENCES)


@pytest.mark.parametrize("case", SPEC003_CASES, ids=spec003_id)
def test_feature_matches_its_formula_on_random_walk(case) -> None:
    bars = make_bars(400, seed=23)
    name, params = case
    result = get_indicator(name)(**params).calculate(bars)
    expected = spec003_expected(case, bars)
    assert list(result.columns) == list(expected)
    for column, values in expected.items():
        assert np.isfinite(values).sum() > 300
        assert_same_values(result[column].to_numpy(), values, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", SPEC003_CASES, ids=spec003_id)
def test_feature_matches_its_formula_through_zero_volume_and_flat_bars(case) -> None:
    bars = _bars_with_halts()
    name, params = case
    result = get_indicator(name)(**params).calculate(bars)
    for column, values in spec003_expected(case, bars).items():
        assert_same_values(result[column].to_numpy(), values, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", SPEC003_CASES, ids=spec003_id)
def test_feature_matches_its_formula_per_symbol_on_a_ragged_panel(case) -> None:
    lengths = {"AAA": 150, "BBB": 70, "CCC": 333, "DDD": 4}
    panel = make_panel(lengths, seed=4)
    name, params = case
    result = get_indicator(name)(**params).calculate(panel)
    for symbol in lengths:
        rows = panel.index[panel["symbol"] == symbol]
        for column, values in spec003_expected(case, panel.loc[rows]).items():
            assert_same_values(result.loc[rows, column].to_numpy(), values, rtol=RTOL, atol=ATOL)


def test_dist_vwap_uses_the_vwap_column_when_present() -> None:
    bars = make_bars(120, seed=2)
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3.0
    bars["vwap"] = typical * 1.001
    with_vwap = get_indicator("dist_vwap")(period=10).calculate(bars)["dist_vwap_10"]
    expected = spec003_expected(("dist_vwap", {"period": 10}), bars)["dist_vwap_10"]
    assert_same_values(with_vwap.to_numpy(), expected, rtol=RTOL)
    without_vwap = get_indicator("dist_vwap")(period=10).calculate(bars.drop(columns="vwap"))["dist_vwap_10"]
    assert not np.allclose(with_vwap.to_numpy()[9:], without_vwap.to_numpy()[9:])


def test_ibs_hand_computed_values() -> None:
    bars = pd.DataFrame(
        {"high": [10.0, 12.0, 5.0], "low": [8.0, 10.0, 5.0], "close": [9.5, 10.0, 5.0], "volume": [1.0, 1.0, 1.0]}
    )
    result = get_indicator("ibs")().calculate(bars)["ibs"].to_numpy()
    np.testing.assert_allclose(result, [0.75, 0.0, 0.5])


def test_efficiency_ratio_is_one_for_a_straight_line_and_zero_when_flat() -> None:
    close = np.r_[np.linspace(10.0, 20.0, 15), np.full(15, 20.0)]
    bars = pd.DataFrame({"close": close})
    result = get_indicator("efficiency_ratio")(period=5).calculate(bars)["efficiency_ratio_5"].to_numpy()
    assert np.all(np.isnan(result[:5]))
    np.testing.assert_allclose(result[5:15], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(result[20:], 0.0)


def test_efficiency_ratio_of_a_zigzag_is_net_over_path() -> None:
    close = np.array([10.0, 11.0, 10.0, 11.0, 10.0, 12.0])
    result = get_indicator("efficiency_ratio")(period=5).calculate(pd.DataFrame({"close": close}))
    assert result["efficiency_ratio_5"].iloc[5] == pytest.approx(2.0 / 6.0)


def test_parkinson_vol_of_constant_range_is_log_range_over_two_root_ln2() -> None:
    high = np.full(30, 101.0)
    low = np.full(30, 99.0)
    bars = pd.DataFrame({"high": high, "low": low})
    result = get_indicator("parkinson_vol")(period=10).calculate(bars)["parkinson_vol_10"].to_numpy()
    expected = math.log(101.0 / 99.0) / (2.0 * math.sqrt(math.log(2.0)))
    np.testing.assert_allclose(result[9:], expected, rtol=1e-12)


def test_amihud_skips_zero_volume_bars_and_scales_per_million() -> None:
    bars = pd.DataFrame({"close": [10.0, 11.0, 11.0, 9.9], "volume": [100.0, 1000.0, 0.0, 500.0]})
    result = get_indicator("amihud_illiquidity")(period=3).calculate(bars)["amihud_illiquidity_3"].to_numpy()
    first = 0.1 / (11.0 * 1000.0)
    last = 0.1 / (9.9 * 500.0)
    assert np.all(np.isnan(result[:3]))
    assert result[3] == pytest.approx((first + last) / 2 * 1e6)


def test_time_of_day_encodes_new_york_wall_clock_across_dst() -> None:
    ts = pd.to_datetime(["2024-03-08 14:30", "2024-03-11 13:30", "2024-03-11 20:59"], utc=True)
    bars = pd.DataFrame({"ts": ts, "close": [1.0, 1.0, 1.0]})
    result = get_indicator("time_of_day")(timezone="America/New_York").calculate(bars)
    minutes = np.array([9 * 60 + 30, 9 * 60 + 30, 16 * 60 + 59])  # EST then EDT: both opens are 09:30
    np.testing.assert_allclose(result["time_sin"], np.sin(2 * np.pi * minutes / 1440), atol=1e-15)
    np.testing.assert_allclose(result["time_cos"], np.cos(2 * np.pi * minutes / 1440), atol=1e-15)


def test_day_of_week_monday_is_zero_angle_from_a_date_column() -> None:
    dates = pd.date_range("2024-01-01", periods=7, freq="D")  # Monday .. Sunday
    bars = pd.DataFrame({"date": dates.date, "close": np.ones(7)})
    result = get_indicator("day_of_week")().calculate(bars)
    angles = 2 * np.pi * np.arange(7) / 7
    np.testing.assert_allclose(result["day_of_week_sin"], np.sin(angles), atol=1e-15)
    np.testing.assert_allclose(result["day_of_week_cos"], np.cos(angles), atol=1e-15)
    assert result["day_of_week_sin"].iloc[0] == 0.0 and result["day_of_week_cos"].iloc[0] == 1.0

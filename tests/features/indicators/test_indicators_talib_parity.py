"""Every TA-Lib built-in equals TA-Lib's output (same warm-up NaNs, values to 1e-9) on synthetic bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from indicator_bars import assert_same_values, make_bars, make_panel
from talib_reference import TALIB_BUILTINS, TALIB_CASES, case_id, reference_columns

from trademl.features.indicators import default_registry, get_indicator

RTOL = 1e-9
ATOL = 1e-9


def _arrays(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: bars[name].to_numpy(np.float64) for name in ("open", "high", "low", "close", "volume")}


def _edge_case_bars() -> pd.DataFrame:
    """Random walk with a 30-bar halt (flat OHLC, zero volume) and a 10-bar constant-close stretch."""
    bars = make_bars(400, seed=11)
    halt = slice(150, 180)
    price = bars.loc[149, "close"]
    for column in ("open", "high", "low", "close"):
        bars.loc[halt, column] = price
    bars.loc[halt, "volume"] = 0.0
    bars.loc[250:259, "close"] = bars.loc[249, "close"]
    bars.loc[250:259, "high"] = np.maximum(bars.loc[250:259, "high"], bars.loc[249, "close"])
    bars.loc[250:259, "low"] = np.minimum(bars.loc[250:259, "low"], bars.loc[249, "close"])
    return bars


def test_every_talib_builtin_has_a_reference_case() -> None:
    registered = set(default_registry().names())
    expected = {"sma", "ema", "wma", "rsi", "macd", "bbands", "atr", "natr", "adx", "cci", "mfi", "roc", "stoch", "williams_r", "obv"}
    assert expected <= registered
    assert TALIB_BUILTINS == expected


@pytest.mark.parametrize("case", TALIB_CASES, ids=case_id)
def test_builtin_matches_talib_on_random_walk(case) -> None:
    bars = make_bars(600, seed=3)
    name, params, _ = case
    result = get_indicator(name)(**params).calculate(bars)
    expected = reference_columns(case, _arrays(bars))
    assert list(result.columns) == list(expected)
    for column, values in expected.items():
        assert np.isfinite(values).sum() > 400, "reference should be mostly past its warm-up"
        assert_same_values(result[column].to_numpy(), values, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", TALIB_CASES, ids=case_id)
def test_builtin_matches_talib_through_halts_and_flat_stretches(case) -> None:
    bars = _edge_case_bars()
    name, params, _ = case
    result = get_indicator(name)(**params).calculate(bars)
    for column, values in reference_columns(case, _arrays(bars)).items():
        assert_same_values(result[column].to_numpy(), values, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", TALIB_CASES, ids=case_id)
def test_builtin_matches_talib_after_leading_missing_bars(case) -> None:
    bars = make_bars(300, seed=5)
    bars.loc[:6, ["open", "high", "low", "close", "volume"]] = np.nan
    name, params, _ = case
    result = get_indicator(name)(**params).calculate(bars)
    for column, values in reference_columns(case, _arrays(bars)).items():
        assert_same_values(result[column].to_numpy(), values, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", TALIB_CASES, ids=case_id)
def test_builtin_matches_talib_per_symbol_on_a_ragged_panel(case) -> None:
    lengths = {"AAA": 260, "BBB": 40, "CCC": 520, "DDD": 3}
    panel = make_panel(lengths, seed=9)
    name, params, _ = case
    result = get_indicator(name)(**params).calculate(panel)
    for symbol in lengths:
        rows = panel.index[panel["symbol"] == symbol]
        expected = reference_columns(case, _arrays(panel.loc[rows]))
        for column, values in expected.items():
            assert_same_values(result.loc[rows, column].to_numpy(), values, rtol=RTOL, atol=ATOL)


def test_talib_price_scale_does_not_loosen_agreement() -> None:
    """At BRK.A-like price levels (~1e5) the rolling sums must not drift away from TA-Lib."""
    bars = make_bars(2_000, seed=21)
    for column in ("open", "high", "low", "close"):
        bars[column] *= 5_000.0
    arrays = _arrays(bars)
    for case in TALIB_CASES:
        name, params, _ = case
        result = get_indicator(name)(**params).calculate(bars)
        for column, values in reference_columns(case, arrays).items():
            assert_same_values(result[column].to_numpy(), values, rtol=1e-9, atol=1e-6)

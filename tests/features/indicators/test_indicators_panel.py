"""Multi-symbol panels: result == per-symbol results concatenated; no leakage between symbols."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from indicator_bars import make_bars, make_panel

from trademl.features.indicators import compute_indicator_set, default_registry, get_indicator, load_indicator_set

ALL_NAMES = default_registry().names()
LENGTHS = {"AAA": 300, "BBB": 45, "CCC": 610, "DDD": 2, "EEE": 300}


def _per_symbol(indicator, panel: pd.DataFrame) -> pd.DataFrame:
    parts = [indicator.calculate(group.drop(columns="symbol")) for _, group in panel.groupby("symbol", sort=False)]
    return pd.concat(parts).loc[panel.index]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_panel_equals_per_symbol_concatenation(name: str) -> None:
    panel = make_panel(LENGTHS, seed=31)
    indicator = get_indicator(name)()
    pd.testing.assert_frame_equal(indicator.calculate(panel), _per_symbol(indicator, panel), check_exact=True)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_changing_one_symbol_never_changes_another(name: str) -> None:
    panel = make_panel(LENGTHS, seed=32)
    indicator = get_indicator(name)()
    before = indicator.calculate(panel)
    changed = panel.copy()
    rows = changed["symbol"] == "BBB"
    changed.loc[rows, ["open", "high", "low", "close"]] *= 3.0
    changed.loc[rows, "volume"] = changed.loc[rows, "volume"][::-1].to_numpy()
    changed.loc[rows, "ts"] = changed.loc[rows, "ts"] + pd.Timedelta(hours=3)
    after = indicator.calculate(changed)
    pd.testing.assert_frame_equal(after.loc[~rows], before.loc[~rows], check_exact=True)


def test_default_set_on_panel_equals_each_indicator_alone() -> None:
    panel = make_panel(LENGTHS, seed=33)
    indicator_set = load_indicator_set("default")
    together = compute_indicator_set(panel, indicator_set)
    alone = pd.concat([indicator.calculate(panel) for indicator in indicator_set.build()], axis=1)
    assert list(together.columns) == indicator_set.output_columns()
    pd.testing.assert_frame_equal(together, alone, check_exact=True)


@pytest.mark.parametrize("max_block_cells", [1, 700, 5_000, 1 << 20])
def test_block_size_never_changes_results(max_block_cells: int) -> None:
    panel = make_panel(LENGTHS, seed=34)
    indicator_set = load_indicator_set("default")
    reference = compute_indicator_set(panel, indicator_set, max_block_cells=1 << 15)
    result = compute_indicator_set(panel, indicator_set, max_block_cells=max_block_cells)
    pd.testing.assert_frame_equal(result, reference, check_exact=True)


def test_result_keeps_the_panel_index() -> None:
    panel = make_panel({"AAA": 50, "BBB": 60}, seed=35)
    panel.index = pd.RangeIndex(1000, 1110)
    result = get_indicator("rsi")(period=5).calculate(panel)
    assert result.index.equals(panel.index)


def test_symbols_need_not_be_sorted_alphabetically_only_contiguous() -> None:
    panel = make_panel({"ZZZ": 80, "AAA": 90}, seed=36)
    result = get_indicator("ema")(period=10).calculate(panel)
    for symbol in ("ZZZ", "AAA"):
        rows = panel["symbol"] == symbol
        alone = get_indicator("ema")(period=10).calculate(panel.loc[rows].drop(columns="symbol"))
        np.testing.assert_array_equal(result.loc[rows, "ema_10"].to_numpy(), alone["ema_10"].to_numpy())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lengths=st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=6),
    seed=st.integers(min_value=0, max_value=10_000),
    block_cells=st.sampled_from([1, 64, 1000, 1 << 15]),
)
def test_property_default_set_on_random_panel_equals_per_symbol(lengths: list[int], seed: int, block_cells: int) -> None:
    panel = make_panel({f"S{i}": n for i, n in enumerate(lengths)}, seed=seed)
    indicator_set = load_indicator_set("default")
    result = compute_indicator_set(panel, indicator_set, max_block_cells=block_cells)
    for symbol, group in panel.groupby("symbol", sort=False):
        alone = compute_indicator_set(group.drop(columns="symbol").reset_index(drop=True), indicator_set)
        np.testing.assert_array_equal(result.loc[group.index].to_numpy(), alone.to_numpy(), err_msg=symbol)


def test_single_symbol_frame_without_symbol_column_is_one_symbol() -> None:
    bars = make_bars(100, seed=37)
    with_symbol = bars.assign(symbol="X")
    indicator = get_indicator("adx")()
    pd.testing.assert_frame_equal(indicator.calculate(bars), indicator.calculate(with_symbol), check_exact=True)

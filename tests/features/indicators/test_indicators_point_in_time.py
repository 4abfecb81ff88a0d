"""Point in time (SSOT 7.2): perturbing bars strictly after t changes no output at or before t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from indicator_bars import make_bars, make_panel

from trademl.features.indicators import (
    BarBlock,
    BarIndicator,
    compute_indicator_set,
    default_registry,
    get_indicator,
    load_indicator_set,
)

ALL_NAMES = default_registry().names()
PRICE_COLUMNS = ["open", "high", "low", "close"]


def _perturb_after(bars: pd.DataFrame, after: pd.Series, seed: int) -> pd.DataFrame:
    """Rescale prices, reshuffle volumes, blank a few bars and delay the stamps of rows in ``after``."""
    rng = np.random.default_rng(seed)
    changed = bars.copy()
    n = int(after.sum())
    if n == 0:
        return changed
    changed.loc[after, PRICE_COLUMNS] = changed.loc[after, PRICE_COLUMNS].to_numpy() * rng.uniform(0.2, 5.0, (n, 1))
    changed.loc[after, "volume"] = rng.permutation(changed.loc[after, "volume"].to_numpy()) * 7.0
    blank = after & (rng.random(len(changed)) < 0.1)
    changed.loc[blank, PRICE_COLUMNS + ["volume"]] = np.nan
    changed.loc[after, "ts"] = changed.loc[after, "ts"] + pd.Timedelta(minutes=37)
    return changed


class _NextCloseLeak(BarIndicator):
    """A deliberately leaky feature (tomorrow's close), to prove the PIT check can fail."""

    name = "next_close_leak"
    inputs = ("close",)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("next_close",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close = block.column("close")
        out = np.full(block.shape, np.nan)
        out[:, :-1] = close[:, 1:]
        return {"next_close": out}


def _past_outputs_changed(indicator, bars: pd.DataFrame, t: int) -> bool:
    before = indicator.calculate(bars)
    after_t = pd.Series(np.arange(len(bars)) > t, index=bars.index)
    after = indicator.calculate(_perturb_after(bars, after_t, seed=t))
    past_before, past_after = before.iloc[: t + 1].to_numpy(), after.iloc[: t + 1].to_numpy()
    return not np.array_equal(past_before, past_after, equal_nan=True)


@pytest.mark.parametrize("t", [0, 25, 140, 298])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_future_bars_do_not_change_past_outputs(name: str, t: int) -> None:
    bars = make_bars(300, seed=41)
    assert not _past_outputs_changed(get_indicator(name)(), bars, t)


def test_pit_check_detects_a_leaky_indicator() -> None:
    bars = make_bars(300, seed=41)
    assert _past_outputs_changed(_NextCloseLeak(), bars, 140)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_truncated_history_reproduces_the_past(name: str) -> None:
    """Values computed when only bars <= t existed equal the values later computed with more history."""
    bars = make_bars(260, seed=42)
    indicator = get_indicator(name)()
    full = indicator.calculate(bars)
    for t in (10, 100, 201):
        truncated = indicator.calculate(bars.iloc[: t + 1])
        pd.testing.assert_frame_equal(truncated, full.iloc[: t + 1], check_exact=False, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lengths=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=4),
    cut=st.integers(min_value=0, max_value=95),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_property_default_set_is_point_in_time_on_random_panels(lengths: list[int], cut: int, seed: int) -> None:
    panel = make_panel({f"S{i}": n for i, n in enumerate(lengths)}, seed=seed)
    t = pd.Timestamp("2020-01-02 16:00", tz="America/New_York").tz_convert("UTC") + pd.Timedelta(days=cut)
    after_t = panel["ts"] > t
    indicator_set = load_indicator_set("default")
    before = compute_indicator_set(panel, indicator_set)
    after = compute_indicator_set(_perturb_after(panel, after_t, seed), indicator_set)
    kept = ~after_t
    np.testing.assert_array_equal(after.loc[kept].to_numpy(), before.loc[kept].to_numpy())

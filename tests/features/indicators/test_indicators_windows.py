"""Trailing-window primitives: both code paths (lag fold, van Herk blocks) equal pandas rolling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trademl.features.indicators.smoothing import ema, wilder_average
from trademl.features.indicators.windows import (
    LAG_LOOP_MAX_WINDOW,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    rolling_sum,
    rolling_var,
)

WINDOWS = [2, 5, LAG_LOOP_MAX_WINDOW, LAG_LOOP_MAX_WINDOW + 1, 60, 200]


def _rows(seed: int = 0) -> np.ndarray:
    """Three independent rows: a price walk, one with NaN holes, one with a long all-zero stretch."""
    rng = np.random.default_rng(seed)
    rows = np.vstack([100 * np.exp(np.cumsum(rng.normal(0, 0.02, (3, 700)), axis=1))])
    rows[1, [3, 250, 251, 600]] = np.nan
    rows[2, 100:400] = 0.0
    return rows


def _pandas(rows: np.ndarray, window: int, statistic: str, **kwargs) -> np.ndarray:
    return np.vstack([getattr(pd.Series(row).rolling(window), statistic)(**kwargs).to_numpy() for row in rows])


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize(
    ("function", "statistic"),
    [(rolling_sum, "sum"), (rolling_mean, "mean"), (rolling_max, "max"), (rolling_min, "min")],
)
def test_rolling_statistic_equals_pandas(function, statistic: str, window: int) -> None:
    rows = _rows()
    expected = _pandas(rows, window, statistic)
    actual = function(rows, window)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual[~np.isnan(expected)], expected[~np.isnan(expected)], rtol=1e-12)


@pytest.mark.parametrize("window", WINDOWS)
def test_rolling_sum_of_an_all_zero_window_is_exactly_zero(window: int) -> None:
    rows = _rows()
    sums = rolling_sum(rows, window)
    assert np.all(sums[2, 100 + window - 1 : 400] == 0.0)


@pytest.mark.parametrize("window", [2, 20, 60])
@pytest.mark.parametrize("ddof", [0, 1])
def test_rolling_var_and_std_equal_two_pass_variance(window: int, ddof: int) -> None:
    """Reference: numpy's two-pass variance of each window (pandas' online update loses digits here)."""
    rows = _rows(1)
    windows = np.lib.stride_tricks.sliding_window_view(rows, window, axis=1)
    expected = np.full(rows.shape, np.nan)
    expected[:, window - 1 :] = np.var(windows, axis=-1, ddof=ddof)
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(rolling_var(rows, window, ddof)[finite], expected[finite], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(rolling_std(rows, window, ddof)[finite], np.sqrt(expected[finite]), rtol=1e-9, atol=1e-9)


def test_rolling_var_of_a_flat_window_is_exactly_zero() -> None:
    rows = np.full((1, 50), 1234.5678)
    assert np.all(rolling_var(rows, 20)[0, 19:] == 0.0)


def test_ema_recursion_matches_its_definition() -> None:
    rows = _rows(2)[:1]
    period, k = 10, 2 / 11
    expected = np.full(rows.shape[1], np.nan)
    expected[period - 1] = rows[0, :period].mean()
    for t in range(period, rows.shape[1]):
        expected[t] = (1 - k) * expected[t - 1] + k * rows[0, t]
    np.testing.assert_allclose(ema(rows, period)[0], expected, rtol=1e-12)


def test_wilder_average_recursion_matches_its_definition() -> None:
    rows = _rows(3)[:1]
    period = 14
    expected = np.full(rows.shape[1], np.nan)
    expected[period - 1] = rows[0, :period].mean()
    for t in range(period, rows.shape[1]):
        expected[t] = (expected[t - 1] * (period - 1) + rows[0, t]) / period
    np.testing.assert_allclose(wilder_average(rows, period)[0], expected, rtol=1e-12)

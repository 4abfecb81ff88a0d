"""Synthetic bar frames for the indicator tests (one symbol or a ragged multi-symbol panel).

Bars are geometric random walks with sane OHLC (low <= open, close <= high) and integer volumes,
stamped at the 16:00 New York close in a UTC ``ts`` column, so every built-in (time_of_day too) runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BAR_COLUMNS = ("open", "high", "low", "close", "volume")


def make_bars(n: int, seed: int = 0, *, start: str = "2020-01-02", sigma: float = 0.02) -> pd.DataFrame:
    """One symbol's ``n`` daily bars (columns ts, open, high, low, close, volume) on a RangeIndex."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    open_ = close * np.exp(rng.normal(0.0, sigma / 3, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, sigma / 2, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, sigma / 2, n)))
    volume = rng.integers(1_000, 200_000, n).astype(np.float64)
    sessions = pd.bdate_range(start, periods=n) + pd.Timedelta(hours=16)
    ts = sessions.tz_localize("America/New_York").tz_convert("UTC")
    return pd.DataFrame({"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume})


def make_panel(lengths: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """A long panel sorted by symbol then ts; symbol i gets ``lengths[symbol]`` bars from its own seed."""
    frames = []
    for offset, (symbol, n) in enumerate(lengths.items()):
        bars = make_bars(n, seed=seed + 1000 * offset, start="2020-01-02")
        bars.insert(0, "symbol", symbol)
        frames.append(bars)
    return pd.concat(frames, ignore_index=True)


def assert_same_values(actual: np.ndarray, expected: np.ndarray, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Equal NaN pattern and values within tolerance (exact by default)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN pattern differs")
    finite = ~np.isnan(expected)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=rtol, atol=atol)

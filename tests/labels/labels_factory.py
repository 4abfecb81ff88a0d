"""Small explicit bar frames and a plain-loop triple-barrier reference for the label tests.

Times are written out in UTC by the tests themselves (e.g. the 2024-11-29 half day closes at
18:00 UTC), so the expected values never come from the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def bars(
    start_utc: str,
    closes: Sequence[float],
    *,
    step_minutes: int = 1,
    symbol: str | None = "AAA",
    **columns: Sequence[float] | float,
) -> pd.DataFrame:
    """Consecutive intraday bars starting at `start_utc`, one every `step_minutes`, with the given closes."""
    n = len(closes)
    ts = pd.date_range(pd.Timestamp(start_utc, tz="UTC"), periods=n, freq=f"{step_minutes}min")
    frame = pd.DataFrame({"ts": ts, "close": np.asarray(closes, dtype="float64")})
    for name, values in columns.items():
        frame[name] = np.broadcast_to(np.asarray(values, dtype="float64"), (n,)).copy()
    if symbol is not None:
        frame.insert(0, "symbol", symbol)
    return frame


def stack(*frames: pd.DataFrame) -> pd.DataFrame:
    """Concatenate bar frames into one frame with a fresh RangeIndex."""
    return pd.concat(frames, ignore_index=True)


def row_at(frame: pd.DataFrame, ts_utc: str, symbol: str | None = None) -> pd.Series:
    """The single row stamped `ts_utc` (and of `symbol` when given)."""
    mask = frame["ts"] == pd.Timestamp(ts_utc, tz="UTC")
    if symbol is not None:
        mask &= frame["symbol"] == symbol
    hit = frame[mask]
    assert len(hit) == 1, f"expected one row at {ts_utc}, found {len(hit)}"
    return hit.iloc[0]


def reference_triple_barrier(
    close: np.ndarray,
    i0: int,
    target: float,
    pt: float,
    sl: float,
    max_holding: int,
    require_full_window: bool = True,
) -> tuple[int, float, float]:
    """One event, walked bar by bar: (touch bar index or -1, return to touch, label)."""
    n = len(close)
    p0 = close[i0]
    if not np.isfinite(target) or np.isnan(p0):
        return -1, np.nan, np.nan
    if require_full_window:
        end = i0 + max_holding
        if end >= n or np.isnan(close[i0 : end + 1]).any():
            return -1, np.nan, np.nan
    for j in range(1, max_holding + 1):
        i = i0 + j
        if i >= n or np.isnan(close[i]):
            return -1, np.nan, np.nan
        r = close[i] / p0 - 1.0
        if pt > 0 and r >= pt * target:
            return i, r, 1.0
        if sl > 0 and r <= -sl * target:
            return i, r, -1.0
    i = i0 + max_holding
    return i, close[i] / p0 - 1.0, 0.0


def random_walk_panel(
    n_bars: int, symbols: Sequence[str], seed: int, start: str = "2020-01-02"
) -> pd.DataFrame:
    """Wide close frame (sessions x symbols) of lognormal random walks."""
    from trademl.calendar import all_sessions_index

    rng = np.random.default_rng(seed)
    sessions = all_sessions_index()
    idx = sessions[sessions.get_indexer([pd.Timestamp(start)])[0] :][:n_bars]
    steps = rng.normal(0.0, 0.015, size=(n_bars, len(symbols)))
    return pd.DataFrame(100.0 * np.exp(np.cumsum(steps, axis=0)), index=idx, columns=list(symbols))

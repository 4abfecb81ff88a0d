"""A long (symbol, date) panel laid on a dense XNYS sessions x symbols grid, with trailing rolling
statistics over the sessions axis.

"k sessions back" is k rows of the grid, whatever bars are missing: a symbol that did not trade on
a session has a NaN cell there, so no window silently reaches further back in time. Rolling sums
are cumulative-sum differences over axis 0 (O(T x N) whatever the window); a window counts its
observed (non-NaN) cells and is NaN below its min-periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl.calendar import all_sessions_index


@dataclass(frozen=True)
class SessionGrid:
    """Where each panel row sits: `t` (session row, 0 = `sessions[0]`) and `s` (symbol column).

    `sessions` are the consecutive XNYS sessions from the panel's first to its last date;
    `first_position` is sessions[0]'s position in the calendar's session index.
    """

    sessions: pd.DatetimeIndex
    symbols: np.ndarray
    t: np.ndarray
    s: np.ndarray
    first_position: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.sessions), len(self.symbols))

    def dense(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """The rows' values as a float64 sessions x symbols array, NaN where the panel has no row."""
        out = np.full(self.shape, np.nan)
        out[self.t, self.s] = np.asarray(values, dtype=np.float64)
        return out

    def present(self) -> np.ndarray:
        """Boolean sessions x symbols array: True where the panel has a row."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.t, self.s] = True
        return out


def session_days(dates: pd.Series | np.ndarray | pd.DatetimeIndex) -> np.ndarray:
    """Dates (datetime64, date objects or strings; time of day and time zone ignored) as int64 days since 1970-01-01."""
    values = dates.to_numpy() if isinstance(dates, (pd.Series, pd.Index)) else np.asarray(dates)
    if values.dtype.kind == "M":
        return values.astype("datetime64[D]").astype(np.int64)
    idx = pd.DatetimeIndex(pd.to_datetime(dates))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.to_numpy().astype("datetime64[D]").astype(np.int64)


def session_grid(symbol: pd.Series, date: pd.Series) -> SessionGrid:
    """The grid of a panel's `symbol` and `date` columns (symbols sorted). Raises ValueError when a
    date is not an XNYS session or a (symbol, date) pair repeats."""
    if len(symbol) == 0:
        raise ValueError("the panel is empty")
    days = session_days(date)
    calendar_days = all_sessions_index().to_numpy().astype("datetime64[D]").astype(np.int64)
    pos = np.searchsorted(calendar_days, days)
    bad = (pos >= len(calendar_days)) | (calendar_days[np.minimum(pos, len(calendar_days) - 1)] != days)
    if bad.any():
        first = np.datetime64(int(days[bad][0]), "D")
        raise ValueError(f"panel date {first} is not an XNYS session")
    first, last = int(pos.min()), int(pos.max())
    codes, symbols = pd.factorize(np.asarray(symbol), sort=True)
    if (codes < 0).any():
        raise ValueError("the panel has rows without a symbol")
    t = (pos - first).astype(np.int64)
    key = t * len(symbols) + codes
    if len(np.unique(key)) != len(key):
        raise ValueError("the panel has repeated (symbol, date) rows")
    sessions = pd.DatetimeIndex(all_sessions_index()[first : last + 1], name="date")
    return SessionGrid(sessions=sessions, symbols=np.asarray(symbols, dtype=object), t=t, s=codes.astype(np.int64), first_position=first)


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """x moved k sessions down (row t holds row t - k), NaN in the first k rows."""
    out = np.full_like(x, np.nan)
    if k < x.shape[0]:
        out[k:] = x[:-k] if k > 0 else x
    return out


def _window_diff(cum: np.ndarray, window: int) -> np.ndarray:
    """Per row t: cum[t + 1] - cum[max(0, t + 1 - window)] of a cumulative array with a zero first row."""
    n = cum.shape[0] - 1
    lo = np.maximum(np.arange(1, n + 1) - window, 0)
    return cum[1:] - cum[lo]


def _cumulative(x: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0] + 1, *x.shape[1:]), dtype=x.dtype)
    np.cumsum(x, axis=0, out=out[1:])
    return out


def rolling_count(x: np.ndarray, window: int) -> np.ndarray:
    """Observed (non-NaN) cells among the last `window` sessions including t."""
    return _window_diff(_cumulative((~np.isnan(x)).astype(np.int64)), window)


def rolling_mean(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Mean of the observed cells among the last `window` sessions including t; NaN below min_periods."""
    n = rolling_count(x, window)
    total = _window_diff(_cumulative(np.where(np.isnan(x), 0.0, x)), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_periods, total / n, np.nan)


def rolling_std(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Sample std (ddof 1) of the observed cells among the last `window` sessions; NaN below
    max(2, min_periods). Each column is first centred on its first observed value (variance is shift
    invariant), which keeps the cumulative-sum differences accurate and uses nothing after t."""
    min_periods = max(2, min_periods)
    observed = ~np.isnan(x)
    first = np.argmax(observed, axis=0)
    centre = np.where(observed.any(axis=0), x[first, np.arange(x.shape[1])], 0.0)
    centred = np.where(observed, x - centre, 0.0)
    n = rolling_count(x, window)
    s1 = _window_diff(_cumulative(centred), window)
    s2 = _window_diff(_cumulative(centred * centred), window)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2 - s1 * s1 / n) / (n - 1)
    return np.where(n >= min_periods, np.sqrt(np.maximum(var, 0.0)), np.nan)


def rolling_max(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Max of the observed cells among the last `window` sessions including t; NaN below min_periods."""
    return pd.DataFrame(x).rolling(window, min_periods=min_periods).max().to_numpy()


def cross_sectional_zscore(x: np.ndarray, clip: float) -> np.ndarray:
    """Per session (row): (x - mean) / std over the observed cells, population std (ddof 0), clipped
    to [-clip, clip]. A session whose observed values are all equal (or has one) gives 0.0 there."""
    observed = ~np.isnan(x)
    n = observed.sum(axis=1, keepdims=True)
    filled = np.where(observed, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1, keepdims=True) / n
        dev = np.where(observed, x - mean, 0.0)
        std = np.sqrt((dev * dev).sum(axis=1, keepdims=True) / n)
        z = np.where(std > 0, dev / std, 0.0)
    return np.where(observed, np.clip(z, -clip, clip), np.nan)

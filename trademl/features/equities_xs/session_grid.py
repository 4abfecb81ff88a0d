"""A long (symbol, date) panel laid on a dense symbols x XNYS sessions grid, with trailing rolling
statistics over the sessions axis (axis 1, contiguous in memory).

"k sessions back" is k rows of the grid, whatever bars are missing: a symbol that did not trade on
a session has a NaN cell there, so no window silently reaches further back in time. Rolling sums
are cumulative-sum differences over axis 1 (O(T x N) whatever the window); a window counts its
observed (non-NaN) cells and is NaN below its min-periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d

from trademl.calendar import all_sessions_index


@dataclass(frozen=True)
class SessionGrid:
    """Where each panel row sits on a symbols x sessions array (sessions contiguous, so rolling
    windows run along memory): `s` (symbol row), `t` (session column, 0 = `sessions[0]`) and
    `flat` = s x n_sessions + t. `out_t`, `out_s`, `out_flat` are the cells that hold a row in
    date-then-symbol order (the output order). `sessions` are the consecutive XNYS sessions from the
    panel's first to its last date; `first_position` is sessions[0]'s position in the calendar.
    """

    sessions: pd.DatetimeIndex
    symbols: np.ndarray
    t: np.ndarray
    s: np.ndarray
    flat: np.ndarray
    out_t: np.ndarray
    out_s: np.ndarray
    out_flat: np.ndarray
    first_position: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.symbols), len(self.sessions))

    def dense(self, values: np.ndarray | pd.Series, fill: float = np.nan, dtype: type = np.float64) -> np.ndarray:
        """The rows' values as a symbols x sessions array, `fill` where the panel has no row."""
        out = np.full(self.shape[0] * self.shape[1], fill, dtype=dtype)
        out[self.flat] = np.asarray(values, dtype=dtype)
        return out.reshape(self.shape)

    def gather(self, cells: np.ndarray) -> np.ndarray:
        """A symbols x sessions array's values at the panel's rows, in date-then-symbol order."""
        return np.take(cells.reshape(-1), self.out_flat)


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
    codes, symbols = pd.factorize(symbol if isinstance(symbol, pd.Series) else np.asarray(symbol), sort=True)
    if (codes < 0).any():
        raise ValueError("the panel has rows without a symbol")
    t = (pos - first).astype(np.int64)
    n_t, n_s = last - first + 1, len(symbols)
    flat = codes.astype(np.int64) * n_t + t
    occupancy = np.bincount(flat, minlength=n_t * n_s)
    if occupancy.max() > 1:
        raise ValueError("the panel has repeated (symbol, date) rows")
    by_date = np.flatnonzero(occupancy.reshape(n_s, n_t).T)  # t x n_s + s, ascending
    out_t, out_s = by_date // n_s, by_date % n_s
    sessions = pd.DatetimeIndex(all_sessions_index()[first : last + 1], name="date")
    return SessionGrid(
        sessions=sessions,
        symbols=np.asarray(symbols, dtype=object),
        t=t,
        s=codes.astype(np.int64),
        flat=flat,
        out_t=out_t,
        out_s=out_s,
        out_flat=out_s * n_t + out_t,
        first_position=first,
    )


def shift(x: np.ndarray, k: int) -> np.ndarray:
    """x moved k sessions later along axis 1 (column t holds column t - k), NaN in the first k columns."""
    out = np.empty_like(x)
    out[:, : min(k, x.shape[1])] = np.nan
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _window_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Per column t: the sum of columns max(0, t - window + 1) .. t (cumulative-sum differences)."""
    cum = np.cumsum(values, axis=1)
    if window < cum.shape[1]:
        cum[:, window:] -= cum[:, : cum.shape[1] - window].copy()
    return cum


def _observed(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The observed mask and x with NaN cells set to 0.0."""
    missing = np.isnan(x)
    filled = x.copy()
    filled[missing] = 0.0
    return ~missing, filled


def rolling_mean(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Mean of the observed cells among the last `window` sessions including t; NaN below min_periods."""
    observed, filled = _observed(x)
    n = _window_sum(observed.astype(np.int32), window)
    total = _window_sum(filled, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= n
    total[n < min_periods] = np.nan
    return total


def rolling_std(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Sample std (ddof 1) of the observed cells among the last `window` sessions; NaN below
    max(2, min_periods). Each symbol's series is first centred on its first observed value
    (variance is shift invariant), which keeps the cumulative-sum differences accurate and uses
    nothing after t."""
    min_periods = max(2, min_periods)
    observed, filled = _observed(x)
    first = np.argmax(observed, axis=1)
    centre = np.where(observed.any(axis=1), x[np.arange(x.shape[0]), first], 0.0)
    filled -= centre[:, None]
    filled[~observed] = 0.0
    n = _window_sum(observed.astype(np.int32), window)
    s1 = _window_sum(filled, window)
    s2 = _window_sum(filled * filled, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2 - s1 * s1 / n) / (n - 1)
    np.maximum(var, 0.0, out=var)
    np.sqrt(var, out=var)
    var[n < min_periods] = np.nan
    return var


def rolling_max(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Max of the observed cells among the last `window` sessions including t; NaN below min_periods."""
    observed = ~np.isnan(x)
    filled = np.where(observed, x, -np.inf)
    # A trailing window: the filter is centred at window // 2, shifted so it ends at t.
    out = maximum_filter1d(filled, size=window, axis=1, mode="constant", cval=-np.inf, origin=(window - 1) // 2)
    out[_window_sum(observed.astype(np.int32), window) < min_periods] = np.nan
    return out


ROW_CHUNK = 1 << 17  # rows per chunk of the z-score (whole sessions; ~1 MB temporaries)


def zscore_by_session(values: np.ndarray, session: np.ndarray, clip: float) -> np.ndarray:
    """Per session: (x - mean) / std over that session's non-NaN values, population std (ddof 0),
    clipped to [-clip, clip]; NaN stays NaN; a session whose values are all equal (or has one)
    gives 0.0. `values` are rows sorted by `session` (each session's rows contiguous); the result
    is computed in place, a chunk of whole sessions at a time (segment sums, no per-date groupby)."""
    if len(values) == 0:
        return values
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    ends = np.r_[starts[1:], len(values)]
    lo_seg = 0
    while lo_seg < len(starts):
        hi_seg = max(lo_seg + 1, int(np.searchsorted(starts, starts[lo_seg] + ROW_CHUNK, side="right")) - 1)
        a, b = starts[lo_seg], ends[hi_seg - 1]
        x = values[a:b]
        seg = starts[lo_seg:hi_seg] - a
        lengths = ends[lo_seg:hi_seg] - starts[lo_seg:hi_seg]
        observed = ~np.isnan(x)
        filled = np.where(observed, x, 0.0)
        n = np.add.reduceat(observed.astype(np.float64), seg)
        with np.errstate(invalid="ignore", divide="ignore"):
            x -= np.repeat(np.add.reduceat(filled, seg) / n, lengths)
            np.multiply(x, x, out=filled)
            filled[~observed] = 0.0
            std = np.sqrt(np.add.reduceat(filled, seg) / n)
            std[~(std > 0)] = np.inf  # equal values: 0 / inf = 0.0
            x /= np.repeat(std, lengths)
        np.clip(x, -clip, clip, out=x)
        lo_seg = hi_seg
    return values

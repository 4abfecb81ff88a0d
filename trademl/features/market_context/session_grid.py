"""Series on the XNYS session grid: market-context windows count sessions, never rows."""

from __future__ import annotations

import pandas as pd

from trademl import calendar


def session_index(values: pd.Series | pd.Index) -> pd.DatetimeIndex:
    """The index (or values) as timezone-naive midnight Timestamps; ValueError on NaT."""
    raw = values.index if isinstance(values, pd.Series) else values
    idx = pd.DatetimeIndex(pd.to_datetime(raw))
    if idx.tz is not None:
        idx = idx.tz_convert(calendar.EXCHANGE_TZ).tz_localize(None)
    if idx.isna().any():
        raise ValueError("session index must not contain NaT")
    return idx.normalize()


def on_sessions(
    values: pd.Series,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    fill_limit: int = 0,
) -> pd.Series:
    """`values` (indexed by date) on every XNYS session from `start` (default: its first date) to `end`.

    Rows on non-session dates (e.g. Cboe's 2004-06-11 print, a day the NYSE was closed) and after
    `end` are dropped; a session without a value is NaN, or the last value carried forward at most
    `fill_limit` sessions (the last print is what was known). Float64, sorted, unique dates.
    """
    s = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"), index=session_index(values))
    s = s[~s.index.duplicated(keep="last")].sort_index()
    if end is not None:
        s = s[s.index <= end]
    if len(s) == 0 and (start is None or end is None):
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], name="date"), name=values.name)
    first = s.index.min() if start is None else (min(start, s.index.min()) if len(s) else start)
    last = s.index.max() if end is None else end
    if first > last:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], name="date"), name=values.name)
    grid = calendar.sessions(first.date(), last.date())
    out = s.reindex(grid)
    if fill_limit > 0:
        out = out.ffill(limit=fill_limit)
    out.index.name = "date"
    return out.rename(values.name)

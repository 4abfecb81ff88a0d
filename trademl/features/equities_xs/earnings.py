"""Point-in-time next earnings date: what the earnings calendar said at t about the next report."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

EARNINGS_COLUMNS = ("symbol", "earnings_date", "time_of_day", "known_date")


def _as_day(values: pd.Series) -> pd.Series:
    """Dates or timestamps as timezone-naive midnight datetime64 (a UTC timestamp keeps its UTC date)."""
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def next_earnings_as_of(dates_frame: pd.DataFrame, earnings_calendar: pd.DataFrame) -> pd.DataFrame:
    """`dates_frame` (`symbol, date`, other columns kept, row order kept) with `next_earnings_date`:
    per (symbol, t) the first earnings_date >= t among the rows of reference/earnings_calendar
    (`symbol, earnings_date, time_of_day, known_date`) with known_date <= t, compared as dates;
    NaT when none is known. One DuckDB range join, no per-row Python.
    """
    missing = [c for c in ("symbol", "date") if c not in dates_frame.columns]
    if missing:
        raise ValueError(f"dates_frame is missing columns {missing}")
    missing = [c for c in EARNINGS_COLUMNS if c not in earnings_calendar.columns]
    if missing:
        raise ValueError(f"earnings_calendar is missing columns {missing}; it needs {list(EARNINGS_COLUMNS)}")
    left = pd.DataFrame(
        {"row": np.arange(len(dates_frame)), "symbol": dates_frame["symbol"].astype(str).to_numpy(), "d": _as_day(dates_frame["date"]).to_numpy()}
    )
    right = pd.DataFrame(
        {
            "symbol": earnings_calendar["symbol"].astype(str).to_numpy(),
            "e": _as_day(earnings_calendar["earnings_date"]).to_numpy(),
            "k": _as_day(earnings_calendar["known_date"]).to_numpy(),
        }
    ).dropna()
    con = duckdb.connect()
    try:
        con.register("l", left)
        con.register("r", right)
        found = con.sql(
            "SELECT l.row, MIN(r.e) AS e FROM l JOIN r ON l.symbol = r.symbol AND r.k <= l.d AND r.e >= l.d GROUP BY l.row"
        ).df()
    finally:
        con.close()
    nxt = np.full(len(dates_frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    nxt[found["row"].to_numpy(dtype=np.int64)] = pd.to_datetime(found["e"]).to_numpy(dtype="datetime64[ns]")
    return dates_frame.assign(next_earnings_date=nxt)

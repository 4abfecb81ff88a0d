"""Small explicit frames for the curate tests: as-traded bars and corporate-action events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl import calendar


def days(start: str, n: int) -> list:
    """The first n XNYS sessions on or after `start`, as datetime.date."""
    return [d.date() for d in calendar.sessions(start, pd.Timestamp(start) + pd.Timedelta(days=3 * n + 10))[:n]]


def bars(symbol: str, dates: list, closes: list[float], volumes: list[int] | None = None) -> pd.DataFrame:
    """Bars with open = low = 0.99 x close, high = 1.01 x close (as traded)."""
    c = np.asarray(closes, float)
    return pd.DataFrame({
        "symbol": symbol, "date": dates, "open": c * 0.99, "high": c * 1.01, "low": c * 0.99, "close": c,
        "volume": np.asarray(volumes if volumes is not None else [1000] * len(c), dtype="int64"),
    })


def split(symbol: str, ex_date, ratio: float) -> dict:
    return {"symbol": symbol, "event_type": "SPLIT", "ex_date": ex_date, "ratio": ratio, "amount": np.nan}


def dividend(symbol: str, ex_date, amount: float) -> dict:
    return {"symbol": symbol, "event_type": "DIVIDEND", "ex_date": ex_date, "ratio": np.nan, "amount": amount}


def events(*rows: dict) -> pd.DataFrame:
    """A corp_actions frame (symbol, event_type, ex_date, ratio, amount); empty with those columns."""
    cols = ["symbol", "event_type", "ex_date", "ratio", "amount"]
    return pd.DataFrame(list(rows), columns=cols) if rows else pd.DataFrame({c: pd.Series(dtype=object) for c in cols})

"""Small explicit lake payloads for the audit tests: daily bars and the universe that expects them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.schemas import session_id, with_metadata

INGESTED_AT = pd.Timestamp("2025-03-01 21:30", tz="UTC")


def _meta(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return with_metadata(
        frame, source_name="synthetic", source_uri=f"synthetic://{dataset}", api_version="test", ingested_at=INGESTED_AT
    )


def bars(dates: list[str], symbols: list[str]) -> pd.DataFrame:
    """raw/equities_bars rows for every (date, symbol) with consistent OHLC."""
    idx = pd.MultiIndex.from_product([pd.to_datetime(dates), symbols], names=["date", "symbol"])
    frame = idx.to_frame(index=False)
    n = len(frame)
    close = 100.0 + np.arange(n, dtype=float)
    frame["open"] = close
    frame["high"] = close * 1.01
    frame["low"] = close * 0.99
    frame["close"] = close
    frame["vwap"] = close
    frame["volume"] = np.full(n, 1_000, dtype="int64")
    frame["nbbo_spread"] = 0.01
    frame["trades"] = np.full(n, 10, dtype="int64")
    frame["session_id"] = session_id(frame["date"]).to_numpy()
    frame["date"] = frame["date"].dt.date
    return _meta(frame, "equities_eod")


def universe(dates: list[str], symbols: list[str]) -> pd.DataFrame:
    """reference/universe rows: every symbol listed and eligible on every date."""
    idx = pd.MultiIndex.from_product([pd.to_datetime(dates), symbols], names=["date", "symbol"])
    frame = idx.to_frame(index=False)
    frame["is_listed"] = True
    frame["is_eligible"] = True
    frame["listed_date"] = pd.Timestamp("2020-01-02").date()
    frame["delist_date"] = None
    frame["share_class"] = "common"
    frame["sector"] = "tech"
    frame["exclusion_reason"] = None
    frame["date"] = frame["date"].dt.date
    return _meta(frame, "universe")

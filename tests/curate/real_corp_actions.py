"""The shared real slice as curate inputs: Alpha Vantage bars and its dividends/splits event table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

AV_BARS = "daily_bars/alphavantage_sp500_daily_adjusted.parquet"
AV_EVENTS = "corporate_actions/alphavantage_dividends_splits.csv"


def av_bars(root: Path, tickers: list[str] | None = None) -> pd.DataFrame:
    """Alpha Vantage daily bars (as traded) with `symbol` for `ticker` (and adjusted_close kept)."""
    filters = None if tickers is None else [("ticker", "in", tickers)]
    cols = ["ticker", "date", "open", "high", "low", "close", "volume", "adjusted_close"]
    return pd.read_parquet(root / AV_BARS, columns=cols, filters=filters).rename(columns={"ticker": "symbol"})


def av_events(root: Path, tickers: list[str] | None = None) -> pd.DataFrame:
    """The event table as reference/corp_actions rows: one SPLIT per split_coefficient != 1, one
    DIVIDEND per dividend_amount != 0 (ex_date = the row's date)."""
    raw = pd.read_csv(root / AV_EVENTS)
    if tickers is not None:
        raw = raw[raw["ticker"].isin(tickers)]
    splits = raw[raw["split_coefficient"] != 1.0]
    divs = raw[raw["dividend_amount"] != 0.0]
    return pd.concat([
        pd.DataFrame({"symbol": splits["ticker"], "event_type": "SPLIT", "ex_date": splits["date"],
                      "ratio": splits["split_coefficient"], "amount": np.nan}),
        pd.DataFrame({"symbol": divs["ticker"], "event_type": "DIVIDEND", "ex_date": divs["date"],
                      "ratio": np.nan, "amount": divs["dividend_amount"]}),
    ], ignore_index=True)

"""The market panel a backtest trades against: wide session x symbol frames of prices, returns and cost inputs.

Built from curated/equities_ohlcv_adj rows (as traded + point-in-time factors). Rows are XNYS sessions
(datetime.date, ascending) from the first to the last curated date, so "20 sessions back" is 20 sessions,
and a session a symbol did not trade is NaN. Returns are close-to-close simple returns of the adjusted close;
the ratio of two adjusted closes does not depend on the as-of of the adjustment, so returns[t] uses nothing
after t. Every rolling estimate at t uses sessions <= t only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.curate import adjust_from_factors

__all__ = ["MarketPanel", "market_panel"]

CURATED_INPUT_COLUMNS: tuple[str, ...] = ("date", "symbol", "open", "high", "low", "close", "volume", "split_factor")


@dataclass(frozen=True)
class MarketPanel:
    """Wide frames sharing one index (session dates, ascending, unique) and one column set (symbols).

    close: adjusted close (currency); returns: simple close-to-close, returns[t] = close[t] / close[t-1] - 1
    (a delisting return is booked on the session after the last trade); adv: mean volume over the window
    (split-adjusted shares); sigma_daily: std of daily returns over the window (decimal, ddof 1);
    spread: effective spread in currency per share.
    """

    close: pd.DataFrame
    returns: pd.DataFrame
    adv: pd.DataFrame
    sigma_daily: pd.DataFrame
    spread: pd.DataFrame

    def __post_init__(self) -> None:
        index, columns = self.close.index, self.close.columns
        if not index.is_unique or not index.is_monotonic_increasing:
            raise ValueError("MarketPanel index must be unique ascending session dates")
        for name in ("returns", "adv", "sigma_daily", "spread"):
            frame = getattr(self, name)
            if not frame.index.equals(index) or not frame.columns.equals(columns):
                raise ValueError(f"MarketPanel.{name} must have the same dates and symbols as close")

    @property
    def dates(self) -> pd.Index:
        return self.close.index

    @property
    def symbols(self) -> pd.Index:
        return self.close.columns


def market_panel(
    curated_long: pd.DataFrame, *, window: int = 20, spread_bps: float = 5.0, convention: str = "crsp"
) -> MarketPanel:
    """The MarketPanel of curated/equities_ohlcv_adj rows over their sessions.

    window: sessions of the ADV mean and the return std (NaN until a full window of observations);
    spread_bps: the effective spread assumed for every name, in basis points of the close (a flat
    large-cap assumption until quotes are curated); convention: the dividend convention of the adjustment.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 sessions, got {window}")
    if not np.isfinite(spread_bps) or spread_bps < 0:
        raise ValueError(f"spread_bps must be finite and non-negative, got {spread_bps}")
    missing = [c for c in CURATED_INPUT_COLUMNS if c not in curated_long.columns]
    if missing:
        raise ValueError(f"curated rows lack column(s) {missing}")
    if len(curated_long) == 0:
        raise ValueError("curated rows are empty")
    adjusted = adjust_from_factors(curated_long, convention=convention)
    adjusted["date"] = pd.to_datetime(adjusted["date"]).dt.date
    if adjusted.duplicated(["symbol", "date"]).any():
        raise ValueError("curated rows have more than one row per (symbol, date)")
    session_index = calendar.sessions(min(adjusted["date"]), max(adjusted["date"]))
    dates = pd.Index([d.date() for d in session_index], name="date")
    wide = adjusted.pivot(index="date", columns="symbol", values=["adj_close", "adj_volume"])
    close = wide["adj_close"].reindex(dates).astype(np.float64)
    volume = wide["adj_volume"].reindex(dates).astype(np.float64)
    close.columns.name = volume.columns.name = "symbol"
    returns = close / close.shift(1) - 1.0
    if "delisting_return" in adjusted.columns:
        returns = _book_delistings(returns, adjusted)
    adv = volume.rolling(window, min_periods=window).mean()
    sigma = returns.rolling(window, min_periods=window).std(ddof=1)
    spread = close * (spread_bps * 1e-4)
    return MarketPanel(close=close, returns=returns, adv=adv, sigma_daily=sigma, spread=spread)


def _book_delistings(returns: pd.DataFrame, adjusted: pd.DataFrame) -> pd.DataFrame:
    """`returns` with each delisting return on the session after the symbol's last trade (when in the panel)."""
    events = adjusted.loc[np.isfinite(adjusted["delisting_return"].to_numpy(np.float64)), ["symbol", "date", "delisting_return"]]
    if events.empty:
        return returns
    rows = returns.index.get_indexer(pd.Index(events["date"], dtype=object)) + 1
    cols = returns.columns.get_indexer(events["symbol"])
    inside = (rows > 0) & (rows < len(returns.index))
    values = returns.to_numpy(copy=True)
    values[rows[inside], cols[inside]] = events["delisting_return"].to_numpy(np.float64)[inside]
    return pd.DataFrame(values, index=returns.index, columns=returns.columns)


"""The market panel: wide session x symbol frames of curated prices, total returns and cost inputs.

What the portfolio constructor (return history for its covariance) and the backtest (the market it
trades against) read; it lives with the curated layer because both sit above it.

Built from curated/equities_ohlcv_adj rows (as traded + point-in-time factors). Rows are XNYS sessions
(datetime.date, ascending) from the first to the last curated date, so "20 sessions back" is 20 sessions,
and a session a symbol did not trade is NaN. Every value at t is "adjusted as of t" and every rolling
estimate at t uses sessions <= t only, so rows after t never change the panel at t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.curate.conventions import div_factor_column

__all__ = ["MarketPanel", "market_panel"]

CURATED_INPUT_COLUMNS: tuple[str, ...] = ("date", "symbol", "open", "high", "low", "close", "volume", "split_factor")


@dataclass(frozen=True)
class MarketPanel:
    """Wide frames sharing one index (session dates, ascending, unique) and one column set (symbols).

    close: the close adjusted as of its own session, i.e. as traded (currency), so no value at t moves when
    a later corporate action arrives; returns: simple close-to-close, returns[t] = close[t] / close[t-1] - 1
    (from the symbol's last close before t after a missed session; NaN on the missed session itself),
    total returns with splits and dividends (a delisting return is booked on the session after the last
    trade); adv: mean volume over the window in shares as of t (earlier volumes adjusted for splits up to
    t); sigma_daily: std of daily returns over the window (decimal, ddof 1); spread: effective spread in
    currency per share.
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

    def tradable(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows (`date`, `symbol`, ...) whose symbol can be traded on that session: a close, and a
        full window of ADV and volatility with a spread (a name listed within the window cannot be costed yet)."""
        ok = self.close.notna() & self.adv.notna() & self.sigma_daily.notna() & self.spread.notna()
        stacked = ok.stack()
        stacked = stacked[stacked]
        known = pd.MultiIndex.from_arrays([pd.to_datetime(stacked.index.get_level_values(0)).date,
                                           stacked.index.get_level_values(1).astype(str)])
        keys = pd.MultiIndex.from_arrays([pd.to_datetime(rows["date"]).dt.date, rows["symbol"].astype(str)])
        return rows[keys.isin(known)]


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
    div = div_factor_column(convention)
    if div not in curated_long.columns:
        raise ValueError(f"curated rows lack column {div!r} of the {convention!r} dividend convention")
    rows = curated_long.assign(date=pd.to_datetime(curated_long["date"]).dt.date, symbol=curated_long["symbol"].astype(str))
    if rows.duplicated(["symbol", "date"]).any():
        raise ValueError("curated rows have more than one row per (symbol, date)")
    session_index = calendar.sessions(min(rows["date"]), max(rows["date"]))
    dates = pd.Index([d.date() for d in session_index], name="date")

    def wide(column: str) -> pd.DataFrame:
        out = rows.pivot(index="date", columns="symbol", values=column).reindex(dates).astype(np.float64)
        out.columns.name = "symbol"
        return out

    close, volume, split, dividend = wide("close"), wide("volume"), wide("split_factor"), wide(div)
    # Adjusted as of t, the close at t is the as-traded close; the total-return price close * split / div
    # (up to a constant per symbol) gives the returns, whatever the as-of.
    # A session a symbol misses is NaN; its next trade earns the move since its last close.
    total_return_price = close * split / dividend
    returns = total_return_price / total_return_price.ffill().shift(1) - 1.0
    if "delisting_return" in rows.columns:
        returns = _book_delistings(returns, rows)
    # Volumes adjusted as of t for the splits up to t: volume[s] * split[t] / split[s].
    adv = (volume / split).rolling(window, min_periods=window).mean() * split
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


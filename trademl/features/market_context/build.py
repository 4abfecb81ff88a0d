"""features/market_context: one row per session with every ctx_* column of the schema.

`build_market_context` merges the VIX metrics and quadrant, the point-in-time GMM and SMA trend
regimes and the vintage macro features on the requested sessions; every input after the last
requested session is ignored, and each value at t uses inputs through t only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.data.macro import MacroSource
from trademl.features.market_context.macro import macro_context
from trademl.features.market_context.regimes import gmm_regime, trend_regime
from trademl.features.market_context.session_grid import on_sessions, session_index
from trademl.features.market_context.settings import MarketContextSettings, market_context_settings
from trademl.features.market_context.vix import vix_metrics, vix_quadrant
from trademl.schemas.features import MARKET_CONTEXT

COLUMNS: tuple[str, ...] = tuple(MARKET_CONTEXT.schema.names)


def market_proxy(prices: pd.DataFrame, *, price_col: str = "adj_close") -> pd.Series:
    """Equal-weight market index from a long adjusted-price frame (symbol, date, `price_col`).

    Level = exp(cumulative sum over sessions of the cross-sectional mean one-session log return),
    1.0 on the first session; a symbol contributes only on sessions where it has this and the
    previous session's close (the index stays flat on a session where no symbol does).
    Indexed by session ("date"), named "market_close".
    """
    missing = [c for c in ("symbol", "date", price_col) if c not in prices.columns]
    if missing:
        raise ValueError(f"prices need columns symbol, date, {price_col}; missing {missing}")
    if prices.duplicated(["symbol", "date"]).any():
        raise ValueError("prices hold duplicate (symbol, date) rows")
    frame = prices.assign(date=session_index(pd.Index(prices["date"])))
    wide = frame.pivot(index="date", columns="symbol", values=price_col).astype("float64")
    wide = wide.where(wide > 0)
    grid = calendar.sessions(wide.index.min().date(), wide.index.max().date())
    log_ret = np.log(wide.reindex(grid)).diff()
    mean = log_ret.mean(axis=1, skipna=True).fillna(0.0)  # no symbol with both closes: flat
    level = np.exp(mean.cumsum())
    level.index.name = "date"
    return level.rename("market_close")


def build_market_context(
    market_close: pd.Series,
    vix: pd.Series,
    macro_source: MacroSource | None,
    sessions: Sequence | pd.DatetimeIndex,
    cfg: MarketContextSettings | None = None,
) -> pd.DataFrame:
    """The features/market_context rows of `sessions`: exactly the schema's columns, `date` as dates.

    `market_close` is an index proxy close by session (e.g. `market_proxy` or SPY), `vix` the VIX
    by session (`vix_known_at(macro_source, ...)` for the print known at t; or closes by
    observation date, from FRED VIXCLS, Cboe, the synthetic market's index), `macro_source` what
    `trademl.data.macro` reads (a Lake, or raw/macros_fred rows). Give the inputs history before
    the first session (200+ sessions for the SMA, a year or more for the GMM's first fit).
    """
    cfg = cfg or market_context_settings()
    days = session_index(pd.Index(sessions)).unique().sort_values()
    if len(days) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    end = days[-1]
    close = on_sessions(market_close, start=days[0], end=end)
    v = on_sessions(vix, start=days[0], end=end)
    metrics = vix_metrics(v, cfg.vix)
    quadrant = vix_quadrant(close, metrics["ctx_vix"], cfg.quadrant)
    gmm = gmm_regime(np.log(close).diff(), cfg.gmm)
    trend = trend_regime(close, cfg.trend)
    macro = macro_context(macro_source, days, cfg.macro)
    out = pd.concat(
        [metrics.reindex(days), quadrant.reindex(days), gmm.reindex(days), trend.reindex(days), macro.reindex(days)], axis=1
    )
    out.insert(0, "date", [d.date() for d in days])
    out["ctx_gmm_state"] = out["ctx_gmm_state"].astype("Int32")
    out["ctx_trend_regime"] = out["ctx_trend_regime"].astype("Int32")
    return out[list(COLUMNS)].reset_index(drop=True)

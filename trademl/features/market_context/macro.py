"""Macro context per session from the ALFRED vintages known at t (raw/macros_fred via `trademl.data.macro`).

- ctx_term_spread: latest `long_rate` print minus latest `short_rate` print known at t (percentage
  points; DGS10 - DGS3MO by default, the 10y-3m spread).
- ctx_cpi_yoy: CPI of the latest observation known at t over CPI `cpi_lag_months` earlier, minus 1
  (decimal, per year), both values from the one vintage known at t.
- ctx_unemployment_change: UNRATE of the latest observation known at t minus UNRATE
  `unemployment_lag_months` earlier (percentage points), both as known at t.

A revision published after t never changes a value at t.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from trademl.data.macro import MacroSource, as_days, known_at, macro_asof, vintage_rows
from trademl.features.market_context.session_grid import session_index
from trademl.features.market_context.settings import MacroSettings


def change_known_at(
    source: MacroSource,
    sessions: pd.DatetimeIndex,
    series_id: str,
    lag_months: int,
    kind: Literal["ratio", "difference"],
) -> pd.Series:
    """Per session t: the latest observation of `series_id` known at t against the observation
    `lag_months` earlier, both valued as known at t: x/x_lag - 1 ("ratio") or x - x_lag ("difference").

    The set of known values changes only on vintage dates, so it is computed once per vintage day
    and carried to the sessions with a backward merge_asof. NaN before a lagged value is known.
    """
    days = as_days(sessions)
    out = pd.Series(np.nan, index=sessions, name=series_id)
    if len(days) == 0:
        return out
    rows = vintage_rows(source, [series_id], until=days.max())
    if rows.empty:
        return out
    snaps = pd.DatetimeIndex(np.unique(rows["vintage_date"].to_numpy()))
    known = known_at(rows, snaps, [series_id])
    latest = known.groupby("t", as_index=False)["observation_date"].max()
    latest["lag_date"] = (pd.DatetimeIndex(latest["observation_date"]) - pd.DateOffset(months=lag_months)).astype("datetime64[ns]")
    now = latest.merge(known[["t", "observation_date", "value"]], on=["t", "observation_date"], how="left")
    lagged = known[["t", "observation_date", "value"]].rename(columns={"observation_date": "lag_date", "value": "lag_value"})
    now = now.merge(lagged, on=["t", "lag_date"], how="left")
    if kind == "ratio":
        change = now["value"] / now["lag_value"] - 1.0
    elif kind == "difference":
        change = now["value"] - now["lag_value"]
    else:
        raise ValueError(f"kind must be 'ratio' or 'difference', got {kind!r}")
    snap = pd.DataFrame({"t": now["t"].astype("datetime64[ns]"), "change": change.to_numpy()}).sort_values("t")
    left = pd.DataFrame({"t": days.to_numpy(), "pos": np.arange(len(days))}).sort_values("t", kind="stable")
    merged = pd.merge_asof(left, snap, on="t", direction="backward").sort_values("pos")
    out[:] = merged["change"].to_numpy()
    return out


def vix_known_at(source: MacroSource, sessions: pd.DatetimeIndex, series_id: str = "VIXCLS") -> pd.Series:
    """The latest VIX print known at each session (index points), from raw/macros_fred vintages.

    Pass it as `vix` to `build_market_context` for a strictly point-in-time VIX: FRED's VIXCLS and
    the synthetic market publish a close the next session (so at t this is usually VIX of t-1), a
    Cboe file mapping with vintage_lag_days 0 the same session. NaN before the first print.
    """
    idx = session_index(pd.Index(sessions))
    wide = macro_asof(idx, source, [series_id])
    return pd.Series(wide[series_id].to_numpy(), index=idx, name=series_id)


def macro_context(source: MacroSource | None, sessions: pd.DatetimeIndex, cfg: MacroSettings | None = None) -> pd.DataFrame:
    """ctx_term_spread, ctx_cpi_yoy and ctx_unemployment_change per session (see the module doc);
    all NaN when `source` is None or holds none of the series."""
    cfg = cfg or MacroSettings()
    idx = session_index(pd.Index(sessions))
    cols = ["ctx_term_spread", "ctx_cpi_yoy", "ctx_unemployment_change"]
    if source is None or len(idx) == 0:
        return pd.DataFrame(np.nan, index=idx, columns=cols)
    rates = macro_asof(idx, source, [cfg.long_rate, cfg.short_rate])
    return pd.DataFrame(
        {
            "ctx_term_spread": (rates[cfg.long_rate] - rates[cfg.short_rate]).to_numpy(),
            "ctx_cpi_yoy": change_known_at(source, idx, cfg.cpi, cfg.cpi_lag_months, "ratio").to_numpy(),
            "ctx_unemployment_change": change_known_at(
                source, idx, cfg.unemployment, cfg.unemployment_lag_months, "difference"
            ).to_numpy(),
        },
        index=idx,
    )

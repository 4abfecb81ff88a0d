"""Delisting returns: the simple return from a delisted symbol's last close to its delisting value.

reference/delistings gives `delist_date` (the first session the symbol no longer trades) and a
`reason`. The return is booked on the last trading session (the symbol's last bar before
delist_date, else the XNYS session before delist_date). With a known final price (an optional
``final_price`` column) it is final_price / last close - 1; otherwise the configured default for the
reason (configs/curator.yml: Shumway 1997's -30% for performance delistings, 0 for acquisitions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.curate.event_prices import as_datetime
from trademl.curate.settings import CuratorSettings


def delisting_returns(bars: pd.DataFrame, delistings: pd.DataFrame, settings: CuratorSettings) -> pd.DataFrame:
    """One row per delisting: symbol, date (last trading session, datetime64), delisting_return (simple)."""
    if len(delistings) == 0:
        return pd.DataFrame({"symbol": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]"),
                             "delisting_return": pd.Series(dtype=float)})
    d = pd.DataFrame({"symbol": delistings["symbol"].astype(str).to_numpy(),
                      "delist_date": as_datetime(delistings["delist_date"]).to_numpy()})
    d["_row"] = np.arange(len(d))
    closes = pd.DataFrame({"symbol": bars["symbol"].astype(str).to_numpy(), "delist_date": as_datetime(bars["date"]).to_numpy(),
                           "close": bars["close"].to_numpy(float)})
    closes["last_date"] = closes["delist_date"]
    hit = pd.merge_asof(d.sort_values("delist_date"), closes.sort_values("delist_date"), on="delist_date", by="symbol",
                        direction="backward", allow_exact_matches=False).sort_values("_row")
    all_sessions = calendar.all_sessions_index()
    before = all_sessions[np.maximum(all_sessions.searchsorted(pd.DatetimeIndex(d["delist_date"]), "left") - 1, 0)]
    date = np.where(hit["last_date"].isna().to_numpy(), before.to_numpy(), hit["last_date"].to_numpy())
    reasons = delistings["reason"].astype(object).reset_index(drop=True)
    ret = reasons.map(dict(settings.delisting_returns)).astype(float).fillna(settings.unknown_reason_return).to_numpy()
    if "final_price" in delistings.columns:
        price = pd.to_numeric(delistings["final_price"], errors="coerce").to_numpy(float)
        from_price = price / hit["close"].to_numpy(float) - 1.0
        ret = np.where(np.isfinite(from_price), from_price, ret)
    return pd.DataFrame({"symbol": d["symbol"].to_numpy(), "date": pd.to_datetime(date), "delisting_return": ret})

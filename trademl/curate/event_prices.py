"""The as-traded closes a dividend factor needs: the close before the ex-date and the close on it.

Both are found per event with one `merge_asof` over all symbols (no per-event Python). Closes come
from the bars given plus, optionally, `seed` rows (a symbol's last stored curated row before the
window), so an event on the window's first session still finds its previous close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_datetime(values: pd.Series) -> pd.Series:
    """Dates (datetime.date, strings or datetime64) as datetime64[ns], timezone-naive midnight."""
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def event_closes(events: pd.DataFrame, bars: pd.DataFrame, seed: pd.DataFrame | None = None) -> pd.DataFrame:
    """`events` (symbol, ex_date, ...) with ``previous_close`` (last close dated before ex_date) and
    ``ex_close`` (first close dated on or after ex_date), NaN when there is none; index preserved."""
    closes = bars[["symbol", "date", "close"]]
    if seed is not None and len(seed):
        closes = pd.concat([seed[["symbol", "date", "close"]], closes], ignore_index=True)
    closes = closes.assign(date=as_datetime(closes["date"]), symbol=closes["symbol"].astype(str))
    closes = closes.drop_duplicates(["symbol", "date"], keep="last").sort_values("date", kind="stable")
    ev = pd.DataFrame(
        {"_row": np.arange(len(events)), "symbol": events["symbol"].astype(str).to_numpy(), "ex_date": as_datetime(events["ex_date"]).to_numpy()}
    ).sort_values("ex_date", kind="stable")
    if len(ev) == 0:
        return events.assign(previous_close=np.array([], float), ex_close=np.array([], float))
    prev = pd.merge_asof(
        ev, closes.rename(columns={"date": "ex_date"}), on="ex_date", by="symbol", direction="backward", allow_exact_matches=False
    )
    nxt = pd.merge_asof(ev, closes.rename(columns={"date": "ex_date"}), on="ex_date", by="symbol", direction="forward")
    previous_close = np.empty(len(events))
    ex_close = np.empty(len(events))
    previous_close[prev["_row"].to_numpy()] = prev["close"].to_numpy(float)
    ex_close[nxt["_row"].to_numpy()] = nxt["close"].to_numpy(float)
    out = events.copy()
    out["previous_close"] = previous_close
    out["ex_close"] = ex_close
    return out

"""Point-in-time adjustment factors and "adjusted as of T" prices (CRSP or Alpha Vantage dividends).

`session_factors` gives per (symbol, session) the as-traded OHLCV and the cumulative factors known
at that session: split_factor S(t) = prod(ratio, ex_date <= t) and div_factor_<convention>
D(t) = prod(dividend price factor, ex_date <= t), cumulative from the first stored session (or
from a seed row), so a later event never changes a stored value. `adjust_from_factors` turns stored
rows into prices adjusted as of T:

    adj_price_t = price_t * (D(T) / D(t)) / (S(T) / S(t)),   adj_volume_t = volume_t * S(T) / S(t)

and `adjusted_ohlcv` is both in one call (the same arithmetic, so the two agree exactly).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.calendar import as_date
from trademl.curate.conventions import (
    CONVENTIONS,
    alpha_vantage_dividend_factor,
    crsp_dividend_factor,
    div_factor_column,
)
from trademl.curate.corp_action_checks import screen_events
from trademl.curate.event_prices import as_datetime
from trademl.schemas.curated import EQUITIES_OHLCV_ADJ

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
FACTOR_COLUMNS: tuple[str, ...] = ("split_factor", *(f"div_factor_{c}" for c in CONVENTIONS))
ADJUSTED_COLUMNS: tuple[str, ...] = ("adj_open", "adj_high", "adj_low", "adj_close", "adj_volume")
CURATED_COLUMNS: tuple[str, ...] = tuple(EQUITIES_OHLCV_ADJ.schema.names)


def event_steps(events: pd.DataFrame) -> pd.DataFrame:
    """Per screened event (see `screen_events`) its factor steps: split ratio, CRSP and AV dividend factors
    (1.0 for the kinds that do not apply)."""
    is_split = events["event_type"].eq("SPLIT").to_numpy()
    is_div = ~is_split
    amount = events["amount"].to_numpy(float)
    return pd.DataFrame(
        {
            "symbol": events["symbol"].to_numpy(),
            "ex_date": events["ex_date"].to_numpy(),
            "split_factor": np.where(is_split, events["ratio"].to_numpy(float), 1.0),
            "div_factor_crsp": np.where(is_div, crsp_dividend_factor(amount, events["previous_close"]), 1.0),
            "div_factor_alpha_vantage": np.where(is_div, alpha_vantage_dividend_factor(amount, events["ex_close"]), 1.0),
        }
    )


def session_factors(
    bars: pd.DataFrame,
    corp_actions: pd.DataFrame,
    *,
    seed: pd.DataFrame | None = None,
    delisting: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rows of curated/equities_ohlcv_adj for `bars` (symbol, date, open, high, low, close, volume).

    Cumulative factors count the events with ex_date <= date that pass `screen_events` (blocked
    events are left out). `seed` (optional; symbol, date, close and the factor columns: each
    symbol's last stored row before the bars) starts each symbol's products at its stored values and
    events with ex_date <= its seed date are not counted again; its close is the previous close of
    an event on the first bar. `delisting` (symbol, date, delisting_return) fills delisting_return.
    Rows come sorted by symbol, date; ``date`` as datetime.date.
    """
    rows = bars.loc[:, ["symbol", "date", "open", "high", "low", "close", "volume"]].copy()
    rows["symbol"] = rows["symbol"].astype(str)
    rows["date"] = as_datetime(rows["date"])
    rows = rows.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    seed_rows = None
    if seed is not None and len(seed):
        seed_rows = seed.assign(symbol=seed["symbol"].astype(str), date=as_datetime(seed["date"]))
        seed_rows = seed_rows.sort_values("date").drop_duplicates("symbol", keep="last")
    events, _ = screen_events(corp_actions, rows, seed_rows)
    steps = event_steps(events)
    if seed_rows is not None:
        seed_date = steps["symbol"].map(seed_rows.set_index("symbol")["date"])
        steps = steps[~(steps["ex_date"] <= seed_date)]
    factors = list(FACTOR_COLUMNS)
    if len(steps) and len(rows):
        steps = steps.sort_values(["symbol", "ex_date"], kind="stable")
        cum = steps.groupby("symbol", sort=False)[factors].cumprod()
        cum[["symbol", "ex_date"]] = steps[["symbol", "ex_date"]]
        cum = cum.groupby(["symbol", "ex_date"], sort=False).last().reset_index().sort_values("ex_date", kind="stable")
        order = np.argsort(rows["date"].to_numpy(), kind="stable")
        probe = pd.DataFrame({"_row": order, "symbol": rows["symbol"].to_numpy()[order], "date": rows["date"].to_numpy()[order]})
        hit = pd.merge_asof(probe, cum.rename(columns={"ex_date": "date"}), on="date", by="symbol", direction="backward")
        values = np.ones((len(rows), len(factors)))
        values[hit["_row"].to_numpy()] = hit[factors].fillna(1.0).to_numpy(float)
    else:
        values = np.ones((len(rows), len(factors)))
    for i, col in enumerate(factors):
        rows[col] = values[:, i]
    if seed_rows is not None:
        seeded = seed_rows.set_index("symbol")[factors]
        mult = seeded.reindex(rows["symbol"]).fillna(1.0).to_numpy(float)
        rows[factors] = mult * rows[factors].to_numpy(float)
    rows["delisting_return"] = np.nan
    if delisting is not None and len(delisting):
        d = delisting.assign(symbol=delisting["symbol"].astype(str), date=as_datetime(delisting["date"]))
        key = pd.MultiIndex.from_frame(rows[["symbol", "date"]])
        rows["delisting_return"] = d.set_index(["symbol", "date"])["delisting_return"].reindex(key).to_numpy(float)
    rows["date"] = rows["date"].dt.date
    return rows.loc[:, list(CURATED_COLUMNS)]


def adjust_with_reference(rows: pd.DataFrame, reference: pd.DataFrame, convention: str) -> pd.DataFrame:
    """`rows` (stored curated rows) with adj_* columns, adjusted to each symbol's `reference` factors
    (symbol, split_factor, div_factor_<convention>: its stored factors at the as-of session)."""
    div = div_factor_column(convention)
    ref = reference.assign(symbol=reference["symbol"].astype(str)).drop_duplicates("symbol", keep="last").set_index("symbol")
    codes, uniques = pd.factorize(rows["symbol"].astype(str))
    per_symbol = ref.reindex(uniques)
    s_ref = per_symbol["split_factor"].to_numpy(float)[codes]
    d_ref = per_symbol[div].to_numpy(float)[codes]
    split_ratio = s_ref / rows["split_factor"].to_numpy(float)
    price_ratio = (d_ref / rows[div].to_numpy(float)) / split_ratio
    adjusted = {f"adj_{col}": rows[col].to_numpy(float) * price_ratio for col in PRICE_COLUMNS}
    adjusted["adj_volume"] = rows["volume"].to_numpy(float) * split_ratio
    return rows.assign(**adjusted)


def adjust_from_factors(stored: pd.DataFrame, asof: object = None, convention: str = "crsp") -> pd.DataFrame:
    """Stored curated rows with dates <= T adjusted as of T (`asof`, default the last stored date).

    Each symbol's reference factors are its row at the last stored date <= T. Rows after T are
    dropped: they were not known at T. Sorted by symbol, date.
    """
    div = div_factor_column(convention)
    dates = as_datetime(stored["date"])
    last = dates.max() if asof is None else pd.Timestamp(as_date(asof, "asof"))
    rows = stored[dates <= last]
    rows = rows.iloc[np.lexsort((as_datetime(rows["date"]).to_numpy(), rows["symbol"].astype(str).to_numpy()))]
    rows = rows.reset_index(drop=True)
    reference = rows.groupby(rows["symbol"].astype(str), sort=False)[["split_factor", div]].last().reset_index()
    return adjust_with_reference(rows, reference, convention)


def adjusted_ohlcv(
    bars: pd.DataFrame, corp_actions: pd.DataFrame, *, convention: str = "crsp", asof: object = None
) -> pd.DataFrame:
    """`bars` (as traded) with adj_open, adj_high, adj_low, adj_close, adj_volume added, adjusted as of
    T = `asof` (default: the last bar date) with the events whose ex_date <= T.

    OHLC share one factor (splits and dividends of `convention`); volume is adjusted for splits
    only (volume x ratio before a split). Rows after T are dropped. Blocked events (see
    `check_corp_actions`) are not applied. Sorted by symbol, date.
    """
    dates = as_datetime(bars["date"])
    last = dates.max() if asof is None else pd.Timestamp(as_date(asof, "asof"))
    known_bars = bars[dates <= last]
    known_events = corp_actions[as_datetime(corp_actions["ex_date"]) <= last]
    stored = session_factors(known_bars, known_events)
    adjusted = adjust_from_factors(stored, last, convention)
    order = np.lexsort((as_datetime(known_bars["date"]).to_numpy(), known_bars["symbol"].astype(str).to_numpy()))
    out = known_bars.iloc[order].reset_index(drop=True)
    for col in ADJUSTED_COLUMNS:
        out[col] = adjusted[col].to_numpy()
    return out

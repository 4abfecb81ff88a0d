"""Quality checks of corporate-action input before it adjusts anything.

`check_corp_actions` lists every problem as (symbol, date, qc_code, detail). Codes in
`BLOCKING_CODES` would make an adjustment wrong: their events are excluded from the factors (the
symbol/session is RED) and nothing already stored changes. The other codes are AMBER: the event is
still applied the way stated in its detail (one copy of an exact duplicate; a non-session ex-date
from the next session on).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from trademl.curate.event_prices import as_datetime, event_closes

SPLIT_RATIO_INVALID = "SPLIT_RATIO_INVALID"
DIVIDEND_AMOUNT_INVALID = "DIVIDEND_AMOUNT_INVALID"
DIVIDEND_EXCEEDS_CLOSE = "DIVIDEND_EXCEEDS_CLOSE"
CORP_ACTION_CONFLICT = "CORP_ACTION_CONFLICT"
EVENT_TYPE_UNKNOWN = "EVENT_TYPE_UNKNOWN"
CORP_ACTION_DUPLICATE = "CORP_ACTION_DUPLICATE"
CORP_ACTION_NON_SESSION = "CORP_ACTION_NON_SESSION"
BARS_MISSING = "BARS_MISSING"
CORP_ACTIONS_MISSING = "CORP_ACTIONS_MISSING"

BLOCKING_CODES: frozenset[str] = frozenset(
    {SPLIT_RATIO_INVALID, DIVIDEND_AMOUNT_INVALID, DIVIDEND_EXCEEDS_CLOSE, CORP_ACTION_CONFLICT, EVENT_TYPE_UNKNOWN}
)
EVENT_TYPES: tuple[str, ...] = ("SPLIT", "DIVIDEND")
PROBLEM_COLUMNS: tuple[str, ...] = ("symbol", "date", "qc_code", "detail")


def empty_problems() -> pd.DataFrame:
    """A problems frame with no rows (symbol, date, qc_code, detail)."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else object) for c in PROBLEM_COLUMNS})


def problem_status(qc_codes: pd.Series) -> pd.Series:
    """RED for blocking codes, AMBER for the rest."""
    return pd.Series(np.where(qc_codes.isin(BLOCKING_CODES), "RED", "AMBER"), index=qc_codes.index)


def _problems(symbol: pd.Series, date: pd.Series, code: str, detail: pd.Series | str) -> pd.DataFrame:
    return pd.DataFrame(
        {"symbol": symbol.astype(str).to_numpy(), "date": as_datetime(date).to_numpy(), "qc_code": code,
         "detail": detail.to_numpy() if isinstance(detail, pd.Series) else detail}
    )


def screen_events(
    corp_actions: pd.DataFrame, bars: pd.DataFrame, seed: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events that may adjust prices, their problems): blocked events removed, exact duplicates kept once.

    Returned events carry ``previous_close`` and ``ex_close`` (see `event_closes`) and ``ex_date`` as
    datetime64. Problems hold the blocking codes and CORP_ACTION_DUPLICATE.
    """
    ev = corp_actions.loc[:, ["symbol", "event_type", "ex_date", "ratio", "amount"]].copy()
    ev["symbol"] = ev["symbol"].astype(str)
    ev["ex_date"] = as_datetime(ev["ex_date"])
    ev["ratio"] = pd.to_numeric(ev["ratio"], errors="coerce").astype(float)
    ev["amount"] = pd.to_numeric(ev["amount"], errors="coerce").astype(float)
    ev = ev.reset_index(drop=True)
    found = []
    key = ["symbol", "event_type", "ex_date"]
    value = np.where(ev["event_type"].eq("SPLIT"), ev["ratio"], ev["amount"])
    ev["_value"] = value
    dup = ev.duplicated(key, keep=False)
    if dup.any():
        distinct = ev[dup].groupby(key)["_value"].nunique(dropna=False)
        conflict_keys = distinct[distinct > 1].index
        is_conflict = pd.MultiIndex.from_frame(ev[key]).isin(conflict_keys)
        c = ev[is_conflict].drop_duplicates(key)
        found.append(_problems(c["symbol"], c["ex_date"], CORP_ACTION_CONFLICT,
                               "events with one key and different values: " + c["event_type"] + " excluded"))
        same = ev[dup & ~is_conflict].drop_duplicates(key)
        found.append(_problems(same["symbol"], same["ex_date"], CORP_ACTION_DUPLICATE,
                               "identical " + same["event_type"] + " listed more than once: applied once"))
        ev = ev[~is_conflict].drop_duplicates(key).reset_index(drop=True)
    unknown = ~ev["event_type"].isin(EVENT_TYPES)
    bad_split = ev["event_type"].eq("SPLIT") & ~(ev["ratio"] > 0)
    bad_div = ev["event_type"].eq("DIVIDEND") & ~(ev["amount"] > 0)
    found.append(_problems(ev.loc[unknown, "symbol"], ev.loc[unknown, "ex_date"], EVENT_TYPE_UNKNOWN,
                           "event_type " + ev.loc[unknown, "event_type"].astype(str) + " is not SPLIT or DIVIDEND"))
    found.append(_problems(ev.loc[bad_split, "symbol"], ev.loc[bad_split, "ex_date"], SPLIT_RATIO_INVALID,
                           "split ratio " + ev.loc[bad_split, "ratio"].astype(str) + " is not > 0"))
    found.append(_problems(ev.loc[bad_div, "symbol"], ev.loc[bad_div, "ex_date"], DIVIDEND_AMOUNT_INVALID,
                           "dividend amount " + ev.loc[bad_div, "amount"].astype(str) + " is not > 0"))
    ev = event_closes(ev[~(unknown | bad_split | bad_div)].reset_index(drop=True), bars, seed)
    # A same-day split turns the previous close into post-split shares before the dividend is compared.
    same_day_split = ev[ev["event_type"].eq("SPLIT")].groupby(["symbol", "ex_date"])["ratio"].prod()
    ratio_today = same_day_split.reindex(pd.MultiIndex.from_frame(ev[["symbol", "ex_date"]])).fillna(1.0).to_numpy()
    ev["previous_close"] = ev["previous_close"].to_numpy(float) / ratio_today
    too_big = ev["event_type"].eq("DIVIDEND") & (ev["amount"] >= ev["previous_close"])
    found.append(_problems(ev.loc[too_big, "symbol"], ev.loc[too_big, "ex_date"], DIVIDEND_EXCEEDS_CLOSE,
                           "dividend " + ev.loc[too_big, "amount"].astype(str) + " >= previous close "
                           + ev.loc[too_big, "previous_close"].round(6).astype(str)))
    problems = pd.concat([empty_problems(), *found], ignore_index=True)
    return ev[~too_big].drop(columns="_value").reset_index(drop=True), problems


def check_corp_actions(corp_actions: pd.DataFrame, bars: pd.DataFrame, sessions: Iterable) -> pd.DataFrame:
    """Every problem of the corporate actions and bars of a window of `sessions` (XNYS session dates):
    the blocking codes and duplicates of `screen_events`, CORP_ACTION_NON_SESSION (ex_date not a
    session inside the window's span) and BARS_MISSING (a session between a symbol's first and last
    bar without a bar). Columns: symbol, date (datetime64), qc_code, detail; sorted by date, symbol."""
    window = pd.DatetimeIndex(as_datetime(pd.Series(list(sessions)))).sort_values()
    _, problems = screen_events(corp_actions, bars)
    found = [problems]
    ex = as_datetime(corp_actions["ex_date"])
    if len(window):
        inside = (ex >= window[0]) & (ex <= window[-1])
        off = inside & ~ex.isin(window)
        found.append(_problems(corp_actions.loc[off, "symbol"], ex[off], CORP_ACTION_NON_SESSION,
                               "ex_date is not an XNYS session: applied from the next session"))
        found.append(_missing_bars(bars, window))
    out = pd.concat(found, ignore_index=True)
    return out.sort_values(["date", "symbol", "qc_code"], kind="stable").reset_index(drop=True)


def _missing_bars(bars: pd.DataFrame, window: pd.DatetimeIndex) -> pd.DataFrame:
    """Sessions of `window` between each symbol's first and last bar that have no bar."""
    if len(bars) == 0:
        return empty_problems()
    dates = as_datetime(bars["date"])
    symbols = bars["symbol"].astype(str)
    span = pd.DataFrame({"symbol": symbols, "date": dates}).groupby("symbol")["date"].agg(["min", "max"])
    lo = window.searchsorted(span["min"].to_numpy(), "left")
    hi = window.searchsorted(span["max"].to_numpy(), "right")
    counts = np.maximum(hi - lo, 0)
    sym = np.repeat(span.index.to_numpy(), counts)
    pos = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    expected = pd.MultiIndex.from_arrays([sym, window[pos]])
    have = pd.MultiIndex.from_arrays([symbols.to_numpy(), dates.to_numpy()])
    gone = expected[~expected.isin(have)]
    return _problems(pd.Series(gone.get_level_values(0)), pd.Series(gone.get_level_values(1)), BARS_MISSING,
                     "no bar for a session inside the symbol's traded range")

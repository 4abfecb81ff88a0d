"""Storing and reading curated/equities_ohlcv_adj in the lake (no Dagster; the curated asset calls these).

`curate_range` builds one curated partition per session from raw/equities_bars,
reference/corp_actions and reference/delistings, seeding each symbol's cumulative factors with its
last stored curated row before the window, and returns what it found (it does not write the
ledger: the asset hands `CurateReport.problems` to the shared ledger writer). Writes are content
hashed, so a rerun over unchanged input writes nothing. `read_adjusted` reads stored rows and
adjusts them as of a session.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.curate.conventions import div_factor_column
from trademl.curate.corp_action_checks import (
    CORP_ACTIONS_MISSING,
    PROBLEM_COLUMNS,
    check_corp_actions,
    empty_problems,
    problem_status,
)
from trademl.curate.delisting import delisting_returns
from trademl.curate.event_prices import as_datetime
from trademl.curate.factors import ADJUSTED_COLUMNS, FACTOR_COLUMNS, adjust_with_reference, session_factors
from trademl.curate.settings import CuratorSettings, curator_settings
from trademl.data.control import read_partition_status
from trademl.data.lake import Lake

CURATED = "curated/equities_ohlcv_adj"
RAW_BARS = "raw/equities_bars"
CORP_ACTIONS = "reference/corp_actions"
DELISTINGS = "reference/delistings"
BAR_COLUMNS = ["symbol", "date", "open", "high", "low", "close", "volume"]
EVENT_COLUMNS = ["symbol", "event_type", "ex_date", "ratio", "amount"]
SEED_COLUMNS = ["symbol", "date", "close", *FACTOR_COLUMNS]
RAW_RED = "RAW_RED"


@dataclass(frozen=True)
class CurateReport:
    """What `curate_range` did: sessions whose partition got a new version / was already identical,
    `problems` (symbol (None = whole session), date, qc_code, detail, status RED|AMBER) and
    `missing_input` (sessions of the window with no raw bars at all: nothing was written for them)."""

    sessions_written: list[dt.date] = field(default_factory=list)
    sessions_unchanged: list[dt.date] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=lambda: empty_problems().assign(status=pd.Series(dtype=object)))
    missing_input: list[dt.date] = field(default_factory=list)


def as_lake(lake_or_root: Lake | str | os.PathLike) -> Lake:
    """`lake_or_root` itself when it is a Lake, else the Lake at that root."""
    return lake_or_root if isinstance(lake_or_root, Lake) else Lake(lake_or_root)


def last_stored_rows(lake: Lake, before: dt.date, symbols: list[str] | None, lookback_start: dt.date) -> pd.DataFrame:
    """Each symbol's last curated row dated before `before` (SEED_COLUMNS): searched in
    [lookback_start, before) first, then in the whole earlier history for the symbols not found."""
    day_before = calendar.previous_session(before).date()
    if day_before < lookback_start:
        return pd.DataFrame(columns=SEED_COLUMNS)
    recent = lake.read(CURATED, lookback_start, day_before, symbols=symbols, columns=SEED_COLUMNS).to_pandas()
    found = recent.drop_duplicates("symbol", keep="last")
    rest = None if symbols is None else sorted(set(symbols) - set(found["symbol"]))
    older_end = calendar.previous_session(lookback_start).date()
    files = lake.latest_files(CURATED, None, older_end)
    if files and (rest is None or rest):
        cols = ", ".join(f'arg_max("{c}", "date") AS "{c}"' for c in SEED_COLUMNS if c != "symbol")
        where = "" if rest is None else "WHERE list_contains($symbols, symbol)"
        params: dict[str, object] = {"files": files, **({} if rest is None else {"symbols": rest})}
        con = duckdb.connect()
        try:
            lake.register(con)
            older = con.sql(f"SELECT symbol, {cols} FROM read_parquet($files) {where} GROUP BY symbol", params=params).df()
        finally:
            con.close()
        older = older[~older["symbol"].isin(found["symbol"])]
        found = pd.concat([older, found], ignore_index=True)
    return found.reset_index(drop=True)


@dataclass(frozen=True)
class CuratedBuild:
    """The curated rows of a window, not yet written (`rows`: the table's columns, date as
    datetime.date), its `problems` (as in CurateReport) and `missing_input` sessions. The frame an
    asset hands to `trademl.data.layer_output.store_layer_output` when it wants ledger-first writes."""

    rows: pd.DataFrame
    problems: pd.DataFrame
    missing_input: list[dt.date]


def build_curated(
    first: object, last: object, *, lake: Lake, engine: Engine | None = None, settings: CuratorSettings | None = None
) -> CuratedBuild:
    """The curated rows and problems of the sessions in [first, last], read from the lake (nothing written).

    Reads raw bars and corporate actions from `seed_lookback_sessions` before `first` (previous
    closes), each symbol's last stored curated row before `first` (the factor seed) and the
    delistings whose last trading session falls in the window. Problems: `check_corp_actions`
    codes (blocking -> RED, the event excluded), CORP_ACTIONS_MISSING (AMBER, session-level) for a
    session reference/corp_actions was never checked for (no partition and no ledger row), and RAW_RED (RED) for symbol-sessions the
    raw ledger marks RED when `engine` is given.
    """
    cfg = settings or curator_settings()
    days = calendar.sessions(first, last)
    lo, hi = days[0].date(), days[-1].date()
    look = calendar.previous_session(lo, cfg.seed_lookback_sessions).date()
    raw = lake.read(RAW_BARS, look, hi, columns=BAR_COLUMNS).to_pandas()
    events = lake.read(CORP_ACTIONS, look, hi, columns=EVENT_COLUMNS).to_pandas()
    delist = lake.read(DELISTINGS, lo, calendar.next_session(hi).date(), columns=["symbol", "delist_date", "reason"]).to_pandas()
    seed = last_stored_rows(lake, lo, sorted(raw["symbol"].unique()), look)
    booked = delisting_returns(raw, delist, cfg)
    rows = session_factors(raw, events, seed=seed, delisting=booked)
    rows = rows[(rows["date"] >= lo) & (rows["date"] <= hi)].reset_index(drop=True)
    raw_dates = as_datetime(raw["date"])
    window_bars = raw[(raw_dates >= days[0]) & (raw_dates <= days[-1])]
    problems = check_corp_actions(events, raw, days)
    problems = problems[(problems["date"] >= days[0]) & (problems["date"] <= days[-1])]
    # reference/corp_actions is sparse (a session without events stores no partition): a session
    # was checked when it has a stored partition or a ledger row.
    checked = set(lake.partitions(CORP_ACTIONS))
    if engine is not None:
        checked |= set(read_partition_status(engine, CORP_ACTIONS, lo, hi)["dt"])
    no_events = [d for d in days if d.date() not in checked]
    found = [problems, pd.DataFrame({"symbol": None, "date": pd.DatetimeIndex(no_events), "qc_code": CORP_ACTIONS_MISSING,
                                     "detail": "no reference/corp_actions partition for the session: factors may miss events"})]
    if engine is not None:
        ledger = read_partition_status(engine, RAW_BARS, lo, hi)
        red = ledger[ledger["status"].eq("RED")]
        found.append(pd.DataFrame({"symbol": red["symbol"].to_numpy(), "date": as_datetime(red["dt"]).to_numpy(), "qc_code": RAW_RED,
                                   "detail": "raw/equities_bars is RED: " + red["qc_code"].fillna("").astype(str).to_numpy()}))
    problems = pd.concat([empty_problems(), *found], ignore_index=True).loc[:, list(PROBLEM_COLUMNS)]
    problems["status"] = np.where(problems["qc_code"].eq(RAW_RED), "RED", problem_status(problems["qc_code"]))
    bar_days = set(as_datetime(window_bars["date"]).dt.date)
    return CuratedBuild(
        rows=rows,
        problems=problems.sort_values(["date", "symbol", "qc_code"], kind="stable", na_position="first").reset_index(drop=True),
        missing_input=[d.date() for d in days if d.date() not in bar_days],
    )


def curate_range(
    first: object, last: object, *, lake: Lake, engine: Engine | None = None, settings: CuratorSettings | None = None
) -> CurateReport:
    """`build_curated` for [first, last], then one curated partition written per session with rows
    (replace mode, content-hashed: an unchanged session writes nothing). The ledger is not written:
    the caller records `CurateReport.problems` (or uses `build_curated` + store_layer_output)."""
    build = build_curated(first, last, lake=lake, engine=engine, settings=settings)
    results = lake.write_partitions(CURATED, build.rows) if len(build.rows) else []
    return CurateReport(
        sessions_written=[r.partition for r in results if r.changed],
        sessions_unchanged=[r.partition for r in results if not r.changed],
        problems=build.problems,
        missing_input=build.missing_input,
    )


def reference_factors(lake: Lake, after: dt.date, asof: dt.date, symbols: list[str] | None, convention: str) -> pd.DataFrame:
    """Each symbol's stored (split_factor, div_factor_<convention>) at its last curated row in (after, asof]."""
    div = div_factor_column(convention)
    files = lake.latest_files(CURATED, after + dt.timedelta(days=1), asof)
    if not files:
        return pd.DataFrame(columns=["symbol", "split_factor", div])
    where = "" if symbols is None else "WHERE list_contains($symbols, symbol)"
    params: dict[str, object] = {"files": files, **({} if symbols is None else {"symbols": list(symbols)})}
    con = duckdb.connect()
    try:
        lake.register(con)
        query = (f'SELECT symbol, arg_max(split_factor, "date") AS split_factor, arg_max("{div}", "date") AS "{div}" '
                 f"FROM read_parquet($files) {where} GROUP BY symbol")
        return con.sql(query, params=params).df()
    finally:
        con.close()


def read_adjusted(
    lake_or_root: Lake | str | os.PathLike,
    start: object,
    end: object,
    *,
    asof: object = None,
    symbols: list[str] | str | None = None,
    convention: str | None = None,
) -> pd.DataFrame:
    """Curated rows in [start, end] adjusted as of `asof` (default `end`): symbol, date, the as-traded
    open, high, low, close, volume, delisting_return and adj_open, adj_high, adj_low, adj_close, adj_volume.

    "As of T" uses each symbol's stored factors at its last curated row <= T, i.e. the events known
    by session T (asof after end: prices of [start, end] in the share and dividend terms of T; asof
    before end: the rows after asof are not returned, they were not known then). `convention`
    defaults to configs/curator.yml default_convention. Only the needed columns are read.
    """
    lake = as_lake(lake_or_root)
    conv = convention or curator_settings().default_convention
    div = div_factor_column(conv)
    lo = calendar.as_date(start, "start")
    hi = calendar.as_date(end, "end")
    t = hi if asof is None else calendar.as_date(asof, "asof")
    hi = min(hi, t)
    sym = [symbols] if isinstance(symbols, str) else (None if symbols is None else list(symbols))
    cols = ["symbol", "date", "open", "high", "low", "close", "volume", "delisting_return", "split_factor", div]
    if hi < lo:
        return pd.DataFrame(columns=[*cols[:8], *ADJUSTED_COLUMNS])
    rows = lake.read(CURATED, lo, hi, symbols=sym, columns=cols, order="symbol").to_pandas()
    ref = rows.groupby("symbol", sort=False)[["split_factor", div]].last().reset_index()
    if t > hi:
        later = reference_factors(lake, hi, t, sym, conv)
        ref = pd.concat([ref[~ref["symbol"].isin(later["symbol"])], later], ignore_index=True)
    out = adjust_with_reference(rows, ref, conv)
    return out.drop(columns=["split_factor", div]).reset_index(drop=True)

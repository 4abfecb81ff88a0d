"""Late or revised corporate actions: find them in the stored factors and rebuild only what they touch.

A stored curated row's factors are the events known when it was curated. An event ingested later
(or revised) with an ex_date inside the stored history leaves a step in the stored cumulative
factors that differs from the step the event implies. `late_events` finds those by comparing, per
symbol, the stored factor step across each ex_date with the recomputed one (robust to clocks and
to re-ingests: it looks at the data, not at timestamps). `curate_incremental` rebuilds that
symbol's rows from the first stale session on (lake merge writes of that symbol's rows only) and
records ledger rows with source ``curator``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.curate.corp_action_checks import screen_events
from trademl.curate.event_prices import as_datetime
from trademl.curate.factors import FACTOR_COLUMNS, event_steps, session_factors
from trademl.curate.store import BAR_COLUMNS, CORP_ACTIONS, CURATED, EVENT_COLUMNS, RAW_BARS, SEED_COLUMNS, last_stored_rows
from trademl.data.control import upsert_partition_status
from trademl.data.lake import Lake

SOURCE = "curator"
CORP_ACTION_REBUILT = "CORP_ACTION_REBUILT"
LATE_COLUMNS = ("symbol", "event_type", "ex_date", "ratio", "amount", "first_stale")
# Relative difference between a stored and a recomputed factor step that counts as a miss.
STEP_TOLERANCE = 1e-9
# Sessions read before the earliest event to find the stored row preceding it (a longer gap in a
# symbol's stored rows hides an event at its start: it is then treated as before the symbol's history).
PRECEDING_ROW_SESSIONS = 30


@dataclass(frozen=True)
class IncrementalReport:
    """What `curate_incremental` did: the late events (see `late_events`), the sessions rewritten per
    symbol and the number of ledger rows written."""

    events: pd.DataFrame
    sessions_rewritten: dict[str, list[dt.date]] = field(default_factory=dict)
    ledger_rows: int = 0


def late_events(lake: Lake, engine: Engine | None = None, since: object = None) -> pd.DataFrame:
    """Corporate actions (ex_date >= `since` when given) not reflected in the stored factors of the
    symbol's curated rows: symbol, event_type, ex_date, ratio, amount and first_stale (the first stored
    session on or after ex_date, from which the rows are stale). Blocked events never count.

    Events before a symbol's first stored row, or after its last, are not late (they change no stored
    adjustment ratio). `engine` is accepted for symmetry with the other storage functions and unused.
    """
    del engine
    lo = None if since is None else calendar.as_date(since, "since")
    events = lake.read(CORP_ACTIONS, lo, None, columns=EVENT_COLUMNS).to_pandas()
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LATE_COLUMNS})
    if events.empty:
        return empty
    first_ex = as_datetime(events["ex_date"]).min()
    start = calendar.previous_session(first_ex if lo is None else lo, PRECEDING_ROW_SESSIONS).date()
    stored = lake.read(CURATED, start, None, symbols=sorted(events["symbol"].unique()), columns=SEED_COLUMNS).to_pandas()
    if stored.empty:
        return empty
    stored["date"] = as_datetime(stored["date"])
    screened, _ = screen_events(events, stored)
    steps = event_steps(screened)
    steps["_row"] = np.arange(len(steps))
    dates = stored[["symbol", "date"]].sort_values("date")
    by_ex = steps.sort_values("ex_date")
    t0 = pd.merge_asof(by_ex, dates.rename(columns={"date": "ex_date"}).assign(t0=dates["date"].to_numpy()), on="ex_date",
                       by="symbol", direction="backward", allow_exact_matches=False)
    t1 = pd.merge_asof(by_ex, dates.rename(columns={"date": "ex_date"}).assign(t1=dates["date"].to_numpy()), on="ex_date",
                       by="symbol", direction="forward")
    steps["t0"] = t0.set_index("_row")["t0"].reindex(steps["_row"]).to_numpy()
    steps["t1"] = t1.set_index("_row")["t1"].reindex(steps["_row"]).to_numpy()
    inside = steps.dropna(subset=["t0", "t1"])
    if inside.empty:
        return empty
    factors = list(FACTOR_COLUMNS)
    expected = inside.groupby(["symbol", "t0", "t1"])[factors].prod()
    at = stored.set_index(["symbol", "date"])[factors]
    keys = expected.index.to_frame(index=False)
    before = at.reindex(pd.MultiIndex.from_frame(keys[["symbol", "t0"]])).to_numpy(float)
    after = at.reindex(pd.MultiIndex.from_frame(keys[["symbol", "t1"]])).to_numpy(float)
    miss = (np.abs((after / before) / expected.to_numpy(float) - 1.0) > STEP_TOLERANCE).any(axis=1)
    stale = expected.index[miss]
    hit = pd.MultiIndex.from_frame(inside[["symbol", "t0", "t1"]]).isin(stale)
    late = screened.iloc[inside["_row"].to_numpy()[hit]]
    out = late.loc[:, ["symbol", "event_type", "ex_date", "ratio", "amount"]].copy()
    out["ex_date"] = out["ex_date"].dt.date
    out["first_stale"] = pd.to_datetime(inside["t1"].to_numpy()[hit]).date
    return out.sort_values(["symbol", "ex_date", "event_type"]).reset_index(drop=True)


def curate_incremental(*, lake: Lake, engine: Engine, symbols: list[str] | None = None) -> IncrementalReport:
    """Rebuild each symbol with late or revised events (optionally only `symbols`) from its first stale
    session on: its rows are recomputed from raw bars seeded with its last good stored row, merged
    into the stored partitions (other symbols' rows untouched; unchanged partitions not rewritten),
    and every rewritten session gets a ledger row (source ``curator``, GREEN, CORP_ACTION_REBUILT)."""
    late = late_events(lake)
    if symbols is not None:
        late = late[late["symbol"].isin(list(symbols))].reset_index(drop=True)
    rewritten: dict[str, list[dt.date]] = {}
    ledger = []
    for symbol, group in late.groupby("symbol", sort=True):  # one iteration per affected symbol
        since = min(group["first_stale"])
        stale = lake.read(CURATED, since, None, symbols=symbol).to_pandas()
        seed = last_stored_rows(lake, since, [str(symbol)], calendar.previous_session(since, PRECEDING_ROW_SESSIONS).date())
        raw = lake.read(RAW_BARS, since, max(stale["date"]), symbols=symbol, columns=BAR_COLUMNS).to_pandas()
        events = lake.read(CORP_ACTIONS, None, None, symbols=symbol, columns=EVENT_COLUMNS).to_pandas()
        booked = stale.loc[stale["delisting_return"].notna(), ["symbol", "date", "delisting_return"]]
        rows = session_factors(raw, events, seed=seed, delisting=booked)
        rows = rows[rows["date"].isin(set(stale["date"]))]
        results = lake.write_partitions(CURATED, rows, mode="merge") if len(rows) else []
        days = [r.partition for r in results if r.changed]
        rewritten[str(symbol)] = days
        detail = "rebuilt after late " + ", ".join(group["event_type"] + " " + group["ex_date"].astype(str))
        ledger.append(pd.DataFrame({
            "source_name": SOURCE, "table_name": CURATED, "symbol": str(symbol), "dt": days,
            "partition_key": [d.isoformat() for d in days], "status": "GREEN", "qc_score": 1.0, "row_count": 1,
            "expected_rows": 1, "qc_code": CORP_ACTION_REBUILT, "detail": detail,
        }))
    rows_written = upsert_partition_status(engine, pd.concat(ledger, ignore_index=True)) if ledger else 0
    return IncrementalReport(events=late, sessions_rewritten=rewritten, ledger_rows=rows_written)

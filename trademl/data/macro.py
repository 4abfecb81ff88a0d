"""Point-in-time reads of raw/macros_fred: macro values as they were known at a time t.

A row of raw/macros_fred is a value new or revised at its ``vintage_date`` (ALFRED's vintage, which
may be a weekend or an exchange holiday). The value of observation o *as known at t* is the value
of o's row with the latest ``vintage_date <= t``; an observation first published after t is not
known at t. Later vintages therefore never change what was known at an earlier t.

Times are exchange-local days: a timestamp is reduced to its date (tz-aware instants converted to
New York first), so a vintage dated d counts as known on all of day d. That is ALFRED's daily
resolution (a release at 08:30 New York is known at the open of that session); a Saturday vintage
is known on Saturday, hence at Monday's session, and never at Friday's.

Sources: a `Lake` (reads raw/macros_fred, only the partitions up to the last t) or rows of the
table as a pandas DataFrame / Arrow table (columns series_id, observation_date, value,
vintage_date). Everything is vectorised (sorts, searchsorted, merge_asof); no loop over rows or times.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.calendar import DateLike
from trademl.data.lake import Lake

TABLE = "raw/macros_fred"
KEY = ["series_id", "observation_date", "vintage_date"]
COLUMNS = ["series_id", "observation_date", "value", "vintage_date"]
MacroSource = Lake | pd.DataFrame | pa.Table


Times = DateLike | Sequence[DateLike] | pd.Series | pd.DatetimeIndex


def _as_index(times: Times) -> pd.DatetimeIndex:
    """Times as a DatetimeIndex (a scalar becomes a one-element index), tz kept."""
    if isinstance(times, (pd.DatetimeIndex, pd.Series, pd.Index, np.ndarray, list, tuple)):
        return pd.DatetimeIndex(pd.to_datetime(times))
    return pd.DatetimeIndex([pd.Timestamp(times)])


def as_days(times: Times) -> pd.DatetimeIndex:
    """Times as exchange-local midnight dates (tz-aware instants converted to New York first)."""
    idx = _as_index(times)
    if idx.tz is not None:
        idx = idx.tz_convert(calendar.EXCHANGE_TZ).tz_localize(None)
    if idx.isna().any():
        raise ValueError("times must not contain NaT")
    return idx.normalize().astype("datetime64[ns]")


def vintage_rows(source: MacroSource, series_ids: Sequence[str] | None = None, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """The vintage rows of `series_ids` (all when None) with vintage_date <= `until`, sorted by key.

    Dates come back as datetime64 (midnight); from a Lake only partitions up to the session of
    `until` are read (a vintage is stored at the first session on or after its date).
    """
    ids = [str(s) for s in series_ids] if series_ids is not None else None
    if isinstance(source, Lake):
        end = None
        if until is not None:
            session = calendar.sessions_on_or_after([until])[0]
            end = None if pd.isna(session) else session.date()
        frame = source.read(TABLE, end=end, symbols=ids, columns=COLUMNS).to_pandas()
    else:
        frame = source.to_pandas() if isinstance(source, pa.Table) else source
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"macro rows need columns {COLUMNS}; missing {missing}")
        frame = frame[COLUMNS]
        if ids is not None:
            frame = frame[frame["series_id"].astype(str).isin(ids)]
    frame = frame.assign(
        series_id=frame["series_id"].astype(str),
        observation_date=pd.to_datetime(frame["observation_date"]).astype("datetime64[ns]"),
        vintage_date=pd.to_datetime(frame["vintage_date"]).astype("datetime64[ns]"),
        value=frame["value"].astype("float64"),
    )
    if until is not None:
        frame = frame[frame["vintage_date"] <= until]
    if frame.duplicated(KEY).any():
        dup = frame[frame.duplicated(KEY, keep=False)].iloc[0]
        raise ValueError(f"duplicate macro vintage {dup['series_id']} {dup['observation_date']:%Y-%m-%d} @ {dup['vintage_date']:%Y-%m-%d}")
    return frame.sort_values(KEY, kind="stable").reset_index(drop=True)


def known_at(
    source: MacroSource,
    times: Times,
    series_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every observation known at each t, with its value as known at t.

    Returns columns ``t, series_id, observation_date, value, vintage_date`` (the vintage the value
    comes from), one block per distinct t in ascending order, rows sorted by series and observation.
    Each vintage row is valid from its vintage_date up to (excluding) the observation's next
    vintage; the rows are expanded onto the requested times with one searchsorted per bound.
    """
    days = pd.DatetimeIndex(np.unique(as_days(times).to_numpy()))
    out_cols = ["t", *COLUMNS[:2], "value", "vintage_date"]
    if len(days) == 0:
        return pd.DataFrame(columns=out_cols)
    rows = vintage_rows(source, series_ids, until=days[-1])
    nxt = rows.groupby(["series_id", "observation_date"], sort=False)["vintage_date"].shift(-1)
    grid = days.to_numpy()
    lo = np.searchsorted(grid, rows["vintage_date"].to_numpy(), side="left")
    hi = np.where(nxt.isna().to_numpy(), len(grid), np.searchsorted(grid, nxt.to_numpy(), side="left"))
    count = np.maximum(hi - lo, 0)
    src = np.repeat(np.arange(len(rows)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    out = rows.iloc[src].reset_index(drop=True)
    out.insert(0, "t", grid[np.repeat(lo, count) + step])
    return out.sort_values(["t", "series_id", "observation_date"], kind="stable").reset_index(drop=True)[out_cols]


def value_as_of(
    source: MacroSource, series_id: str, t: DateLike, observation_date: DateLike | None = None
) -> pd.Series | float:
    """Series `series_id` as known at `t`: values indexed by observation_date, or one observation's value.

    With `observation_date` the result is that observation's value as known at t (NaN when it was
    not yet published, or was published as missing).
    """
    snap = known_at(source, [t], [series_id])
    values = pd.Series(snap["value"].to_numpy(), index=pd.DatetimeIndex(snap["observation_date"], name="observation_date"), name=series_id)
    if observation_date is None:
        return values
    day = as_days([observation_date])[0]
    return float(values.get(day, np.nan))


def macro_asof(
    panel_times: Times,
    source: MacroSource,
    series_ids: Sequence[str] | None = None,
    *,
    long: bool = False,
) -> pd.DataFrame:
    """For each panel time t, each series' latest observation as known at t (the last print and its revisions).

    The latest observation known at t is the one with the greatest observation_date among those
    first published on or before t; its value is the one of its latest vintage <= t. Wide (default):
    indexed by `panel_times` in their order (duplicates kept), one column per series, NaN before a
    series' first release. ``long=True``: columns ``t, series_id, observation_date, value,
    vintage_date`` for each (t, series) that has a known observation. Two merge_asof passes.
    """
    given = _as_index(panel_times).rename("t")
    days = as_days(given)
    rows = vintage_rows(source, series_ids, until=days.max() if len(days) else None)
    ids = sorted(rows["series_id"].unique()) if series_ids is None else [str(s) for s in series_ids]
    # Latest observation first published by each release time: running max of observation_date.
    first = rows.groupby(["series_id", "observation_date"], as_index=False)["vintage_date"].min()
    first = first.sort_values(["vintage_date", "observation_date"], kind="stable")
    first["latest"] = first.groupby("series_id")["observation_date"].cummax()
    pos = np.arange(len(days))
    left = pd.DataFrame({
        "pos": np.tile(pos, len(ids)), "t": np.tile(days.to_numpy(), len(ids)), "series_id": np.repeat(ids, len(days)),
    }).sort_values("t", kind="stable")
    latest = pd.merge_asof(
        left, first[["vintage_date", "series_id", "latest"]], left_on="t", right_on="vintage_date", by="series_id",
        direction="backward",
    ).drop(columns="vintage_date").rename(columns={"latest": "observation_date"})
    latest = latest[latest["observation_date"].notna()].sort_values("t", kind="stable")
    valued = pd.merge_asof(
        latest, rows.sort_values("vintage_date", kind="stable"), left_on="t", right_on="vintage_date",
        by=["series_id", "observation_date"], direction="backward",
    )
    if long:
        valued = valued.sort_values(["pos", "series_id"], kind="stable")
        return valued.assign(t=given[valued["pos"].to_numpy()])[["t", *COLUMNS[:2], "value", "vintage_date"]].reset_index(drop=True)
    wide = valued.pivot(index="pos", columns="series_id", values="value").reindex(index=pos, columns=ids)
    wide.index = given
    wide.columns.name = "series_id"
    return wide

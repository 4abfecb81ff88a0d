"""PIT universe eligibility computed from bars and listings, for vendors that publish no universe.

`eligible_universe` gives exactly the reference/universe columns on a session grid. Conventions
(configs/universe.yml, `UniverseSettings`):

- every rule at session t uses data through t-1 only, so the universe of t is known before t's open;
- ADV = mean of close x volume (as traded, USD) over the previous `adv_window` sessions that have
  a bar; price floor on the last close before t; history = number of sessions with a bar before t;
- share class from listing metadata (vendor security types normalised by `share_class_of`): only
  `share_classes` may be eligible (a missing class follows
  `unknown_share_class_eligible`);
- `is_listed` from the listing and delisting dates: listed_date <= t < delist_date, where
  delist_date is the first session the name no longer trades (reference/delistings). A delisted name
  keeps its rows up to and including its delist_date (that last row: is_listed false, DELISTED,
  delist_date set). Rows before it leave delist_date null: a delisting is not known before it
  happens, so appending one after t never changes the rows through t;
- `exclusion_reason` names the first failed rule, in the order DELISTED, SHARE_CLASS,
  INSUFFICIENT_HISTORY, PRICE_BELOW_FLOOR, ADV_BELOW_FLOOR (null when eligible).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.config import config_value, typed_config
from trademl.data.lake import Lake
from trademl.schemas.base import METADATA_COLUMNS
from trademl.schemas.reference import UNIVERSE

UNIVERSE_COLUMNS: tuple[str, ...] = tuple(n for n in UNIVERSE.schema.names if n not in METADATA_COLUMNS)
# Vendor spellings of a listing's security type -> share class (Massive/Polygon ticker types, Alpha
# Vantage OVERVIEW AssetType, plain names); anything else is kept upper-cased as given.
SHARE_CLASS_ALIASES: dict[str, str] = {
    "CS": "COMMON", "COMMON STOCK": "COMMON", "COMMON": "COMMON", "ORDINARY SHARES": "COMMON",
    "PFD": "PREFERRED", "PREFERRED STOCK": "PREFERRED", "ETF": "ETF", "ETN": "ETN", "ETV": "ETF",
    "ADRC": "ADR", "ADR": "ADR", "WARRANT": "WARRANT", "RIGHT": "RIGHT", "UNIT": "UNIT", "FUND": "FUND",
}
REASONS: tuple[str, ...] = ("DELISTED", "SHARE_CLASS", "INSUFFICIENT_HISTORY", "PRICE_BELOW_FLOOR", "ADV_BELOW_FLOOR")


@dataclass(frozen=True)
class UniverseSettings:
    """The eligibility rules of configs/universe.yml (floors in USD, windows in sessions)."""

    price_floor: float
    adv_floor: float
    adv_window: int
    min_history: int
    share_classes: tuple[str, ...]
    unknown_share_class_eligible: bool

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> UniverseSettings:
        name = "universe"
        out = cls(
            price_floor=config_value(doc, "price_floor", float, name=name),
            adv_floor=config_value(doc, "adv_floor", float, name=name),
            adv_window=config_value(doc, "adv_window", int, name=name),
            min_history=config_value(doc, "min_history", int, name=name),
            share_classes=tuple(str(c).upper() for c in config_value(doc, "share_classes", list, name=name)),
            unknown_share_class_eligible=config_value(doc, "unknown_share_class_eligible", bool, name=name, default=True),
        )
        if out.adv_window < 1 or out.min_history < 0 or out.price_floor < 0 or out.adv_floor < 0:
            raise ValueError(
                "configs/universe.yml needs adv_window >= 1 and min_history, price_floor, adv_floor >= 0, got "
                f"{out.adv_window}, {out.min_history}, {out.price_floor}, {out.adv_floor}"
            )
        if not out.share_classes:
            raise ValueError("configs/universe.yml share_classes is empty: no name could ever be eligible")
        return out


def universe_settings() -> UniverseSettings:
    """The current UniverseSettings (re-read when configs/universe.yml or its env override changes)."""
    return typed_config(UniverseSettings, "universe")


def share_class_of(values: pd.Series) -> pd.Series:
    """Listing security types normalised to share classes (``CS`` / ``Common Stock`` -> ``COMMON``,
    ``PFD`` -> ``PREFERRED``, see SHARE_CLASS_ALIASES); null stays null, other values are upper-cased."""
    text = values.astype(object).where(values.notna(), None)
    upper = text.astype("string").str.strip().str.upper()
    return upper.map(SHARE_CLASS_ALIASES).fillna(upper).astype(object).where(upper.notna(), None)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.normalize().astype("datetime64[ns]")


def _names(bars: pd.DataFrame, listings: pd.DataFrame | None, delistings: pd.DataFrame | None) -> pd.DataFrame:
    """One row per symbol: listed_date (listing, else first bar), delist_date (earliest delisting), share_class, sector."""
    first_bar = bars.groupby("symbol", sort=True)["date"].min().rename("first_bar")
    names = first_bar.to_frame()
    if listings is not None and len(listings):
        lst = listings.drop_duplicates("symbol", keep="last").set_index("symbol")
        names = names.join(lst[[c for c in ("listed_date", "share_class", "sector", "delist_date") if c in lst]], how="outer")
    for col in ("listed_date", "share_class", "sector", "delist_date"):
        if col not in names:
            names[col] = None
    names["delist_date"] = _dates(names["delist_date"])
    if delistings is not None and len(delistings):
        events = _dates(delistings["delist_date"]).groupby(delistings["symbol"].to_numpy()).min().rename("_event")
        names = names.join(events.to_frame(), how="outer")
        names["delist_date"] = names[["delist_date", "_event"]].min(axis=1)  # the earliest known delisting
        names = names.drop(columns="_event")
    names["listed_date"] = _dates(names["listed_date"]).fillna(_dates(names["first_bar"]))
    names = names[names["listed_date"].notna()]
    return names.drop(columns="first_bar")


def eligible_universe(
    bars: pd.DataFrame,
    listings: pd.DataFrame | None,
    delistings: pd.DataFrame | None,
    sessions: pd.DatetimeIndex | list[dt.date],
    settings: UniverseSettings,
) -> pd.DataFrame:
    """reference/universe rows (without metadata columns) for `sessions`, from as-traded daily bars.

    `bars`: date, symbol, close, volume (raw, as traded), with history before the first session for
    the trailing rules; `listings`: symbol plus optional listed_date, share_class, sector, delist_date;
    `delistings`: symbol, delist_date (reference/delistings). See the module doc for the rules.
    Rows are ordered by date then symbol.
    """
    grid = pd.DatetimeIndex(pd.to_datetime(list(sessions))).normalize().unique().sort_values()
    out_cols = list(UNIVERSE_COLUMNS)
    bars = bars.assign(date=_dates(bars["date"])) if len(bars) else pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "symbol": [], "close": [], "volume": []})
    names = _names(bars, listings, delistings)
    if len(grid) == 0 or names.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in out_cols})
    first = min(grid[0], bars["date"].min()) if len(bars) else grid[0]
    axis = calendar.sessions(first.date(), grid[-1].date())
    symbols = names.index.to_numpy()
    in_axis = bars[bars["date"].isin(axis) & bars["symbol"].isin(symbols)]
    close = in_axis.pivot_table(index="date", columns="symbol", values="close", aggfunc="last").reindex(index=axis, columns=symbols)
    volume = in_axis.pivot_table(index="date", columns="symbol", values="volume", aggfunc="last").reindex(index=axis, columns=symbols)
    has_bar = close.notna().to_numpy()
    dollar = np.where(has_bar, close.to_numpy() * volume.fillna(0.0).to_numpy(), 0.0)

    # Trailing sums over the previous adv_window sessions, excluding t (data through t-1).
    w = settings.adv_window
    zeros = np.zeros((1, len(symbols)))
    cs = np.vstack([zeros, np.cumsum(dollar, axis=0)])
    cn = np.vstack([zeros, np.cumsum(has_bar, axis=0)])
    t = np.arange(len(axis))
    lo = np.maximum(t - w, 0)
    n_bars = cn[t] - cn[lo]
    adv = np.where(n_bars > 0, (cs[t] - cs[lo]) / np.maximum(n_bars, 1), np.nan)
    history = cn[t]  # sessions with a bar before t
    prev_close = close.ffill().shift(1).to_numpy()

    pos = axis.get_indexer(grid)
    if (pos < 0).any():
        raise ValueError(f"sessions must be XNYS sessions; {grid[pos < 0][0].date()} is not one")
    listed = names["listed_date"].to_numpy()
    delist = names["delist_date"].to_numpy()
    day = grid.to_numpy()[:, None]
    seen = (listed[None, :] <= day) & (pd.isna(delist)[None, :] | (day <= delist[None, :]))
    is_listed = seen & (pd.isna(delist)[None, :] | (day < delist[None, :]))
    delist_known = ~pd.isna(delist)[None, :] & (day >= delist[None, :])  # PIT: no future delisting on earlier rows
    upper = share_class_of(names["share_class"])
    class_ok = upper.isin(settings.share_classes).to_numpy() | (upper.isna().to_numpy() & settings.unknown_share_class_eligible)
    hist_ok = history[pos] >= settings.min_history
    pc = prev_close[pos]
    price_ok = np.nan_to_num(pc, nan=-np.inf) >= settings.price_floor
    adv_ok = np.nan_to_num(adv[pos], nan=-np.inf) >= settings.adv_floor
    checks = np.stack([is_listed, np.broadcast_to(class_ok[None, :], is_listed.shape), hist_ok, price_ok, adv_ok])
    eligible = checks.all(axis=0)
    first_fail = np.argmin(checks, axis=0)
    reason = np.where(eligible, None, np.asarray(REASONS, dtype=object)[first_fail])
    r, c = np.nonzero(seen)
    sector = names["sector"].astype(object).where(names["sector"].notna(), None).to_numpy()
    frame = pd.DataFrame(
        {
            "date": grid[r].date,
            "symbol": symbols[c],
            "is_listed": is_listed[r, c],
            "is_eligible": eligible[r, c],
            "listed_date": pd.DatetimeIndex(listed[c]).date,
            "delist_date": np.where(delist_known[r, c], pd.DatetimeIndex(delist[c]).date, None),
            "share_class": upper.to_numpy()[c],
            "sector": sector[c],
            "exclusion_reason": reason[r, c],
        }
    )
    return frame[out_cols]


def universe_from_lake(
    lake: Lake, start: dt.date, end: dt.date, settings: UniverseSettings, listings: pd.DataFrame | None = None
) -> pd.DataFrame:
    """`eligible_universe` for the sessions [start, end] from the lake's raw/equities_bars and
    reference/delistings (read back max(adv_window, min_history) sessions before `start`, enough for
    every trailing rule). `listings` adds listing dates, share classes and sectors when known; without
    it listed_date is the first bar read (the start of that look-back for seasoned names)."""
    grid = calendar.sessions(start, end)
    if len(grid) == 0:
        return eligible_universe(pd.DataFrame(columns=["date", "symbol", "close", "volume"]), listings, None, grid, settings)
    back = calendar.previous_session(grid[0], max(settings.adv_window, settings.min_history))
    bars = lake.read("raw/equities_bars", start=back.date(), end=end, columns=["date", "symbol", "close", "volume"]).to_pandas()
    delistings = lake.read("reference/delistings", end=end, columns=["symbol", "delist_date"]).to_pandas()
    return eligible_universe(bars, listings, delistings, grid, settings)

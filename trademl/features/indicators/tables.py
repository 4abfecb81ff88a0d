"""Indicator sets as lake tables: `features/indicators_<set>` for every configs/indicator_sets/*.yml.

The values of a session t must be those computed on prices adjusted as known at t (a split after
t must not change an SMA at t). Recomputing the set once per adjustment anchor would be slow, so
the set is computed once on prices expressed in the terms of each symbol's FIRST stored session
and each value is then re-anchored by the indicator's declared scale degrees
(`Indicator.price_degree`, `volume_degree`): with M = div_factor / split_factor and S =
split_factor from the curated rows, the as-of-t price of every bar <= t is the first-session-terms
price times M(t)/M(first) and the as-of-t volume that volume times S(t)/S(first), so a homogeneous
output scales by (M(t)/M(first))**price_degree * (S(t)/S(first))**volume_degree (exact for every
builtin: tests/features/indicators/test_scale_degrees.py). Anchoring on the first session, not the
last, means the inputs of bar r never depend on later data, so a build on data truncated at t sees
bit-identical inputs (a later anchor would rescale them and could flip exact ties, e.g. ADX's
+DM/-DM comparison, in the last bit).

Recursive indicators (EMA, Wilder's RSI/ATR/ADX, OBV) depend on where their history starts, so
tables are built from a fixed origin: the first stored curated session (see
trademl.features.partitions). Daily bars are stamped at their session's close instant (UTC,
13:00 New York on half days) so intraday-clock indicators run on them.
"""

from __future__ import annotations

import pandas as pd

from trademl import calendar
from trademl.features.indicators.compute import compute_indicator_set
from trademl.features.indicators.specs import IndicatorSet, indicator_sets_dir, load_indicator_set
from trademl.schemas import TableSpec, indicator_set_table, register_table

CURATED_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume", "split_factor")


def indicator_set_names() -> list[str]:
    """The indicator sets configured in configs/indicator_sets/ (file stems), sorted."""
    return sorted(p.stem for p in indicator_sets_dir().glob("*.yml"))


def indicator_table(set_name: str) -> TableSpec:
    """The (registered) table spec of one indicator set: its columns are the set's outputs."""
    indicator_set = load_indicator_set(set_name)
    return register_table(indicator_set_table(set_name, indicator_set.output_columns()))


def register_indicator_tables() -> list[TableSpec]:
    """Register the table of every configured indicator set in the catalog (idempotent)."""
    return [indicator_table(name) for name in indicator_set_names()]


def close_stamps(dates: pd.Series) -> pd.Series:
    """Each session date's close instant (UTC): the timestamp a daily bar is stamped with."""
    days = pd.to_datetime(dates)
    if len(days) == 0:
        return pd.Series(pd.DatetimeIndex([], tz="UTC"), index=dates.index)
    table = calendar.session_table(days.min(), days.max())
    closes = pd.Series(table["close_utc"].to_numpy(), index=pd.DatetimeIndex(table["session"]).tz_localize(None))
    stamped = closes.reindex(days.to_numpy())
    if stamped.isna().any():
        bad = days[stamped.isna().to_numpy()].iloc[0]
        raise ValueError(f"{bad.date()} is not an XNYS session")
    return pd.Series(stamped.to_numpy(), index=dates.index)


def anchored_indicator_values(
    curated: pd.DataFrame,
    indicator_set: IndicatorSet,
    *,
    convention: str = "crsp",
    start: object | None = None,
) -> pd.DataFrame:
    """The set's outputs per (symbol, date) from curated rows, each at the adjustment known at its date.

    `curated` holds curated/equities_ohlcv_adj rows (as-traded OHLCV plus split_factor and
    div_factor_<convention>) for each symbol's whole history up to the last date wanted; rows may
    come in any order. Returns ``symbol, date`` and the set's columns for dates >= `start`.
    """
    factor_col = f"div_factor_{convention}"
    missing = [c for c in (*CURATED_COLUMNS, factor_col) if c not in curated.columns]
    if missing:
        raise ValueError(f"curated rows lack columns {missing}")
    rows = curated.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    split = rows["split_factor"].to_numpy(dtype=float)
    mult = rows[factor_col].to_numpy(dtype=float) / split
    first = rows.groupby("symbol", sort=False)
    split_first = first["split_factor"].transform("first").to_numpy(dtype=float)
    mult_first = first[factor_col].transform("first").to_numpy(dtype=float) / split_first
    to_first = mult_first / mult  # first-session-terms price = as-traded price x this (1.0 until an event)
    panel = pd.DataFrame(
        {
            "symbol": rows["symbol"].to_numpy(),
            "ts": close_stamps(rows["date"]).to_numpy(),
            **{c: rows[c].to_numpy(dtype=float) * to_first for c in ("open", "high", "low", "close")},
            "volume": rows["volume"].to_numpy(dtype=float) * (split_first / split),
        }
    )
    indicators = indicator_set.build()
    undeclared = [repr(i) for i in indicators if i.price_degree is None]
    if undeclared:
        raise ValueError(f"indicator set {indicator_set.name!r}: {undeclared} declare no price_degree, so they cannot be re-anchored")
    values = compute_indicator_set(panel, indicators)
    price_anchor, volume_anchor = mult / mult_first, split / split_first
    out = pd.DataFrame({"symbol": rows["symbol"].to_numpy(), "date": pd.to_datetime(rows["date"]).dt.date.to_numpy()})
    for indicator in indicators:  # one iteration per indicator of the set
        scale = price_anchor ** indicator.price_degree * volume_anchor ** indicator.volume_degree
        for column in indicator.output_columns:
            out[column] = values[column].to_numpy() * scale
    if start is not None:
        out = out[out["date"] >= pd.Timestamp(start).date()]
    return out.reset_index(drop=True)


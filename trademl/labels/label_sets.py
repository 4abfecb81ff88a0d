"""Label sets: several configured labels built together into one label table (configs/labels.yml `sets:`).

A set names labels of the `labels:` catalog, which of their columns it keeps (and under what name),
which columns get a cross-sectionally demeaned twin (`xs_<col>` = col minus the session's mean over
symbols) and, optionally, the `labels/...` table whose columns it produces exactly:

    sets:
      equities_xs: {labels: [fwd_logreturns, tb_10d], demean: [logret_fwd_1d], table: labels/equities_xs}

A label entry is a label name, or a mapping ``{label: NAME, columns: {builder_col: out_col}, at: first|last}``.
Without `columns` the builder's columns are kept, prefixed ``<label>_`` (forward_returns' columns
already name their horizon and keep their names). On intraday bars (a `ts` column) a set yields one
row per (symbol, session): `at` picks the session's first or last regular-hours bar as the carrier
of the label (e.g. the first hour after the open, or the close-to-close 5-session return).

A label of session D needs data through D + h sessions (h = `label_horizon`); `build_label_set`
produces no row after `complete_through(set, last session of the data)`, so a row, once produced,
never changes when later data arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.calendar import DateLike
from trademl.config import typed_config
from trademl.labels.configured import BUILDERS, build_label, label_spec
from trademl.labels.frames import require_columns, require_frame
from trademl.schemas.base import TableSpec
from trademl.schemas.labels import LABEL_TABLES

CONFIG = "configs/labels.yml"
TABLES: dict[str, TableSpec] = {t.name: t for t in LABEL_TABLES}
UNPREFIXED_BUILDERS = frozenset({"forward_returns"})


@dataclass(frozen=True)
class SetLabel:
    """One label of a set: the catalog label, its kept columns (builder column -> output column; None = all,
    prefixed) and, on intraday bars, which regular-hours bar of each session carries it."""

    label: str
    columns: Mapping[str, str] | None = None
    at: Literal["first", "last"] = "last"

    @classmethod
    def from_config(cls, entry: Any, where: str) -> SetLabel:
        if isinstance(entry, str):
            return cls(label=entry)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("label"), str):
            raise ValueError(f"{CONFIG} {where}: expected a label name or {{label: NAME, columns: ..., at: ...}}, got {entry!r}")
        unknown = sorted(set(entry) - {"label", "columns", "at"})
        if unknown:
            raise ValueError(f"{CONFIG} {where}: unknown keys {unknown} (allowed: label, columns, at)")
        columns = entry.get("columns")
        if columns is not None and (not isinstance(columns, Mapping) or not columns):
            raise ValueError(f"{CONFIG} {where}.columns: expected a mapping builder_column -> output_column, got {columns!r}")
        at = entry.get("at", "last")
        if at not in ("first", "last"):
            raise ValueError(f"{CONFIG} {where}.at: expected 'first' or 'last', got {at!r}")
        return cls(label=entry["label"], columns=None if columns is None else {str(k): str(v) for k, v in columns.items()}, at=at)


@dataclass(frozen=True)
class LabelSet:
    """A configured label set: its labels, the columns to demean cross-sectionally, its table (or None)
    and the forward horizon in XNYS sessions it needs (the max over its labels)."""

    name: str
    labels: tuple[SetLabel, ...]
    demean: tuple[str, ...]
    table: str | None
    horizon_sessions: int

    @classmethod
    def from_config(cls, name: str, doc: Mapping[str, Any], catalog: Mapping[str, tuple[str, dict[str, Any]]]) -> LabelSet:
        where = f"sets.{name}"
        if not isinstance(doc, Mapping):
            raise ValueError(f"{CONFIG} {where}: expected a mapping, got {doc!r}")
        unknown = sorted(set(doc) - {"labels", "demean", "table", "horizon_sessions"})
        if unknown:
            raise ValueError(f"{CONFIG} {where}: unknown keys {unknown} (allowed: labels, demean, table, horizon_sessions)")
        entries = doc.get("labels")
        if not isinstance(entries, Sequence) or isinstance(entries, str) or not entries:
            raise ValueError(f"{CONFIG} {where}.labels: expected a non-empty list of labels")
        labels = tuple(SetLabel.from_config(e, f"{where}.labels[{i}]") for i, e in enumerate(entries))
        for item in labels:
            if item.label not in catalog:
                raise ValueError(f"{CONFIG} {where}: label {item.label!r} is not defined under `labels:` "
                                 f"(defined: {', '.join(sorted(catalog))})")
        demean = doc.get("demean") or []
        if isinstance(demean, str) or not isinstance(demean, Sequence):
            raise ValueError(f"{CONFIG} {where}.demean: expected a list of column names, got {demean!r}")
        table = doc.get("table")
        if table is not None and table not in TABLES:
            raise ValueError(f"{CONFIG} {where}.table: {table!r} is not a label table (known: {', '.join(sorted(TABLES))})")
        horizon = max(_label_horizon(*catalog[item.label]) for item in labels)
        declared = doc.get("horizon_sessions")
        if declared is not None and declared != horizon:
            raise ValueError(f"{CONFIG} {where}.horizon_sessions: declared {declared!r}, but its labels need {horizon} sessions")
        return cls(name=name, labels=labels, demean=tuple(str(c) for c in demean), table=table, horizon_sessions=horizon)


def _label_horizon(builder: str, params: Mapping[str, Any]) -> int:
    """Forward XNYS sessions a configured label reads beyond its own session (0 = within the session)."""
    if builder == "forward_returns":
        horizons = params.get("horizons", (1, 5, 20))
        return int(max(horizons if isinstance(horizons, Sequence) else [horizons]))
    if builder == "triple_barrier":
        return int(params.get("max_holding", 10))
    if builder == "forward_return_days":
        return int(params.get("days", 5))
    if builder == "close_to_open_direction":
        return 1
    if builder in BUILDERS:  # next_hour_direction, headfake_reversal, pin_drift: inside the session
        return 0
    raise ValueError(f"unknown label builder {builder!r}")


@dataclass(frozen=True)
class LabelSets:
    """configs/labels.yml ``sets:``: every configured label set by name."""

    sets: Mapping[str, LabelSet]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> LabelSets:
        raw = doc.get("sets") or {}
        if not isinstance(raw, Mapping):
            raise ValueError(f"{CONFIG}: `sets` must map set names to {{labels: [...], demean: [...], table: ...}}")
        entries = doc.get("labels") or {}
        catalog = {}
        for name, entry in entries.items() if isinstance(entries, Mapping) else ():
            params = dict(entry or {})
            catalog[str(name)] = (str(params.pop("builder", "")), params)
        return cls(sets={str(n): LabelSet.from_config(str(n), d, catalog) for n, d in raw.items()})


def label_sets() -> LabelSets:
    """The current LabelSets (re-read when configs/labels.yml or its env override changes)."""
    return typed_config(LabelSets, "labels")


def label_set(name: str) -> LabelSet:
    """Configured label set `name` (ValueError listing the defined ones)."""
    sets = label_sets().sets
    if name not in sets:
        raise ValueError(f"no label set {name!r} in {CONFIG} (defined: {', '.join(sorted(sets)) or 'none'})")
    return sets[name]


def label_horizon(name: str) -> int:
    """The forward window, in XNYS sessions, set `name` needs: the max over its labels' horizons and max_holding."""
    return label_set(name).horizon_sessions


def complete_through(name: str, last_session: DateLike) -> dt.date:
    """The last session whose labels of set `name` are observable with data through `last_session`:
    `label_horizon(name)` XNYS sessions before it (the session itself for a horizon of 0)."""
    day = calendar.as_date(last_session, "last_session")
    if not calendar.is_session(day):
        day = calendar.previous_session(day).date()
    horizon = label_horizon(name)
    return day if horizon == 0 else calendar.previous_session(day, horizon).date()


def _label_columns(item: SetLabel, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns configured label `item` adds to `frame`, selected and renamed as the set says."""
    builder, _ = label_spec(item.label)
    out = build_label(item.label, frame)
    added = [c for c in out.columns if c not in frame.columns]
    if item.columns is not None:
        missing = sorted(set(item.columns) - set(added))
        if missing:
            raise ValueError(f"label {item.label!r} has no columns {missing} (it adds {added})")
        return out[list(item.columns)].rename(columns=dict(item.columns))
    prefix = "" if builder in UNPREFIXED_BUILDERS else f"{item.label}_"
    return out[added].rename(columns={c: prefix + c for c in added})


def _regular_session_rows(bars: pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Session date of every intraday bar and whether it starts inside the regular session (open <= ts < close)."""
    ts = pd.DatetimeIndex(pd.to_datetime(bars["ts"], utc=True))
    day = calendar.session_of(ts)
    table = calendar.session_table(day.min(), day.max()).set_index("session")
    opens = pd.DatetimeIndex(table["open_utc"]).tz_convert("UTC")
    closes = pd.DatetimeIndex(table["close_utc"]).tz_convert("UTC")
    pos = pd.DatetimeIndex(table.index).get_indexer(day)
    ok = pos >= 0
    p = np.maximum(pos, 0)
    regular = ok & (ts >= opens[p]) & (ts < closes[p])
    return day, np.asarray(regular)


def build_label_set(name: str, bars: pd.DataFrame) -> pd.DataFrame:
    """Label set `name` on `bars`: one row per (symbol, session) through `complete_through(name, last session)`.

    Daily bars: long adjusted bars (symbol, date, close[, open, high, low]); intraday bars: (symbol,
    ts UTC, open, high, low, close), reduced to one row per session by each label's `at` bar. Columns:
    date, symbol, each label's columns, then `xs_<col>` for every demeaned column; with a `table`,
    exactly that table's columns and types (nullable ints, dates, strings).
    """
    spec = label_set(name)
    require_frame(bars, "bars")
    intraday = "ts" in bars.columns
    require_columns(bars, ["symbol", "ts" if intraday else "date", "close"], "bars")
    frame = bars.reset_index(drop=True)
    if intraday:
        day, regular = _regular_session_rows(frame)
        keys = pd.DataFrame({"symbol": frame["symbol"].astype(str).to_numpy(), "date": day})
        order = np.lexsort((pd.DatetimeIndex(pd.to_datetime(frame["ts"], utc=True)).asi8, keys["date"].to_numpy(), keys["symbol"].to_numpy()))
        parts = []
        for item in spec.labels:
            cols = _label_columns(item, frame)
            picked = pd.concat([keys, cols], axis=1).iloc[order][regular[order]]
            parts.append(picked.drop_duplicates(["symbol", "date"], keep=item.at).set_index(["symbol", "date"]))
        out = pd.concat(parts, axis=1).reset_index()
    else:
        dates = pd.DatetimeIndex(pd.to_datetime(frame["date"])).normalize()
        keys = pd.DataFrame({"symbol": frame["symbol"].astype(str).to_numpy(), "date": dates})
        out = pd.concat([keys, *[_label_columns(item, frame) for item in spec.labels]], axis=1)
    last = pd.Timestamp(complete_through(name, out["date"].max()))
    out = out[out["date"] <= last]
    for col in spec.demean:
        if col not in out.columns:
            raise ValueError(f"label set {name!r}: demean column {col!r} is not among its columns {list(out.columns)}")
        out[f"xs_{col}"] = out[col] - out.groupby("date")[col].transform("mean")
    out = out.sort_values(["date", "symbol"], kind="stable").reset_index(drop=True)
    return _as_table(out, spec) if spec.table else out.assign(date=out["date"].dt.date)


def _as_table(frame: pd.DataFrame, spec: LabelSet) -> pd.DataFrame:
    """`frame` with exactly the columns of the set's table, in order, typed for it."""
    table = TABLES[spec.table]
    missing = [c for c in table.schema.names if c not in frame.columns]
    if missing:
        raise ValueError(f"label set {spec.name!r} does not produce {missing} of {spec.table}")
    out = pd.DataFrame(index=frame.index)
    for field in table.schema:
        col = frame[field.name]
        if pa.types.is_date(field.type):
            out[field.name] = pd.to_datetime(col).dt.date.astype(object).where(col.notna(), None)
        elif pa.types.is_integer(field.type):
            out[field.name] = pd.to_numeric(col).astype(f"Int{field.type.bit_width}")
        elif pa.types.is_string(field.type):
            out[field.name] = col.astype(object).where(col.notna(), None)
        else:
            out[field.name] = pd.to_numeric(col).astype("float64")
    return out


"""Vendor-neutral normalisation of bars and metadata into the SSOT raw schemas, in Arrow (vectorised).

Every connector hands its columns here so the same rules apply to every vendor (SSOT 1.3):
- instants are UTC; the session date of a bar is its exchange-local (America/New_York) date,
  except for vendors whose daily bars are labelled by a UTC calendar day (``day_label="utc"``);
- minute bars keep only the regular session [open, close) of their XNYS session (the calendar
  decides DST and half days), extended-hours bars are left out and counted per session;
- bars dated on a day XNYS did not trade are not stored; they are counted by date
  (``NormalizedBars.dropped``, carried to ingest by ``FetchResult.dropped``);
- ``session_id`` is ``XNYS:YYYY-MM-DD``; the metadata columns are filled from one response.

Kept whole (about 400 lines): one concern, vendor columns -> the SSOT raw schemas, whose bar,
metadata and reference-event helpers share one session lookup and one set of date conventions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl import calendar
from trademl.schemas import UTC_TS, sorted_by, table_spec

if TYPE_CHECKING:
    from trademl.data.connectors.base import FetchRequest

EXCHANGE_TS = pa.timestamp("us", tz=calendar.EXCHANGE_TZ)
BAR_FIELDS = ("open", "high", "low", "close", "volume", "vwap", "trades")


DROP_REASONS: tuple[str, ...] = ("outside_regular_hours", "non_session", "outside_window")


@dataclass
class NormalizedBars:
    """Bars in the raw schema (without metadata) plus what was left out and why."""

    table: pa.Table
    non_session_dates: dict[str, int] = field(default_factory=dict)  # "YYYY-MM-DD" -> bars dropped
    outside_regular_hours: int = 0
    outside_regular_hours_by_session: dict[str, int] = field(default_factory=dict)  # session -> bars

    @property
    def dropped(self) -> dict[str, dict[str, int]]:
        """Bars left out, in the FetchResult.dropped form: reason -> {"YYYY-MM-DD": bars}."""
        out = {}
        if self.outside_regular_hours_by_session:
            out["outside_regular_hours"] = dict(self.outside_regular_hours_by_session)
        if self.non_session_dates:
            out["non_session"] = dict(self.non_session_dates)
        return out


def add_dropped(into: dict[str, dict[str, int]], more: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Add the per-date counts of `more` into `into` (same form as FetchResult.dropped); returns `into`."""
    for reason, by_date in more.items():
        if reason not in DROP_REASONS:
            raise ValueError(f"unknown drop reason {reason!r}; expected one of {DROP_REASONS}")
        target = into.setdefault(reason, {})
        for day, n in by_date.items():
            target[day] = target.get(day, 0) + int(n)
    return into


def constant(value: object, n: int, type_: pa.DataType) -> pa.Array:
    """An Arrow array of `n` copies of `value` (built in C++, no Python list; the faster of
    Arrow's two ways for the type: repeat for strings, filling nulls for fixed-width values)."""
    if pa.types.is_string(type_) or pa.types.is_binary(type_):
        return pa.repeat(pa.scalar(value, type_), n)
    return pc.fill_null(pa.nulls(n, type_), pa.scalar(value, type_))


def to_utc(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Timestamps as timestamp[us, UTC]; naive timestamps are taken to be UTC already, strings are parsed (ISO-8601)."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type):
        parsed = pd.to_datetime(pd.Series(ts.to_numpy(zero_copy_only=False)), utc=True, format="ISO8601")
        return pa.array(parsed.dt.as_unit("us"), type=UTC_TS)
    if not pa.types.is_timestamp(ts.type):
        raise ValueError(f"bar timestamps must be timestamps or ISO strings, got {ts.type}")
    if ts.type.tz is None:
        return ts.cast(pa.timestamp("us")).cast(UTC_TS)
    return ts.cast(UTC_TS)


def epoch_to_utc(values: np.ndarray | pa.Array, unit: str) -> pa.Array:
    """Epoch integers (unit 's' or 'ms') as timestamp[us, UTC]."""
    arr = np.asarray(values, dtype="int64")
    scale = {"s": 1_000_000, "ms": 1_000, "us": 1}[unit]
    return pa.array(arr * scale, type=pa.int64()).view(UTC_TS)


def exchange_dates(ts_utc: pa.Array) -> pa.Array:
    """Exchange-local (America/New_York) calendar dates of UTC instants, as date32.

    One binary search per instant among the UTC instants of New York midnights over the span of
    the data (a few per day, DST-exact), instead of a per-value time-zone conversion.
    """
    n = len(ts_utc)
    if n == 0 or ts_utc.null_count:
        return pc.local_timestamp(ts_utc.cast(EXCHANGE_TS)).cast(pa.date32())
    micros = ts_utc.cast(UTC_TS).view(pa.int64()).to_numpy(zero_copy_only=False)
    lo, hi = (pd.Timestamp(int(v), unit="us", tz="UTC").tz_convert(calendar.EXCHANGE_TZ) for v in (micros.min(), micros.max()))
    days = pd.date_range(lo.normalize().tz_localize(None), hi.normalize().tz_localize(None) + pd.Timedelta(days=1), freq="D")
    midnights = days.tz_localize(calendar.EXCHANGE_TZ).tz_convert("UTC").as_unit("us").asi8
    idx = np.searchsorted(midnights, micros, side="right") - 1
    epoch_days = (days.as_unit("s").asi8 // 86_400).astype(np.int32)
    return pa.array(epoch_days[idx], pa.int32()).view(pa.date32())


def utc_dates(ts_utc: pa.Array) -> pa.Array:
    """UTC calendar dates of UTC instants, as date32 (for vendors that label daily bars by UTC day)."""
    return ts_utc.cast(pa.timestamp("us")).cast(pa.date32())


def session_ids(dates: pa.Array) -> pa.Array:
    """``XNYS:YYYY-MM-DD`` for date32 values (formatted once per distinct date)."""
    enc = pc.dictionary_encode(dates)
    labels = pc.binary_join_element_wise(
        "XNYS:", pc.strftime(enc.dictionary.cast(pa.timestamp("s")), format="%Y-%m-%d"), ""
    )
    return labels.take(enc.indices)


@lru_cache(maxsize=1)
def _all_sessions() -> tuple[pa.Array, pa.Array, pa.Array]:
    """Every XNYS session as (date32, open UTC, close UTC) Arrow arrays, built once per process."""
    sessions = calendar.all_sessions_index()
    table = calendar.session_table(sessions[0], sessions[-1])
    return (
        pa.array(table["session"].dt.date, type=pa.date32()),
        pa.array(table["open_utc"].dt.as_unit("us"), type=UTC_TS),
        pa.array(table["close_utc"].dt.as_unit("us"), type=UTC_TS),
    )


def _session_lookup(dates: pa.Array) -> pa.Array:
    """Index of each date among all XNYS sessions (null where the date is not a session)."""
    return pc.index_in(dates, value_set=_all_sessions()[0])


def _count_by_date(dates: pa.Array, mask: pa.Array) -> dict[str, int]:
    if not pc.any(mask).as_py():
        return {}
    counts = pc.value_counts(dates.filter(mask))
    return {str(v.as_py()): int(c.as_py()) for v, c in zip(counts.field("values"), counts.field("counts"))}


def _float(col: pa.Array | None, n: int) -> pa.Array:
    if col is None:
        return pa.nulls(n, pa.float64())
    return col.cast(pa.float64())


def _int(col: pa.Array | None, n: int, name: str) -> pa.Array:
    if col is None:
        return pa.nulls(n, pa.int64())
    if pa.types.is_floating(col.type):
        rounded = pc.round(col)
        if not pc.all(pc.equal(pc.fill_null(rounded, 0), pc.fill_null(col, 0))).as_py():
            raise ValueError(f"{name} has fractional values; expected whole numbers")
        col = rounded
    return col.cast(pa.int64())


def _regular_hours(ts: pa.Array, dates: pa.Array, idx: pa.Array, is_session: pa.Array) -> tuple[pa.Array, dict[str, int]]:
    """Which minute bars lie in their session's regular hours [open, close), and the bars of
    sessions that do not, counted per session (`idx`: each bar's index among all XNYS sessions)."""
    _, all_opens, all_closes = _all_sessions()
    opens, closes = all_opens.take(idx), all_closes.take(idx)
    regular = pc.fill_null(pc.and_(pc.greater_equal(ts, opens), pc.less(ts, closes)), False)
    off_hours = pc.and_(is_session, pc.invert(regular))
    return regular, _count_by_date(dates, off_hours)


def _bar_columns(columns: Mapping[str, pa.Array], ts: pa.Array, dates: pa.Array, *, minute: bool) -> dict[str, pa.Array]:
    """The raw bar columns (no session_id, no metadata) from the vendor's, typed as the schema wants."""
    n = len(ts)
    data: dict[str, pa.Array] = {}
    if minute:
        data["ts"] = ts
    data["date"] = dates
    data["symbol"] = columns["symbol"].cast(pa.string())
    for name in ("open", "high", "low", "close"):
        data[name] = _float(columns[name], n)
    data["vwap"] = _float(columns.get("vwap"), n)
    data["volume"] = _int(columns["volume"], n, "volume")
    if not minute:
        data["nbbo_spread"] = pa.nulls(n, pa.float64())
    data["trades"] = _int(columns.get("trades"), n, "trades")
    data["vendor_ts"] = ts
    return data


def bars_table(
    columns: Mapping[str, pa.Array],
    *,
    minute: bool,
    day_label: str = "exchange",
) -> NormalizedBars:
    """Raw bars (raw/equities_minute when `minute`, else raw/equities_bars) from vendor columns.

    `columns` holds Arrow arrays ``symbol``, ``ts`` (UTC bar start; for daily bars the vendor's day
    stamp), ``open/high/low/close/volume`` and optional ``vwap``/``trades``. `day_label` says how a
    daily bar's stamp maps to its session: ``exchange`` (midnight New York, Alpaca/Polygon) or ``utc``
    (midnight UTC, Finnhub). Returns the table without metadata columns, sorted by symbol and time.
    """
    if day_label not in ("exchange", "utc"):
        raise ValueError(f"day_label must be 'exchange' or 'utc', got {day_label!r}")
    ts = to_utc(columns["ts"])
    n = len(ts)
    for name in ("symbol", "open", "high", "low", "close", "volume"):
        if name not in columns:
            raise ValueError(f"bar columns lack {name!r}")
        if len(columns[name]) != n:
            raise ValueError(f"bar column {name!r} has {len(columns[name])} values, ts has {n}")
    dates = utc_dates(ts) if (day_label == "utc" and not minute) else exchange_dates(ts)
    idx = _session_lookup(dates)
    is_session = pc.is_valid(idx)
    keep = is_session
    non_session = _count_by_date(dates, pc.invert(is_session))
    outside_by_session: dict[str, int] = {}
    if minute and n:
        keep, outside_by_session = _regular_hours(ts, dates, idx, is_session)
    outside = sum(outside_by_session.values())
    table = pa.table(_bar_columns(columns, ts, dates, minute=minute))
    if not pc.all(keep).as_py():
        table = table.filter(keep)
    table = table.append_column("session_id", session_ids(table.column("date").combine_chunks()))
    spec = table_spec("equities_minute" if minute else "equities_eod")
    order = [c for c in spec.schema.names if c in table.column_names]
    table = table.select(order)
    key = ["symbol", "ts" if minute else "date"]
    if not sorted_by(table, key):  # vendors usually page in this order already
        table = table.sort_by([(c, "ascending") for c in key])
    return NormalizedBars(
        table=table,
        non_session_dates=non_session,
        outside_regular_hours=outside,
        outside_regular_hours_by_session=outside_by_session,
    )


def add_metadata(
    table: pa.Table,
    *,
    source_name: str,
    source_uri: str | pa.Array | pa.ChunkedArray,
    api_version: str,
    ingested_at: dt.datetime | pd.Timestamp | None = None,
    vendor_ts: pa.Array | dt.datetime | None = None,
) -> pa.Table:
    """`table` with the SSOT metadata columns (ingested_at defaults to now UTC; vendor_ts kept when present)."""
    n = table.num_rows
    now = pd.Timestamp.now(tz="UTC") if ingested_at is None else pd.Timestamp(ingested_at).tz_convert("UTC")
    out = table
    for name in ("ingested_at", "source_name", "source_uri", "vendor_ts", "api_version"):
        if name in out.column_names and name != "vendor_ts":
            out = out.drop_columns([name])
    if "vendor_ts" in out.column_names and vendor_ts is None:
        vendor_col = out.column("vendor_ts").combine_chunks()
        out = out.drop_columns(["vendor_ts"])
    elif isinstance(vendor_ts, pa.Array):
        vendor_col = vendor_ts
        out = out.drop_columns(["vendor_ts"]) if "vendor_ts" in out.column_names else out
    elif vendor_ts is None:
        vendor_col = pa.nulls(n, UTC_TS)
    else:
        vendor_col = constant(pd.Timestamp(vendor_ts).tz_convert("UTC").as_unit("us"), n, UTC_TS)
        out = out.drop_columns(["vendor_ts"]) if "vendor_ts" in out.column_names else out
    uri = source_uri if isinstance(source_uri, (pa.Array, pa.ChunkedArray)) else constant(source_uri, n, pa.string())
    out = out.append_column("ingested_at", constant(now.as_unit("us"), n, UTC_TS))
    out = out.append_column("source_name", constant(source_name, n, pa.string()))
    out = out.append_column("source_uri", uri)
    out = out.append_column("vendor_ts", vendor_col.cast(UTC_TS))
    out = out.append_column("api_version", constant(api_version, n, pa.string()))
    return out


def to_table(table: pa.Table, dataset: str) -> pa.Table:
    """An Arrow result with its columns in the dataset's schema order (what an Arrow FetchResult carries)."""
    return table.select([c for c in table_spec(dataset).schema.names if c in table.column_names])


def to_frame(table: pa.Table, dataset: str) -> pd.DataFrame:
    """An Arrow result as the pandas frame a FetchResult carries, columns in the dataset's schema order."""
    spec = table_spec(dataset)
    if table.num_rows == 0:
        return pd.DataFrame({name: pd.Series(dtype=_empty_dtype(f.type)) for name, f in zip(spec.schema.names, spec.schema)})
    return to_table(table, dataset).to_pandas()


def _empty_dtype(type_: pa.DataType) -> object:
    if pa.types.is_timestamp(type_):
        return "datetime64[us, UTC]"
    if pa.types.is_floating(type_):
        return "float64"
    if pa.types.is_integer(type_):
        return "Int64"
    if pa.types.is_boolean(type_):
        return "bool"
    return "object"


def empty_frame(dataset: str) -> pd.DataFrame:
    """A zero-row frame with the dataset's columns (what a connector returns when the vendor has nothing)."""
    return to_frame(table_spec(dataset).schema.empty_table(), dataset)


def date_range_mask(dates: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    """True where a date lies in the closed range [start, end]."""
    d = pd.to_datetime(dates)
    return (d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))


def failed_sessions(
    frame: pd.DataFrame | pa.Table, sessions: pd.DataFrame, non_session: Mapping[str, int] | None = None
) -> dict[str, str]:
    """Requested sessions (rows of calendar.session_table) with no row at all, plus non-trading-day rows dropped."""
    if isinstance(frame, pa.Table):
        have = set(pc.unique(frame.column("date")).to_pylist()) if frame.num_rows else set()
    else:
        have = set(pd.to_datetime(frame["date"]).dt.date) if len(frame) else set()
    out = {
        s.date().isoformat(): "NO_DATA: vendor returned no rows for this session"
        for s in sessions["session"]
        if s.date() not in have
    }
    for d, c in (non_session or {}).items():
        out[d] = f"NOT_A_SESSION: vendor returned {c} rows dated on a day XNYS did not trade (not stored)"
    return out


def next_session_on_or_after(dates: pd.Series) -> pd.Series:
    """Each date rolled forward to the first XNYS session on or after it (`calendar.sessions_on_or_after`)."""
    return pd.Series(calendar.sessions_on_or_after(dates).to_numpy(), index=dates.index, dtype="datetime64[ns]")


def first_session_closing_after(ts_utc: pd.Series) -> pd.Series:
    """For each UTC instant, the first XNYS session whose close is after it (the first session that can
    trade on news published then; vectorised searchsorted). NaT stays NaT."""
    ts = pd.to_datetime(ts_utc, utc=True)
    _, _, closes = _all_sessions()
    close_ns = closes.cast(pa.int64()).to_numpy() * 1_000  # us -> ns
    dates = calendar.all_sessions_index()
    values = ts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy().astype("int64")
    pos = np.searchsorted(close_ns, values, side="right")
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[ns]")
    ok = ts.notna().to_numpy() & (pos < len(dates))
    out[ok] = dates[pos[ok]]
    return out


def _as_date(values: pd.Series | None, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    s = pd.Series(values, index=index)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(None)
    return pd.to_datetime(s.replace({"None": None, "": None}), errors="coerce").dt.normalize()


def reference_frame(
    dataset: str,
    events: pd.DataFrame | None,
    request: "FetchRequest",
    *,
    source_name: str,
    api_version: str,
    source_priority: int,
    received_at: dt.datetime | None,
) -> pd.DataFrame:
    """reference/corp_actions or reference/delistings rows from vendor events, limited to the request.

    `events` has ``symbol`` and, for corp_actions, ``event_type``, ``ex_date``, ``record_date``,
    ``pay_date``, ``ratio``, ``amount``; for delistings ``delist_date`` and ``reason``; optional
    ``source_uri``/``vendor_ts`` per row. Partition ``date`` is the ex-date, or for delistings the
    first session on/after the vendor's delisting date (the first session the symbol no longer
    trades; ``delist_date`` takes the same value). Rows outside [start, end] or other symbols are dropped.
    """
    if dataset not in ("corp_actions", "delistings"):
        raise ValueError(f"reference_frame serves corp_actions and delistings, not {dataset!r}")
    if events is None or len(events) == 0:
        return empty_frame(dataset)
    ev = events.reset_index(drop=True)
    out = pd.DataFrame({"symbol": ev["symbol"].astype(str).str.strip().str.upper()})
    if dataset == "corp_actions":
        out["event_type"] = ev["event_type"].astype(str)
        out["ex_date"] = _as_date(ev["ex_date"], ev.index)
        out["record_date"] = _as_date(ev.get("record_date"), ev.index)
        out["pay_date"] = _as_date(ev.get("pay_date"), ev.index)
        out["ratio"] = pd.to_numeric(ev.get("ratio", np.nan), errors="coerce")
        out["amount"] = pd.to_numeric(ev.get("amount", np.nan), errors="coerce")
        out["date"] = out["ex_date"]
    else:
        rolled = next_session_on_or_after(_as_date(ev["delist_date"], ev.index))
        out["delist_date"] = rolled
        out["reason"] = ev.get("reason", pd.Series(None, index=ev.index))
        out["date"] = rolled
    keep = out["date"].notna() & date_range_mask(out["date"], request.start, request.end)
    if request.symbols:
        keep &= out["symbol"].isin({s.upper() for s in request.symbols})
    out = out[keep.to_numpy()]
    ev = ev[keep.to_numpy()]
    if out.empty:
        return empty_frame(dataset)
    for col in ("date", "ex_date", "record_date", "pay_date", "delist_date"):
        if col in out:
            out[col] = out[col].dt.date.where(out[col].notna(), None)
    out["source_priority"] = np.int32(source_priority)
    key = ["symbol", "event_type", "ex_date"] if dataset == "corp_actions" else ["symbol", "delist_date"]
    uri = ev["source_uri"] if "source_uri" in ev else pd.Series("", index=ev.index)
    vendor_ts = ev["vendor_ts"] if "vendor_ts" in ev else None
    out = out.assign(source_uri=uri.to_numpy(), vendor_ts=(vendor_ts.to_numpy() if vendor_ts is not None else pd.NaT))
    out = out.drop_duplicates(subset=key, keep="last").sort_values(["date", *key]).reset_index(drop=True)
    now = pd.Timestamp(received_at) if received_at is not None else pd.Timestamp.now(tz="UTC")
    out["ingested_at"] = now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC")
    out["source_name"] = source_name
    out["vendor_ts"] = pd.to_datetime(out["vendor_ts"], utc=True)
    out["api_version"] = api_version
    spec = table_spec(dataset)
    return out[list(spec.schema.names)]

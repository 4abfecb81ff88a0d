"""The one schema module: every lake table's Arrow schema, its partitioning and its validation rules.

Tables are addressed by their SSOT names (``raw/equities_bars``, ``reference/corp_actions`` …).
Every timestamp is UTC; every ``date`` column is the exchange-local trading day (SSOT 1.3).
Raw and reference tables carry the SSOT metadata columns (``ingested_at``, ``source_name``,
``source_uri``, ``vendor_ts``, ``api_version``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

UTC_TS = pa.timestamp("us", tz="UTC")

METADATA_FIELDS: tuple[pa.Field, ...] = (
    pa.field("ingested_at", UTC_TS, nullable=False),
    pa.field("source_name", pa.string(), nullable=False),
    pa.field("source_uri", pa.string(), nullable=False),
    pa.field("vendor_ts", UTC_TS, nullable=True),
    pa.field("api_version", pa.string(), nullable=False),
)
METADATA_COLUMNS: tuple[str, ...] = tuple(f.name for f in METADATA_FIELDS)
# Columns that change on every ingest of the same payload; excluded from content hashes.
VOLATILE_COLUMNS: frozenset[str] = frozenset({"ingested_at"})


class SchemaViolation(ValueError):
    """A vendor payload that does not fit its table: names vendor, table, symbol and session."""

    def __init__(
        self,
        reason: str,
        *,
        table: str,
        vendor: str | None = None,
        symbol: str | None = None,
        session: str | None = None,
        qc_code: str = "SCHEMA_VIOLATION",
    ) -> None:
        self.reason, self.table, self.vendor, self.symbol, self.session = reason, table, vendor, symbol, session
        self.qc_code = qc_code
        where = ", ".join(
            f"{k}={v}" for k, v in (("vendor", vendor), ("table", table), ("symbol", symbol), ("session", session)) if v
        )
        super().__init__(f"rejected payload ({where}): {reason}")


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its SSOT name, Arrow schema, the column that partitions it and its natural key."""

    name: str
    schema: pa.Schema
    partition_column: str
    key: tuple[str, ...]
    symbol_column: str | None = "symbol"
    positive_columns: tuple[str, ...] = ()
    nonnegative_columns: tuple[str, ...] = ()
    description: str = ""
    extra_checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def layer(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]

    @property
    def data_columns(self) -> list[str]:
        return [n for n in self.schema.names if n not in VOLATILE_COLUMNS]


def _schema(*fields: pa.Field, metadata: bool = True) -> pa.Schema:
    return pa.schema(list(fields) + (list(METADATA_FIELDS) if metadata else []))


_f = pa.field

EQUITIES_BARS = TableSpec(
    name="raw/equities_bars",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("open", pa.float64(), nullable=False),
        _f("high", pa.float64(), nullable=False),
        _f("low", pa.float64(), nullable=False),
        _f("close", pa.float64(), nullable=False),
        _f("vwap", pa.float64()),
        _f("volume", pa.int64(), nullable=False),
        _f("nbbo_spread", pa.float64()),
        _f("trades", pa.int64()),
        _f("session_id", pa.string(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "date"),
    positive_columns=("open", "high", "low", "close"),
    nonnegative_columns=("volume",),
    description="Daily as-traded (unadjusted) bars, one row per symbol and session.",
    extra_checks=("ohlc",),
)

EQUITIES_MINUTE = TableSpec(
    name="raw/equities_minute",
    schema=_schema(
        _f("ts", UTC_TS, nullable=False),
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("open", pa.float64(), nullable=False),
        _f("high", pa.float64(), nullable=False),
        _f("low", pa.float64(), nullable=False),
        _f("close", pa.float64(), nullable=False),
        _f("vwap", pa.float64()),
        _f("volume", pa.int64(), nullable=False),
        _f("trades", pa.int64()),
        _f("session_id", pa.string(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "ts"),
    positive_columns=("open", "high", "low", "close"),
    nonnegative_columns=("volume",),
    description="Regular-hours one-minute bars; ts is the bar start in UTC.",
    extra_checks=("ohlc",),
)

OPTIONS_NBBO = TableSpec(
    name="raw/options_nbbo",
    schema=_schema(
        _f("ts_ns", pa.int64(), nullable=False),
        _f("date", pa.date32(), nullable=False),
        _f("underlier", pa.string(), nullable=False),
        _f("expiry", pa.date32(), nullable=False),
        _f("strike", pa.float64(), nullable=False),
        _f("cp_flag", pa.string(), nullable=False),
        _f("bid", pa.float64(), nullable=False),
        _f("ask", pa.float64(), nullable=False),
        _f("bid_size", pa.int64()),
        _f("ask_size", pa.int64()),
        _f("nbbo_mid", pa.float64(), nullable=False),
        _f("exchs_bitmap", pa.int64()),
        _f("underlying_price", pa.float64()),
    ),
    partition_column="date",
    key=("underlier", "expiry", "strike", "cp_flag", "ts_ns"),
    symbol_column="underlier",
    positive_columns=("strike",),
    nonnegative_columns=("bid", "ask", "nbbo_mid"),
    description="Option NBBO snapshots; ts_ns is UTC epoch nanoseconds of the quote.",
    extra_checks=("quotes",),
)

MACROS_FRED = TableSpec(
    name="raw/macros_fred",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("series_id", pa.string(), nullable=False),
        _f("observation_date", pa.date32(), nullable=False),
        _f("value", pa.float64()),
        _f("vintage_date", pa.date32(), nullable=False),
    ),
    partition_column="date",
    key=("series_id", "observation_date", "vintage_date"),
    symbol_column="series_id",
    description=(
        "Macro observations by vintage: a row is a value new or revised at vintage_date (the ALFRED vintage, "
        "which may be a weekend or an exchange holiday); date is the first session on or after vintage_date, "
        "when the market can act on it, and partitions the table."
    ),
    extra_checks=("vintage_session",),
)

CORP_ACTIONS = TableSpec(
    name="reference/corp_actions",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("event_type", pa.string(), nullable=False),
        _f("ex_date", pa.date32(), nullable=False),
        _f("record_date", pa.date32()),
        _f("pay_date", pa.date32()),
        _f("ratio", pa.float64()),
        _f("amount", pa.float64()),
        _f("source_priority", pa.int32(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "event_type", "ex_date"),
    description="Splits (ratio = new shares per old) and cash dividends (amount per share), keyed by ex_date = date.",
    extra_checks=("corp_actions",),
)

DELISTINGS = TableSpec(
    name="reference/delistings",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("delist_date", pa.date32(), nullable=False),
        _f("reason", pa.string()),
        _f("source_priority", pa.int32(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "delist_date"),
    description="Delisting events; date = delist_date, the first session the symbol no longer trades.",
)

CALENDARS = TableSpec(
    name="reference/calendars",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("exchange", pa.string(), nullable=False),
        _f("open_utc", UTC_TS, nullable=False),
        _f("close_utc", UTC_TS, nullable=False),
        _f("minutes", pa.int32(), nullable=False),
        _f("is_half_day", pa.bool_(), nullable=False),
    ),
    partition_column="date",
    key=("exchange", "date"),
    symbol_column=None,
    description="Exchange sessions with UTC open/close and early-close flags, from exchange_calendars.",
)

UNIVERSE = TableSpec(
    name="reference/universe",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("is_listed", pa.bool_(), nullable=False),
        _f("is_eligible", pa.bool_(), nullable=False),
        _f("listed_date", pa.date32()),
        _f("delist_date", pa.date32()),
        _f("share_class", pa.string()),
        _f("sector", pa.string()),
        _f("exclusion_reason", pa.string()),
    ),
    partition_column="date",
    key=("symbol", "date"),
    description="PIT universe: who is listed and eligible on each session (delisted names included).",
)

INDEX_MEMBERSHIP = TableSpec(
    name="reference/index_membership",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("index_id", pa.string(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("weight", pa.float64()),
    ),
    partition_column="date",
    key=("index_id", "symbol", "date"),
    description="Date-stamped index constituents: one row per member per session.",
)

TICK_SIZE_REGIME = TableSpec(
    name="reference/tick_size_regime",
    schema=_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("tick_size", pa.float64(), nullable=False),
        _f("regime", pa.string(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "date"),
    positive_columns=("tick_size",),
    description="Minimum price increment by symbol and session (e.g. $0.01 sub-penny rule, $0.05 pilot).",
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        EQUITIES_BARS,
        EQUITIES_MINUTE,
        OPTIONS_NBBO,
        MACROS_FRED,
        CORP_ACTIONS,
        DELISTINGS,
        CALENDARS,
        UNIVERSE,
        INDEX_MEMBERSHIP,
        TICK_SIZE_REGIME,
    )
}

# Logical dataset names used by the backfill queue, the router and connectors -> lake table.
DATASET_TABLES: dict[str, str] = {
    "equities_eod": "raw/equities_bars",
    "equities_minute": "raw/equities_minute",
    "options_chains": "raw/options_nbbo",
    "macros_fred": "raw/macros_fred",
    "corp_actions": "reference/corp_actions",
    "delistings": "reference/delistings",
    "calendars": "reference/calendars",
    "universe": "reference/universe",
    "index_membership": "reference/index_membership",
    "tick_size_regime": "reference/tick_size_regime",
}
TABLE_DATASETS: dict[str, str] = {v: k for k, v in DATASET_TABLES.items()}


def table_spec(name: str) -> TableSpec:
    """The spec of a table by SSOT name (``raw/equities_bars``) or dataset name (``equities_eod``)."""
    if name in TABLES:
        return TABLES[name]
    if name in DATASET_TABLES:
        return TABLES[DATASET_TABLES[name]]
    known = ", ".join(sorted(TABLES) + sorted(DATASET_TABLES))
    raise ValueError(f"unknown table {name!r}; known tables and datasets: {known}")


def empty_table(name: str) -> pa.Table:
    """A zero-row Arrow table with the table's schema."""
    return table_spec(name).schema.empty_table()


def _first_offender(spec: TableSpec, mask: pa.ChunkedArray | pa.Array, table: pa.Table) -> tuple[str | None, str | None]:
    idx = pc.index(pc.fill_null(mask, False), True).as_py()
    if idx is None or idx < 0:
        return None, None
    row = table.slice(idx, 1).to_pylist()[0]
    symbol = row.get(spec.symbol_column) if spec.symbol_column else None
    session = row.get(spec.partition_column)
    return (str(symbol) if symbol is not None else None), (str(session) if session is not None else None)


def conform(
    name: str,
    data: pd.DataFrame | pa.Table,
    *,
    vendor: str | None = None,
) -> pa.Table:
    """Cast a vendor frame to the table's exact schema and reject anything that violates it.

    Checks (vectorised): required columns present, types castable, non-nullable columns without
    nulls, positive/non-negative columns, OHLC consistency (low <= open, close <= high), quote
    sanity (bid <= ask), duplicate natural keys. Raises SchemaViolation naming vendor, table,
    the first offending symbol and session; nothing is written by this function.
    """
    spec = table_spec(name)
    name = spec.name
    if isinstance(data, pd.DataFrame):
        missing = [c for c in spec.schema.names if c not in data.columns]
        if missing:
            raise SchemaViolation(f"missing columns {missing}", table=name, vendor=vendor)
        try:
            table = pa.Table.from_pandas(data[spec.schema.names], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise SchemaViolation(f"column types do not convert: {exc}", table=name, vendor=vendor) from exc
    else:
        missing = [c for c in spec.schema.names if c not in data.column_names]
        if missing:
            raise SchemaViolation(f"missing columns {missing}", table=name, vendor=vendor)
        table = data.select(spec.schema.names)

    columns = []
    for fld in spec.schema:
        col = table.column(fld.name)
        if not col.type.equals(fld.type):
            try:
                if pa.types.is_timestamp(fld.type) and pa.types.is_timestamp(col.type) and col.type.tz is None:
                    raise SchemaViolation(
                        f"column {fld.name!r} has naive timestamps; UTC is required", table=name, vendor=vendor
                    )
                col = col.cast(fld.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise SchemaViolation(
                    f"column {fld.name!r} cannot be cast from {col.type} to {fld.type}: {exc}",
                    table=name,
                    vendor=vendor,
                ) from exc
        columns.append(col)
    loose = pa.schema([f.with_nullable(True) for f in spec.schema])
    table = pa.Table.from_arrays(columns, schema=loose)
    if table.num_rows == 0:
        return table.cast(spec.schema)

    for fld in spec.schema:
        if fld.nullable:
            continue
        col = table.column(fld.name)
        if not col.null_count and not pa.types.is_floating(fld.type):
            continue  # null counts are known without a pass; only floats need a NaN scan
        bad = pc.is_null(col, nan_is_null=pa.types.is_floating(fld.type))
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"null/NaN in required column {fld.name!r}", table=name, vendor=vendor, symbol=sym, session=ses)
    for col_name in spec.positive_columns:
        bad = pc.less_equal(table.column(col_name), 0)
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"non-positive {col_name}", table=name, vendor=vendor, symbol=sym, session=ses)
    for col_name in spec.nonnegative_columns:
        bad = pc.less(table.column(col_name), 0)
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"negative {col_name}", table=name, vendor=vendor, symbol=sym, session=ses)
    if "ohlc" in spec.extra_checks:
        o, h, l, c = (table.column(x) for x in ("open", "high", "low", "close"))
        tol = pc.multiply(h, 1e-9)
        bad = pc.or_(
            pc.or_(pc.greater(l, pc.add(h, tol)), pc.greater(o, pc.add(h, tol))),
            pc.or_(pc.greater(c, pc.add(h, tol)), pc.or_(pc.less(pc.add(o, tol), l), pc.less(pc.add(c, tol), l))),
        )
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation("inconsistent OHLC (low > open/close or high < open/close)", table=name, vendor=vendor, symbol=sym, session=ses)
    if "quotes" in spec.extra_checks:
        bad = pc.greater(table.column("bid"), table.column("ask"))
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation("crossed quote (bid > ask)", table=name, vendor=vendor, symbol=sym, session=ses)
        if not pc.all(pc.is_in(table.column("cp_flag"), value_set=pa.array(["C", "P"]))).as_py():
            raise SchemaViolation("cp_flag must be 'C' or 'P'", table=name, vendor=vendor)
    if "corp_actions" in spec.extra_checks:
        allowed = pa.array(["SPLIT", "DIVIDEND", "SPINOFF", "DELISTING", "SYMBOL_CHANGE"])
        if not pc.all(pc.is_in(table.column("event_type"), value_set=allowed)).as_py():
            raise SchemaViolation(f"event_type must be one of {allowed.to_pylist()}", table=name, vendor=vendor)
    if "vintage_session" in spec.extra_checks:
        _check_vintage_session(spec, table, vendor)
    _check_unique_key(spec, table, vendor)
    return table.cast(spec.schema)


def _check_vintage_session(spec: TableSpec, table: pa.Table, vendor: str | None) -> None:
    """Reject rows whose ``date`` is not the first session on or after their ``vintage_date``.

    A vintage published on a weekend or holiday belongs to the next session's partition, never
    to an earlier one (look-ahead) nor a later one (a value hidden from sessions that knew it).
    """
    from trademl import calendar  # the calendar loads exchange_calendars; only this check needs it

    vintage = table.column("vintage_date").cast(pa.timestamp("s")).to_numpy(zero_copy_only=False)
    expected = calendar.sessions_on_or_after(vintage).to_numpy().astype("datetime64[D]")
    stored = table.column("date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    bad = stored != expected
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = table.slice(i, 1).to_pylist()[0]
        raise SchemaViolation(
            f"vintage_date {row['vintage_date']} belongs to the session {expected[i]}, not date {row['date']}",
            table=spec.name, vendor=vendor, symbol=str(row.get(spec.symbol_column)), session=str(row["date"]),
        )


def sorted_by(table: pa.Table, keys: Sequence[str], *, strict: bool = False) -> bool:
    """Whether rows are in ascending order of `keys` (lexicographic; `strict`: no two rows share a key).

    One vectorised comparison of each row with the next, so callers can skip a sort (or a
    uniqueness check) for data that vendors already deliver in key order. Nulls count as unordered.
    """
    n = table.num_rows
    if n < 2:
        return True
    less = equal = None
    for name in keys:
        col = table.column(name)
        if col.null_count:
            return False
        col = col.combine_chunks()
        a, b = col.slice(0, n - 1), col.slice(1)
        k_less, k_equal = pc.less(a, b), pc.equal(a, b)
        if less is None:
            less, equal = k_less, k_equal
        else:
            less, equal = pc.or_(less, pc.and_(equal, k_less)), pc.and_(equal, k_equal)
        if not pc.all(pc.or_(less, equal)).as_py():
            return False  # a later key cannot repair a descent in the leading ones
    return bool(pc.all(less).as_py()) if strict else True


def _check_unique_key(spec: TableSpec, table: pa.Table, vendor: str | None) -> None:
    """Reject duplicate natural keys (a vendor sending the same bar twice is a malformed payload)."""
    if sorted_by(table, spec.key, strict=True):
        return  # strictly ascending keys are unique: no hash aggregation needed
    keys = table.select(list(spec.key))
    n_unique = keys.group_by(list(spec.key)).aggregate([]).num_rows
    if n_unique != table.num_rows:
        frame = keys.to_pandas()
        dup = frame[frame.duplicated(keep=False)].iloc[0]
        sym = str(dup[spec.symbol_column]) if spec.symbol_column and spec.symbol_column in dup else None
        ses = str(dup[spec.partition_column]) if spec.partition_column in dup else None
        raise SchemaViolation(f"duplicate key {tuple(spec.key)}", table=spec.name, vendor=vendor, symbol=sym, session=ses)


def with_metadata(
    frame: pd.DataFrame,
    *,
    source_name: str,
    source_uri: str,
    api_version: str,
    ingested_at: pd.Timestamp | None = None,
    vendor_ts: pd.Timestamp | pd.Series | None = None,
) -> pd.DataFrame:
    """Return `frame` with the SSOT metadata columns filled (ingested_at defaults to now, UTC)."""
    out = frame.copy()
    now = pd.Timestamp.now(tz="UTC") if ingested_at is None else pd.Timestamp(ingested_at).tz_convert("UTC")
    out["ingested_at"] = now
    out["source_name"] = source_name
    out["source_uri"] = source_uri
    if vendor_ts is None:
        out["vendor_ts"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
    else:
        out["vendor_ts"] = vendor_ts
    out["api_version"] = api_version
    return out


def session_id(dates: pd.Series | np.ndarray) -> pd.Series:
    """The SSOT session_id for session dates: ``XNYS:YYYY-MM-DD``."""
    return "XNYS:" + pd.to_datetime(pd.Series(dates)).dt.strftime("%Y-%m-%d")

"""The raw layer's tables: vendor data as delivered (as-traded bars, option quotes, macro vintages).

Each is a `TableSpec` addressed by its SSOT name (``raw/equities_bars`` ...), partitioned by the
session ``date``, with the SSOT metadata columns.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import UTC_TS, TableSpec, table_schema

_f = pa.field

EQUITIES_BARS = TableSpec(
    name="raw/equities_bars",
    dataset="equities_eod",
    bars=True,
    schema=table_schema(
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
    dataset="equities_minute",
    bars=True,
    schema=table_schema(
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
    dataset="options_chains",
    schema=table_schema(
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
    dataset="macros_fred",
    self_describing=True,
    schema=table_schema(
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

RAW_TABLES: tuple[TableSpec, ...] = (EQUITIES_BARS, EQUITIES_MINUTE, OPTIONS_NBBO, MACROS_FRED)

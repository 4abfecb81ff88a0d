"""The reference layer's tables: corporate actions, delistings, calendars, universe, index membership, tick sizes,
earnings calendars and shares outstanding.

Each is a `TableSpec` addressed by its SSOT name (``reference/corp_actions`` ...), partitioned by the
session ``date``, with the SSOT metadata columns.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import UTC_TS, TableSpec, table_schema

_f = pa.field

CORP_ACTIONS = TableSpec(
    name="reference/corp_actions",
    dataset="corp_actions",
    self_describing=True,
    schema=table_schema(
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
    dataset="delistings",
    self_describing=True,
    schema=table_schema(
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
    dataset="calendars",
    self_describing=True,
    schema=table_schema(
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
    dataset="universe",
    self_describing=True,
    schema=table_schema(
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
    dataset="index_membership",
    self_describing=True,
    schema=table_schema(
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
    dataset="tick_size_regime",
    schema=table_schema(
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

EARNINGS_CALENDAR = TableSpec(
    name="reference/earnings_calendar",
    dataset="earnings_calendar",
    self_describing=True,
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("earnings_date", pa.date32(), nullable=False),
        _f("time_of_day", pa.string()),
        _f("known_date", pa.date32(), nullable=False),
    ),
    partition_column="date",
    key=("symbol", "earnings_date", "known_date"),
    description=(
        "Scheduled earnings announcements; date = known_date, the first session by whose close the "
        "announcement date was known, so a read through t sees only what was known at t. time_of_day: "
        "bmo (before the open), amc (after the close), dmh (during market hours) or null (not given)."
    ),
)

SHARES_OUTSTANDING = TableSpec(
    name="reference/shares_outstanding",
    dataset="shares_outstanding",
    self_describing=True,
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("period_end", pa.date32(), nullable=False),
        _f("shares_outstanding", pa.float64(), nullable=False),
        _f("filing_date", pa.date32()),
    ),
    partition_column="date",
    key=("symbol", "period_end", "date"),
    positive_columns=("shares_outstanding",),
    description=(
        "Shares outstanding (as-traded units at period_end) stored PIT: date = the first XNYS session whose "
        "close is after the filing was accepted (a filing accepted after the close counts from the next "
        "session), or the session on/after filing_date when only the day is known."
    ),
)

REFERENCE_TABLES: tuple[TableSpec, ...] = (
    CORP_ACTIONS,
    DELISTINGS,
    CALENDARS,
    UNIVERSE,
    INDEX_MEMBERSHIP,
    TICK_SIZE_REGIME,
    EARNINGS_CALENDAR,
    SHARES_OUTSTANDING,
)

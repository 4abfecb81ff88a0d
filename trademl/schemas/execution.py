"""The execution data contracts of SSOT 4.9: bar, order and fill schemas shared by simulators and brokers.

These are message schemas, not lake tables (no partitioning, no natural key, not in the catalog): the
backtest engine, the fill simulator (trademl.execution.simulator) and the broker adapters all produce and
consume frames of these shapes, so backtests, paper and live trading share one order-generation path.
Every timestamp is UTC; `dt` of a daily bar is the exchange-local session date.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import UTC_TS

_f = pa.field

ORDER_SIDES: tuple[str, ...] = ("BUY", "SELL")
ORDER_TYPES: tuple[str, ...] = ("MKT", "LMT")
TIME_IN_FORCE: tuple[str, ...] = ("DAY", "IOC", "FOK", "GTC")
LIQUIDITY_FLAGS: tuple[str, ...] = ("MAKER", "TAKER", "UNKNOWN")
TICK_SIDES: tuple[str, ...] = ("BUY", "SELL", "UNKNOWN")

BAR_SCHEMA = pa.schema(
    [
        _f("dt", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("open", pa.float64(), nullable=False),
        _f("high", pa.float64(), nullable=False),
        _f("low", pa.float64(), nullable=False),
        _f("close", pa.float64(), nullable=False),
        _f("vwap", pa.float64()),
        _f("volume", pa.int64(), nullable=False),
        _f("nbbo_spread", pa.float64()),
        _f("turnover", pa.float64()),
        _f("session_id", pa.string()),
    ]
)

TICK_SCHEMA = pa.schema(
    [
        _f("ts", UTC_TS, nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("price", pa.float64(), nullable=False),
        _f("size", pa.int64(), nullable=False),
        _f("side", pa.string(), nullable=False),
        _f("venue", pa.string()),
        _f("seq", pa.int64()),
    ]
)

# qty is unsigned: the direction is `side`.
ORDER_SCHEMA = pa.schema(
    [
        _f("order_id", pa.string(), nullable=False),
        _f("ts", UTC_TS, nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("side", pa.string(), nullable=False),
        _f("qty", pa.float64(), nullable=False),
        _f("order_type", pa.string(), nullable=False),
        _f("limit_price", pa.float64()),
        _f("tif", pa.string(), nullable=False),
        _f("strategy_tag", pa.string(), nullable=False),
    ]
)

FILL_SCHEMA = pa.schema(
    [
        _f("fill_id", pa.string(), nullable=False),
        _f("order_id", pa.string(), nullable=False),
        _f("ts", UTC_TS, nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("side", pa.string(), nullable=False),
        _f("qty", pa.float64(), nullable=False),
        _f("price", pa.float64(), nullable=False),
        _f("fee", pa.float64()),
        _f("liquidity_flag", pa.string(), nullable=False),
    ]
)

ORDER_COLUMNS: tuple[str, ...] = tuple(ORDER_SCHEMA.names)
FILL_COLUMNS: tuple[str, ...] = tuple(FILL_SCHEMA.names)
BAR_COLUMNS: tuple[str, ...] = tuple(BAR_SCHEMA.names)

__all__ = [
    "BAR_COLUMNS",
    "BAR_SCHEMA",
    "FILL_COLUMNS",
    "FILL_SCHEMA",
    "LIQUIDITY_FLAGS",
    "ORDER_COLUMNS",
    "ORDER_SCHEMA",
    "ORDER_SIDES",
    "ORDER_TYPES",
    "TICK_SCHEMA",
    "TICK_SIDES",
    "TIME_IN_FORCE",
]

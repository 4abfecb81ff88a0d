"""The backtest layer's lake table: one daily return series per as-of session (SSOT 4.9).

A backtest as of session D replays the strategy on everything known at D, so each as-of is its own
partition (`asof`), immutable once written; the rows are the sessions it covers.
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec, table_schema

_f = pa.field

EQUITIES_XS_BACKTEST = TableSpec(
    name="backtests/equities_xs",
    schema=table_schema(
        _f("asof", pa.date32(), nullable=False),
        _f("date", pa.date32(), nullable=False),
        # Per-session simple returns on capital over the close of `date` -> the next close: before costs,
        # the modelled trading cost (fee + half spread + impact) and borrow on shorts, and net of both.
        _f("ret_gross", pa.float64(), nullable=False),
        _f("cost", pa.float64(), nullable=False),
        _f("borrow", pa.float64(), nullable=False),
        _f("ret_net", pa.float64(), nullable=False),
        _f("turnover", pa.float64(), nullable=False),
        _f("gross_exposure", pa.float64(), nullable=False),
        _f("net_exposure", pa.float64(), nullable=False),
        _f("equity", pa.float64(), nullable=False),  # compounded net, starting at 1.0
        _f("model_version", pa.string(), nullable=False),
        metadata=False,
    ),
    partition_column="asof",
    key=("asof", "date"),
    symbol_column=None,
    description="equities_xs backtest as of a session: the champion's scores through the production portfolio and cost model.",
)

BACKTEST_TABLES: tuple[TableSpec, ...] = (EQUITIES_XS_BACKTEST,)

"""The portfolio layer's lake table: target weights decided at a session's close (SSOT 4.7)."""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec, table_schema

_f = pa.field

TARGETS = TableSpec(
    name="portfolio/targets",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        # Fraction of capital, signed (+ long, - short), held from the close of `date` over the next session.
        _f("weight", pa.float64(), nullable=False),
        _f("score", pa.float64()),
        _f("strategy_tag", pa.string(), nullable=False),
        _f("model_version", pa.string()),
        metadata=False,
    ),
    partition_column="date",
    key=("strategy_tag", "symbol", "date"),
    description="Target weights per strategy, symbol and session from trademl.portfolio.build.",
)

PORTFOLIO_TABLES: tuple[TableSpec, ...] = (TARGETS,)

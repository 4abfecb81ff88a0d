"""The curated layer's tables: our own adjustments of raw data, computed point in time.

`curated/equities_ohlcv_adj` stores per session what makes any adjustment computable: the as-traded
OHLCV plus the cumulative split and dividend factors known at that session (events with
ex_date <= date). "Adjusted as of T" is computed on read (trademl.curate.read_adjusted), so an
ordinary corporate action never rewrites an older partition. Derived tables carry no vendor
metadata columns: their provenance is the partition_status ledger (source ``curator``).
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec, table_schema

_f = pa.field

EQUITIES_OHLCV_ADJ = TableSpec(
    name="curated/equities_ohlcv_adj",
    schema=table_schema(
        _f("date", pa.date32(), nullable=False),
        _f("symbol", pa.string(), nullable=False),
        _f("open", pa.float64(), nullable=False),
        _f("high", pa.float64(), nullable=False),
        _f("low", pa.float64(), nullable=False),
        _f("close", pa.float64(), nullable=False),
        _f("volume", pa.int64(), nullable=False),
        # Cumulative products over events with ex_date <= date, known when the session was curated:
        # split_factor = prod(ratio); div_factor_<convention> = prod(per-event dividend price factor).
        _f("split_factor", pa.float64(), nullable=False),
        _f("div_factor_crsp", pa.float64(), nullable=False),
        _f("div_factor_alpha_vantage", pa.float64(), nullable=False),
        # Set on the last trading session of a delisted symbol (simple return to the delisting value).
        _f("delisting_return", pa.float64()),
        metadata=False,
    ),
    partition_column="date",
    key=("symbol", "date"),
    positive_columns=("open", "high", "low", "close", "split_factor", "div_factor_crsp", "div_factor_alpha_vantage"),
    nonnegative_columns=("volume",),
    description="As-traded daily OHLCV with the point-in-time cumulative split/dividend factors; adjusted on read.",
    extra_checks=("ohlc",),
)

CURATED_TABLES: tuple[TableSpec, ...] = (EQUITIES_OHLCV_ADJ,)

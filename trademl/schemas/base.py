"""The foundation of every table schema: `TableSpec`, the metadata columns, `SchemaViolation`, row helpers.

Every timestamp is UTC; every ``date`` column is the exchange-local trading day (SSOT 1.3). Raw and
reference tables carry the SSOT metadata columns (``ingested_at``, ``source_name``, ``source_uri``,
``vendor_ts``, ``api_version``); `table_schema` appends them and `with_metadata` fills them. The
tables themselves are defined per layer (trademl.schemas.raw, trademl.schemas.reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

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
    """A lake table: its SSOT name, Arrow schema, the column that partitions it and its natural key,
    plus what the node needs to know of it (the one registry the hand-kept lists derive from):

    - `dataset`: the logical name the queue, router and connectors use (``equities_eod``);
    - `bars`: a bar table (routed with bar fallbacks, cross-checked by the QC probe);
    - `self_describing`: its expected symbols are what it stores, not reference/universe's names.
    """

    name: str
    schema: pa.Schema
    partition_column: str
    key: tuple[str, ...]
    dataset: str = ""
    bars: bool = False
    self_describing: bool = False
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


def table_schema(*fields: pa.Field, metadata: bool = True) -> pa.Schema:
    """An Arrow schema of `fields` followed (unless `metadata=False`) by the SSOT metadata columns."""
    return pa.schema(list(fields) + (list(METADATA_FIELDS) if metadata else []))


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

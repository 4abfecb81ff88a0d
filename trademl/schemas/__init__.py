"""The schemas of every lake table: Arrow schema, partitioning, natural key and validation rules.

Tables are addressed by their SSOT names (``raw/equities_bars``, ``reference/corp_actions`` …).
Every timestamp is UTC; every ``date`` column is the exchange-local trading day (SSOT 1.3).
Raw and reference tables carry the SSOT metadata columns (``ingested_at``, ``source_name``,
``source_uri``, ``vendor_ts``, ``api_version``).

Foundation layer: imports nothing from trademl.data or above. Modules (this ``__init__`` is the
facade; import from ``trademl.schemas``):
- ``base``: `TableSpec`, `SchemaViolation`, the metadata columns, `table_schema`, `with_metadata`, `session_id`;
- ``raw``, ``reference``, ``curated``, ``features``, ``labels``: one module per layer with its tables;
- ``catalog``: `TABLES`, `DATASET_TABLES`, `TABLE_DATASETS`, `table_spec`, `empty_table`,
  `ingested_tables`, `derived_tables`;
- ``validate``: `conform` and `sorted_by`.
"""

from __future__ import annotations

from trademl.schemas.base import (
    METADATA_COLUMNS,
    METADATA_FIELDS,
    UTC_TS,
    VOLATILE_COLUMNS,
    SchemaViolation,
    TableSpec,
    session_id,
    table_schema,
    with_metadata,
)
from trademl.schemas.catalog import (
    DATASET_TABLES,
    TABLE_DATASETS,
    TABLES,
    bar_datasets,
    derived_tables,
    empty_table,
    ingested_tables,
    layer_datasets,
    register_table,
    self_describing_tables,
    table_spec,
)
from trademl.schemas.curated import CURATED_TABLES, EQUITIES_OHLCV_ADJ
from trademl.schemas.features import (
    EQUITIES_XS,
    EQUITIES_XS_FEATURES,
    FEATURE_METADATA,
    FEATURE_TABLES,
    GICS_SECTORS,
    MARKET_CONTEXT,
    indicator_set_table,
    sector_column,
)
from trademl.schemas.labels import EQUITIES_XS_LABELS, LABEL_TABLES
from trademl.schemas.raw import EQUITIES_BARS, EQUITIES_MINUTE, MACROS_FRED, OPTIONS_NBBO, RAW_TABLES
from trademl.schemas.reference import (
    CALENDARS,
    CORP_ACTIONS,
    DELISTINGS,
    EARNINGS_CALENDAR,
    INDEX_MEMBERSHIP,
    REFERENCE_TABLES,
    SHARES_OUTSTANDING,
    TICK_SIZE_REGIME,
    UNIVERSE,
)
from trademl.schemas.validate import conform, sorted_by

__all__ = [
    "CALENDARS",
    "CORP_ACTIONS",
    "CURATED_TABLES",
    "EQUITIES_OHLCV_ADJ",
    "EQUITIES_XS",
    "EQUITIES_XS_FEATURES",
    "EQUITIES_XS_LABELS",
    "FEATURE_METADATA",
    "FEATURE_TABLES",
    "GICS_SECTORS",
    "LABEL_TABLES",
    "MARKET_CONTEXT",
    "DATASET_TABLES",
    "DELISTINGS",
    "EARNINGS_CALENDAR",
    "EQUITIES_BARS",
    "EQUITIES_MINUTE",
    "INDEX_MEMBERSHIP",
    "MACROS_FRED",
    "METADATA_COLUMNS",
    "METADATA_FIELDS",
    "OPTIONS_NBBO",
    "RAW_TABLES",
    "SHARES_OUTSTANDING",
    "REFERENCE_TABLES",
    "TABLES",
    "TABLE_DATASETS",
    "TICK_SIZE_REGIME",
    "UNIVERSE",
    "UTC_TS",
    "VOLATILE_COLUMNS",
    "bar_datasets",
    "SchemaViolation",
    "TableSpec",
    "conform",
    "empty_table",
    "session_id",
    "sorted_by",
    "table_schema",
    "table_spec",
    "with_metadata",
    "layer_datasets",
    "derived_tables",
    "ingested_tables",
    "sector_column",
    "indicator_set_table",
    "register_table",
    "self_describing_tables",
]

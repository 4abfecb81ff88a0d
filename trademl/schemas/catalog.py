"""The catalog of lake tables: every layer's `TableSpec` by SSOT name, and the dataset names that map to them.

`table_spec` accepts either name (``raw/equities_bars`` or the dataset ``equities_eod``); a layer's
tables join the catalog here from their module (trademl.schemas.raw, .reference, .curated,
.features, .labels, .models, .portfolio, .backtests).
"""

from __future__ import annotations

import pyarrow as pa

from trademl.schemas.base import TableSpec
from trademl.schemas.curated import CURATED_TABLES
from trademl.schemas.features import FEATURE_TABLES
from trademl.schemas.backtests import BACKTEST_TABLES
from trademl.schemas.labels import LABEL_TABLES
from trademl.schemas.models import MODEL_TABLES
from trademl.schemas.portfolio import PORTFOLIO_TABLES
from trademl.schemas.raw import RAW_TABLES
from trademl.schemas.reference import REFERENCE_TABLES

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        *RAW_TABLES, *REFERENCE_TABLES, *CURATED_TABLES, *FEATURE_TABLES, *LABEL_TABLES,
        *MODEL_TABLES, *PORTFOLIO_TABLES, *BACKTEST_TABLES,
    )
}

# Logical dataset names used by the backfill queue, the router and connectors -> lake table. Only
# ingested (raw and reference) tables have a dataset; derived tables are built, not fetched.
DATASET_TABLES: dict[str, str] = {t.dataset: t.name for t in TABLES.values() if t.dataset}
TABLE_DATASETS: dict[str, str] = {v: k for k, v in DATASET_TABLES.items()}


def register_table(spec: TableSpec) -> TableSpec:
    """Add a table whose columns come from a recipe (an indicator set) to the catalog; registering
    the same spec again is a no-op, a different spec under a known name is a ValueError."""
    known = TABLES.get(spec.name)
    if known is not None and known != spec:
        raise ValueError(f"table {spec.name!r} is already registered with another schema")
    if spec.dataset:
        raise ValueError(f"{spec.name}: registered tables are derived and have no dataset")
    TABLES[spec.name] = spec
    return spec


def table_spec(name: str) -> TableSpec:
    """The spec of a table by SSOT name (``raw/equities_bars``) or dataset name (``equities_eod``)."""
    if name in TABLES:
        return TABLES[name]
    if name in DATASET_TABLES:
        return TABLES[DATASET_TABLES[name]]
    known = ", ".join(sorted(TABLES) + sorted(DATASET_TABLES))
    raise ValueError(f"unknown table {name!r}; known tables and datasets: {known}")


def bar_datasets() -> tuple[str, ...]:
    """Datasets of bar tables (`TableSpec.bars`): routed with bar fallbacks and QC-probed."""
    return tuple(t.dataset for t in TABLES.values() if t.bars)


def self_describing_tables() -> frozenset[str]:
    """Tables whose expected symbols are what they store, not reference/universe's listed names."""
    return frozenset(t.name for t in TABLES.values() if t.self_describing)


def layer_datasets(layer: str) -> tuple[str, ...]:
    """The datasets of one layer's tables (``reference``), in catalog order."""
    return tuple(t.dataset for t in TABLES.values() if t.layer == layer and t.dataset)


def ingested_tables() -> tuple[str, ...]:
    """Tables filled from vendors (those with a dataset): raw and reference, in catalog order."""
    return tuple(t.name for t in TABLES.values() if t.dataset)


def derived_tables() -> tuple[str, ...]:
    """Tables the platform builds from the lake (curated, features, labels, models, portfolio, backtests), in catalog order."""
    return tuple(t.name for t in TABLES.values() if not t.dataset)


def empty_table(name: str) -> pa.Table:
    """A zero-row Arrow table with the table's schema."""
    return table_spec(name).schema.empty_table()

"""The QC rules: table classes and thresholds of configs/backfill.yml ``qc:``, the colours and qc codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trademl.config import typed_config
from trademl.schemas import table_spec

COLORS: tuple[str, ...] = ("GREEN", "AMBER", "RED")
QC_CODES: tuple[str, ...] = (
    "OK",
    "SHORT_SESSION",
    "MISSING_ROWS",
    "CHECKSUM_MISMATCH",
    "NO_DATA",
    "VENDOR_OUTAGE",
    "SCHEMA_VIOLATION",
    "LARGE_REVISION",
)


@dataclass(frozen=True)
class QcRules:
    """Table classes and thresholds of configs/backfill.yml ``qc:``."""

    symbol_complete_tables: frozenset[str]
    universe_expected_tables: frozenset[str]
    minute_tables: frozenset[str]
    sparse_tables: frozenset[str]
    rows_per_symbol: Mapping[str, int]
    green_min_row_frac: float
    amber_min_row_frac: float

    @classmethod
    def from_config(cls, doc: Mapping) -> QcRules:
        """Validate and build the rules from the ``qc:`` mapping."""
        try:
            green = float(doc["green_min_row_frac"])
            amber = float(doc["amber_min_row_frac"])
            rules = cls(
                symbol_complete_tables=frozenset(table_spec(t).name for t in doc["symbol_complete_tables"]),
                universe_expected_tables=frozenset(
                    table_spec(t).name for t in doc.get("universe_expected_tables", doc["symbol_complete_tables"])
                ),
                minute_tables=frozenset(table_spec(t).name for t in doc.get("minute_tables", [])),
                sparse_tables=frozenset(table_spec(t).name for t in doc.get("sparse_tables", [])),
                rows_per_symbol={table_spec(t).name: int(n) for t, n in (doc.get("rows_per_symbol") or {}).items()},
                green_min_row_frac=green,
                amber_min_row_frac=amber,
            )
        except KeyError as exc:
            raise ValueError(f"configs/backfill.yml qc: is missing {exc.args[0]!r}") from exc
        if not 0.0 <= amber <= green <= 1.0:
            raise ValueError(
                f"configs/backfill.yml qc: need 0 <= amber_min_row_frac ({amber}) <= green_min_row_frac ({green}) <= 1"
            )
        return rules


def qc_rules() -> QcRules:
    """The current QC rules (re-read when configs/backfill.yml or its env override changes)."""
    return typed_config(QcRules, "backfill", "qc")

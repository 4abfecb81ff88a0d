"""Completeness rules (SSOT 2.3): stored partitions -> GREEN/AMBER/RED ledger rows with SSOT qc codes.

A ledger row is one ``(source, table, symbol, session)``. Symbol-complete tables (bars, minutes,
option quotes) get one row per expected symbol; self-describing tables (reference/*, macro
vintages) get one symbol-less row per session judged on presence. ``expected_rows`` is the row
count QC requires: exact for daily bars (1) and minute bars (the session's regular-hours minutes
from `trademl.calendar`, 210 on half days), a minimum for option quotes and self-describing tables.
Thresholds and table classes come from ``configs/backfill.yml`` (``qc:``). Everything is computed
with vectorised pandas/pyarrow over all symbols and sessions at once.

QC codes: OK, SHORT_SESSION (complete half day, still GREEN), MISSING_ROWS, NO_DATA,
CHECKSUM_MISMATCH, VENDOR_OUTAGE, SCHEMA_VIOLATION, LARGE_REVISION (AMBER: the latest version
replaced or dropped more than ``configs/ingest.yml large_revision_frac`` of a GREEN partition's
rows; see `apply_reviews`) and any rejection code a writer reports.

Modules (this package's ``__init__`` is the facade; import from ``trademl.data.qc``):
- ``rules``: `QcRules` (configs/backfill.yml ``qc:``), `qc_rules`, `COLORS`, `QC_CODES`;
- ``evaluation``: `stored_counts`, `evaluate_partitions`, `evaluate_partition`;
- ``summaries``: `PartitionSummary`, `summarize`, `session_colors`, `summaries_by_session`;
- ``reviews``: `apply_reviews` (LARGE_REVISION sessions turned AMBER).
"""

from __future__ import annotations

from trademl.data.qc.evaluation import evaluate_partition, evaluate_partitions, stored_counts
from trademl.data.qc.reviews import apply_reviews
from trademl.data.qc.rules import COLORS, QC_CODES, QcRules, qc_rules
from trademl.data.qc.summaries import PartitionSummary, session_colors, summaries_by_session, summarize

__all__ = [
    "COLORS",
    "QC_CODES",
    "PartitionSummary",
    "QcRules",
    "apply_reviews",
    "evaluate_partition",
    "evaluate_partitions",
    "qc_rules",
    "session_colors",
    "stored_counts",
    "summaries_by_session",
    "summarize",
]

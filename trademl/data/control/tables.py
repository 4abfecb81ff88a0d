"""Control-plane table definitions (SSOT 2.8): partition_status, backfill_queue, pipeline_runs, vendor budgets.

One concern: the schema of the control db as SQLAlchemy Core tables on one `metadata`, the
status/kind vocabularies they constrain, and the UTC timestamp type every table uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

UTC = dt.timezone.utc

QC_STATUSES: tuple[str, ...] = ("GREEN", "AMBER", "RED")
TASK_STATUSES: tuple[str, ...] = ("PENDING", "LEASED", "DONE", "FAILED")
TASK_KINDS: tuple[str, ...] = ("BOOTSTRAP", "GAP", "FORWARD", "QC_PROBE")
RUN_STATUSES: tuple[str, ...] = ("RUNNING", "FAILED", "SUCCEEDED", "CANCELLED")

# SSOT 2.4 priority lanes (lower = leased first). BOOTSTRAP outside the stage window uses 3.
KIND_PRIORITY: dict[str, int] = {"BOOTSTRAP": 0, "GAP": 1, "QC_PROBE": 2, "FORWARD": 5}
BOOTSTRAP_OUTSIDE_WINDOW_PRIORITY = 3

STATUS_COLUMNS: tuple[str, ...] = (
    "source_name",
    "table_name",
    "symbol",
    "dt",
    "partition_key",
    "status",
    "qc_score",
    "row_count",
    "expected_rows",
    "qc_code",
)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (timestamptz on Postgres, ISO text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; control-db timestamps must be UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(values: Sequence[str], name: str) -> SAEnum:
    return SAEnum(*values, name=name, create_constraint=True, validate_strings=True)


_JSON = JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = MetaData()

partition_status = Table(
    "partition_status",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("status_key", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("table_name", Text, nullable=False),
    Column("symbol", Text, nullable=True),
    Column("dt", Date, nullable=True),
    Column("partition_key", Text, nullable=True),
    Column("status", _enum(QC_STATUSES, "qc_status"), nullable=False),
    Column("qc_score", Float(precision=53), nullable=True),
    Column("row_count", Integer, nullable=False),
    Column("expected_rows", Integer, nullable=True),
    Column("qc_code", Text, nullable=True),
    Column("first_observed_at", UTCDateTime, nullable=False),
    Column("last_observed_at", UTCDateTime, nullable=False),
    # Optional JSON text explaining the qc_code (e.g. LARGE_REVISION: revised_frac, versions).
    Column("detail", Text, nullable=True),
    UniqueConstraint("status_key", name="uq_partition_status_key"),
    CheckConstraint("qc_score IS NULL OR (qc_score >= 0 AND qc_score <= 1)", name="ck_partition_status_qc_score"),
    CheckConstraint("row_count >= 0", name="ck_partition_status_row_count"),
    Index("idx_partition_status_table_dt", "table_name", "dt"),
)

backfill_queue = Table(
    "backfill_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", Text, nullable=False),
    Column("symbol", Text, nullable=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("kind", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", _enum(TASK_STATUSES, "task_status"), nullable=False, server_default="PENDING"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("lease_owner", Text, nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("next_not_before", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("vendor", Text, nullable=True),
    Column("tokens", Integer, nullable=False, server_default=text("1")),
    UniqueConstraint("dataset", "symbol", "start_date", "end_date", "kind", name="uq_backfill_queue_task"),
    CheckConstraint("end_date > start_date", name="ck_backfill_queue_window"),
    CheckConstraint("kind IN ('BOOTSTRAP', 'GAP', 'FORWARD', 'QC_PROBE')", name="ck_backfill_queue_kind"),
    CheckConstraint("attempts >= 0 AND tokens >= 0", name="ck_backfill_queue_counts"),
    Index("idx_backfill_queue_status", "status", "priority", "created_at"),
    sqlite_autoincrement=True,
)
# SQL treats NULL symbols as distinct, so the UNIQUE constraint alone would let symbol-less duplicates in.
Index(
    "uq_backfill_queue_task_nullsafe",
    backfill_queue.c.dataset,
    func.coalesce(backfill_queue.c.symbol, ""),
    backfill_queue.c.start_date,
    backfill_queue.c.end_date,
    backfill_queue.c.kind,
    unique=True,
)

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("pipeline_name", Text, nullable=False),
    Column("params_json", _JSON, nullable=True),
    Column("status", _enum(RUN_STATUSES, "pipeline_run_status"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("metrics_json", _JSON, nullable=True),
    Column("artifact_uri", Text, nullable=True),
    Index("idx_pipeline_runs_name_started", "pipeline_name", "started_at"),
)

vendor_budget_usage = Table(
    "vendor_budget_usage",
    metadata,
    Column("vendor", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("bootstrap_tokens", Float(precision=53), nullable=False, server_default=text("0")),
    Column("gap_tokens", Float(precision=53), nullable=False, server_default=text("0")),
    Column("qc_probe_tokens", Float(precision=53), nullable=False, server_default=text("0")),
    Column("forward_tokens", Float(precision=53), nullable=False, server_default=text("0")),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("vendor", "day", name="pk_vendor_budget_usage"),
)
USAGE_COLUMNS: dict[str, str] = {
    "BOOTSTRAP": "bootstrap_tokens",
    "GAP": "gap_tokens",
    "QC_PROBE": "qc_probe_tokens",
    "FORWARD": "forward_tokens",
}

vendor_token_bucket = Table(
    "vendor_token_bucket",
    metadata,
    Column("vendor", Text, primary_key=True),
    Column("tokens", Float(precision=53), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

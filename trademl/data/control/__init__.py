"""Control-plane tables of the data node (SSOT 2.8): partition_status, backfill_queue, pipeline_runs.

SQLAlchemy Core only (no ORM). The embedded default is a SQLite file in WAL mode at
``<data_root>/control/node.sqlite``; a Postgres URI in ``DB_URI`` moves the same tables to Postgres.
Every timestamp is stored and returned as UTC (naive datetimes are rejected on the way in).
Bulk writes are one ``executemany`` of an ``INSERT ... ON CONFLICT`` built with the dialect's own
insert construct (630k status rows: about 11 s on SQLite, most of it SQLite itself; see
benchmarks/sections/control.md).

Beyond SSOT 2.8 the module keeps two small budget tables used by the queue worker
(``trademl.data.backfill``): ``vendor_budget_usage`` (tokens spent per vendor, UTC day and task kind)
and ``vendor_token_bucket`` (the persisted token-bucket level per vendor), so that daily caps and
rate limits hold across processes and restarts.

Modules (one concern each): `tables` (table definitions and vocabularies), `engine` (make_engine,
the cached `control_engine`, migrations of added columns, transactions, dialect helpers),
`ledger` (partition_status), `queue` (backfill_queue) and `runs` (pipeline_runs).
"""

from trademl.data.control.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_CACHE_KIB,
    as_utc,
    control_engine,
    dialect_insert,
    make_engine,
    utc_now,
    write_transaction,
)
from trademl.data.control.ledger import (
    read_partition_status,
    read_symbol_status,
    status_counts,
    status_keys,
    table_summaries,
    upsert_partition_status,
)
from trademl.data.control.queue import enqueue_tasks, queue_counts, queued_mask, read_queue
from trademl.data.control.runs import finish_pipeline_run, read_pipeline_runs, start_pipeline_run
from trademl.data.control.tables import (
    BOOTSTRAP_OUTSIDE_WINDOW_PRIORITY,
    KIND_PRIORITY,
    QC_STATUSES,
    RUN_STATUSES,
    STATUS_COLUMNS,
    TASK_KINDS,
    TASK_STATUSES,
    USAGE_COLUMNS,
    UTC,
    UTCDateTime,
    backfill_queue,
    metadata,
    partition_status,
    pipeline_runs,
    vendor_budget_usage,
    vendor_token_bucket,
)

__all__ = [
    "BOOTSTRAP_OUTSIDE_WINDOW_PRIORITY",
    "KIND_PRIORITY",
    "QC_STATUSES",
    "RUN_STATUSES",
    "STATUS_COLUMNS",
    "TASK_KINDS",
    "TASK_STATUSES",
    "USAGE_COLUMNS",
    "as_utc",
    "backfill_queue",
    "control_engine",
    "dialect_insert",
    "enqueue_tasks",
    "finish_pipeline_run",
    "make_engine",
    "metadata",
    "partition_status",
    "pipeline_runs",
    "queue_counts",
    "queued_mask",
    "read_partition_status",
    "read_pipeline_runs",
    "read_queue",
    "read_symbol_status",
    "start_pipeline_run",
    "status_counts",
    "status_keys",
    "table_summaries",
    "upsert_partition_status",
    "utc_now",
    "vendor_budget_usage",
    "vendor_token_bucket",
    "write_transaction",
]

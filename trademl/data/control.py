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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
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
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.expression import column as sa_column
from sqlalchemy.sql.expression import table as sa_table
from sqlalchemy.types import TypeDecorator

from trademl.config import settings

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
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 131_072  # page cache per connection: bulk ledger upserts touch random UUID index pages


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


# ----------------------------------------------------------------------------------------------
# Engine and transactions
# ----------------------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(UTC)


def as_utc(value: dt.datetime | pd.Timestamp | None, name: str = "now") -> dt.datetime:
    """`value` as an aware UTC datetime (None -> now); naive datetimes are rejected as ambiguous."""
    if value is None:
        return utc_now()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"{name}={value.isoformat()} is naive; pass a timezone-aware UTC datetime")
    return value.astimezone(UTC)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # the driver never opens transactions on its own; "begin" below does
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(db_uri: str | None = None) -> Engine:
    """An engine on the control db (default: settings().db_uri) with every control table created.

    SQLite: parent directory created, WAL journal, busy_timeout, and transactions begun by us so a
    writer can take the lock up front (``BEGIN IMMEDIATE`` via `write_transaction`).
    Postgres: table creation is serialised with an advisory lock so concurrent starters do not race.
    """
    uri = db_uri or settings().db_uri
    url = make_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    elif backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        raise ValueError(f"control db must be sqlite or postgresql, got {backend!r} from {url.render_as_string()}")
    with write_transaction(engine) as conn:
        if backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7317001)"))
        metadata.create_all(conn, checkfirst=True)
        _add_missing_columns(conn)
    return engine


# Columns added to existing tables after their first release: (table, column, SQL type).
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (("partition_status", "detail", "TEXT"),)


def _add_missing_columns(conn: Connection) -> None:
    """Bring a control db created by an older release up to date (ALTER TABLE ... ADD COLUMN, nullable)."""
    inspector = inspect(conn)
    for table_name, column_name, sql_type in _ADDED_COLUMNS:
        present = {c["name"] for c in inspector.get_columns(table_name)}
        if column_name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {column_name} {sql_type}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that may read then write safely: ``BEGIN IMMEDIATE`` on SQLite, plain BEGIN on Postgres."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def dialect_insert(conn: Connection, table: Table | TableClause) -> Any:
    """The dialect's own INSERT construct for `table` (it carries ON CONFLICT DO NOTHING / DO UPDATE)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported dialect {conn.dialect.name!r}")



# ----------------------------------------------------------------------------------------------
# partition_status
# ----------------------------------------------------------------------------------------------


def status_keys(frame: pd.DataFrame) -> pd.Series:
    """The portable unique key of status rows: ``table_name|symbol|dt|partition_key`` (NULLs as empty)."""
    dts = pd.to_datetime(frame["dt"], errors="raise")
    dt_str = _iso_dates(dts).fillna("")
    return (
        frame["table_name"].astype(str)
        + "|"
        + frame["symbol"].astype(object).where(frame["symbol"].notna(), "").astype(str)
        + "|"
        + dt_str
        + "|"
        + frame["partition_key"].astype(object).where(frame["partition_key"].notna(), "").astype(str)
    )


def _ordered_uuid_hex(n: int) -> np.ndarray:
    """n version-7 UUIDs (unix-ms timestamp first) as 32-char hex, increasing within the batch.

    Time-ordered keys append to the primary-key index instead of touching random pages, which keeps
    bulk upserts fast; built column-wise without a per-row Python loop.
    """
    ms = int(time.time() * 1000)
    raw = np.zeros((n, 16), dtype=np.uint8)
    raw[:, :6] = np.frombuffer(ms.to_bytes(6, "big"), dtype=np.uint8)
    rand = np.frombuffer(os.urandom(10), dtype=np.uint8)
    raw[:, 6] = 0x70 | (rand[0] & 0x0F)
    raw[:, 7] = rand[1]
    # 62-bit sequence from a random start: variant bits 10, then the counter, big-endian.
    start = int.from_bytes(rand[2:10].tobytes(), "big") & ((1 << 61) - 1)
    seq = (np.uint64(start) + np.arange(n, dtype=np.uint64)) | np.uint64(1 << 63)
    raw[:, 8:] = seq.astype(">u8").view(np.uint8).reshape(n, 8)
    return np.frombuffer(raw.tobytes().hex().encode(), dtype="S32").astype(str)


def _iso_dates(values: pd.Series) -> pd.Series:
    """Dates as "YYYY-MM-DD" strings (NaT -> None), formatting each distinct date once."""
    codes, uniques = pd.factorize(values)
    formatted = pd.DatetimeIndex(uniques).strftime("%Y-%m-%d").to_numpy(dtype=object)
    out = np.where(codes >= 0, formatted[np.maximum(codes, 0)] if len(formatted) else None, None)
    return pd.Series(out, index=values.index, dtype=object)


def _none_if_na(values: pd.Series | np.ndarray) -> list[Any]:
    values = pd.Series(values)
    return values.astype(object).where(values.notna(), None).tolist()


def _untyped(table: Table) -> TableClause:
    """The same table with untyped columns: bulk paths bind/fetch driver-native values with no per-row
    type processing (values are converted column-wise in pandas instead)."""
    return sa_table(table.name, *[sa_column(c.name) for c in table.c])


def _sqlite_ts(value: dt.datetime) -> str:
    """The text form SQLAlchemy's SQLite DATETIME stores (UTC, microseconds), so both paths agree."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _bulk_execute(conn: Connection, stmt: Any, columns: Sequence[str], data: dict[str, list[Any]]) -> None:
    """executemany of a dialect INSERT ... ON CONFLICT over column-wise data.

    SQLite: the statement is compiled once and the rows go straight to the driver's C-level
    executemany. Postgres: SQLAlchemy's insertmanyvalues batches rows into multi-row VALUES.
    """
    if conn.dialect.name == "sqlite":
        compiled = stmt.compile(dialect=conn.dialect)
        order = list(compiled.positiontup or [])
        if sorted(order) != sorted(columns):
            raise RuntimeError(f"compiled insert binds {order}, expected {sorted(columns)}")
        conn.exec_driver_sql(str(compiled), list(zip(*(data[c] for c in order))))
    else:
        n = len(data[columns[0]])
        records = [dict(zip(columns, vals)) for vals in zip(*(data[c] for c in columns))] if n else []
        conn.execute(stmt, records)


def _validated_status_rows(rows: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(rows, pd.DataFrame):
        raise ValueError(f"status rows must be a DataFrame, got {type(rows).__name__}")
    missing = [c for c in STATUS_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"status rows are missing columns {missing}; required: {list(STATUS_COLUMNS)}")
    frame = rows.loc[:, [*STATUS_COLUMNS, *(["detail"] if "detail" in rows.columns else [])]].copy()
    for col in ("source_name", "table_name", "status"):
        if frame[col].isna().any():
            raise ValueError(f"status rows have null {col}")
    bad = ~frame["status"].isin(QC_STATUSES)
    if bad.any():
        raise ValueError(f"status must be one of {QC_STATUSES}; got {sorted(frame.loc[bad, 'status'].unique())}")
    counts = pd.to_numeric(frame["row_count"], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        raise ValueError("row_count must be a non-negative integer on every status row")
    scores = pd.to_numeric(frame["qc_score"], errors="coerce")
    if ((scores < 0) | (scores > 1)).any():
        raise ValueError("qc_score must lie in [0, 1]")
    expected = pd.to_numeric(frame["expected_rows"], errors="coerce")
    if (expected < 0).any():
        raise ValueError("expected_rows must be non-negative (or null)")
    return frame


_STATUS_UPDATE_ON_CONFLICT = (
    "source_name", "status", "qc_score", "row_count", "expected_rows", "qc_code", "detail", "last_observed_at",
)


def upsert_partition_status(engine: Engine, rows: pd.DataFrame, *, now: dt.datetime | None = None) -> int:
    """Insert or update status rows by status_key; first_observed_at is kept, last_observed_at = now (UTC).

    A symbol-less session row of a partition (written when nothing at all could be said about its
    symbols, e.g. the universe was missing) is removed once rows naming symbols or partition keys
    arrive for the same (table_name, dt). An optional ``detail`` column (text explaining the
    qc_code) is stored too; rows without it clear a previous detail, like their qc_code replaces
    the previous one. Returns the number of distinct rows written.
    """
    if rows is None or len(rows) == 0:
        return 0
    observed = as_utc(now)
    frame = _validated_status_rows(rows)
    frame["status_key"] = status_keys(frame)
    frame = frame.drop_duplicates("status_key", keep="last").sort_values("status_key").reset_index(drop=True)
    n = len(frame)
    dts = pd.to_datetime(frame["dt"])
    dialect = engine.dialect.name
    if dialect == "sqlite":
        dt_values = _none_if_na(_iso_dates(dts))
        ts_value: Any = _sqlite_ts(observed)
    else:
        dt_values = _none_if_na(dts.dt.date)
        ts_value = observed
    expected = pd.to_numeric(frame["expected_rows"], errors="coerce")
    data: dict[str, list[Any]] = {
        "id": _ordered_uuid_hex(n).tolist(),
        "status_key": frame["status_key"].tolist(),
        "source_name": frame["source_name"].astype(str).tolist(),
        "table_name": frame["table_name"].astype(str).tolist(),
        "symbol": _none_if_na(frame["symbol"]),
        "dt": dt_values,
        "partition_key": _none_if_na(frame["partition_key"]),
        "status": frame["status"].astype(str).tolist(),
        "qc_score": _none_if_na(pd.to_numeric(frame["qc_score"], errors="coerce").astype(float)),
        "row_count": pd.to_numeric(frame["row_count"]).astype("int64").tolist(),
        "expected_rows": [None if v is None else int(v) for v in _none_if_na(expected)],
        "qc_code": _none_if_na(frame["qc_code"]),
        "detail": _none_if_na(frame["detail"]) if "detail" in frame.columns else [None] * n,
        "first_observed_at": [ts_value] * n,
        "last_observed_at": [ts_value] * n,
    }
    named = frame["symbol"].notna() | frame["partition_key"].notna()
    superseded = pd.DataFrame({"table_name": frame.loc[named, "table_name"], "dt": dts[named]})
    superseded = superseded.dropna(subset=["dt"]).drop_duplicates()
    ps = partition_status
    light = _untyped(ps)
    with write_transaction(engine) as conn:
        stmt = dialect_insert(conn, light)
        stmt = stmt.on_conflict_do_update(
            index_elements=["status_key"],
            set_={c: stmt.excluded[c] for c in _STATUS_UPDATE_ON_CONFLICT},
        )
        _bulk_execute(conn, stmt, list(data), data)
        if len(superseded):
            conn.execute(
                delete(ps).where(
                    ps.c.table_name == bindparam("t"),
                    ps.c.dt == bindparam("d"),
                    ps.c.symbol.is_(None),
                    ps.c.partition_key.is_(None),
                ),
                [{"t": t, "d": d.date()} for t, d in zip(superseded["table_name"], superseded["dt"])],
            )
    return n


def _to_dates(values: pd.Series) -> pd.Series:
    """Driver values of a DATE column (ISO text on SQLite, date objects on Postgres) -> datetime.date objects."""
    parsed = pd.to_datetime(values, format="ISO8601") if len(values) else pd.Series([], dtype="datetime64[ns]")
    return pd.Series(_none_if_na(parsed.dt.date), index=values.index, dtype=object)


def _to_utc(values: pd.Series) -> pd.Series:
    """Driver values of a UTC timestamp column -> tz-aware UTC pandas timestamps (naive text is UTC)."""
    if len(values) == 0:
        return pd.Series([], dtype="datetime64[ns, UTC]", index=values.index)
    return pd.to_datetime(values, utc=True, format="ISO8601")


def read_partition_status(
    engine: Engine,
    table_name: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    symbols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Status rows (SSOT 2.8 columns + status_key), optionally for one table, dt in [start, end] and symbols.

    `dt` comes back as ``datetime.date``; first/last_observed_at as UTC timestamps; id as UUID hex.
    """
    lo = None if start is None else _as_date(start, "start")
    hi = None if end is None else _as_date(end, "end")
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"end {hi} is before start {lo}")
    light = _untyped(partition_status)
    c = light.c
    q = select(*c)
    if table_name is not None:
        q = q.where(c.table_name == table_name)
    if lo is not None:
        q = q.where(c.dt >= (lo.isoformat() if engine.dialect.name == "sqlite" else lo))
    if hi is not None:
        q = q.where(c.dt <= (hi.isoformat() if engine.dialect.name == "sqlite" else hi))
    sym_list = None if symbols is None else [str(s) for s in symbols]
    if sym_list is not None and len(sym_list) <= 500:
        q = q.where(c.symbol.in_(sym_list))
    q = q.order_by(c.table_name, c.dt, c.symbol, c.partition_key)
    with engine.connect() as conn:
        result = conn.execute(q)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if sym_list is not None and len(sym_list) > 500:
        frame = frame[frame["symbol"].isin(set(sym_list))].reset_index(drop=True)
    frame["id"] = frame["id"].astype(str).str.replace("-", "", regex=False)
    frame["dt"] = _to_dates(frame["dt"])
    for col in ("first_observed_at", "last_observed_at"):
        frame[col] = _to_utc(frame[col])
    frame["row_count"] = frame["row_count"].astype("int64")
    frame["expected_rows"] = pd.array(pd.to_numeric(frame["expected_rows"]), dtype="Int64")
    frame["qc_score"] = pd.to_numeric(frame["qc_score"]).astype("float64")
    return frame


def status_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Rows per table and status: ``{table_name: {"GREEN": n, "AMBER": n, "RED": n}}``."""
    ps = partition_status
    q = select(ps.c.table_name, ps.c.status, func.count()).group_by(ps.c.table_name, ps.c.status)
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for table_name, status, n in conn.execute(q):
            out.setdefault(table_name, dict.fromkeys(QC_STATUSES, 0))[status] = int(n)
    return out


# ----------------------------------------------------------------------------------------------
# backfill_queue
# ----------------------------------------------------------------------------------------------


def _as_date(value: Any, name: str) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a date (expected YYYY-MM-DD)") from exc


def _task_record(task: Any, now: dt.datetime) -> dict[str, Any]:
    if dataclasses.is_dataclass(task) and not isinstance(task, type):
        raw = dataclasses.asdict(task)
    elif isinstance(task, Mapping):
        raw = dict(task)
    else:
        raise ValueError(f"a task must be a dataclass or a mapping, got {type(task).__name__}")
    dataset = raw.get("dataset")
    if not dataset or not isinstance(dataset, str):
        raise ValueError(f"task has no dataset: {raw!r}")
    kind = str(raw.get("kind", ""))
    kind = getattr(raw.get("kind"), "value", kind)
    if kind not in TASK_KINDS:
        raise ValueError(f"task kind must be one of {TASK_KINDS}, got {raw.get('kind')!r}")
    start, end = _as_date(raw.get("start_date"), "start_date"), _as_date(raw.get("end_date"), "end_date")
    if end <= start:
        raise ValueError(f"task window [{start}, {end}) is empty: end_date must be after start_date (closed-open)")
    priority = raw.get("priority")
    priority = KIND_PRIORITY[kind] if priority is None else int(priority)
    if priority < 0:
        raise ValueError(f"priority must be >= 0, got {priority}")
    tokens = raw.get("tokens")
    tokens = 1 if tokens is None else int(tokens)
    if tokens < 0:
        raise ValueError(f"tokens must be >= 0, got {tokens}")
    symbol = raw.get("symbol")
    return {
        "dataset": dataset,
        "symbol": None if symbol is None or (isinstance(symbol, float) and np.isnan(symbol)) else str(symbol),
        "start_date": start,
        "end_date": end,
        "kind": kind,
        "priority": priority,
        "status": "PENDING",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        "vendor": raw.get("vendor"),
        "tokens": tokens,
        "next_not_before": raw.get("next_not_before"),
    }


def enqueue_tasks(
    engine: Engine,
    tasks: Iterable[Any] | pd.DataFrame,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Insert PENDING tasks (dataclasses, mappings or a DataFrame); returns how many were new.

    Duplicates of (dataset, symbol, start_date, end_date, kind) — NULL symbols included — are
    ignored, whatever the existing task's status. Priority defaults to the kind's lane (SSOT 2.4).
    """
    created = as_utc(now)
    items = tasks.to_dict("records") if isinstance(tasks, pd.DataFrame) else list(tasks)
    records = [_task_record(t, created) for t in items]
    if not records:
        return 0
    # One statement per unique key: duplicates inside the batch would otherwise hit the conflict twice.
    unique: dict[tuple, dict[str, Any]] = {}
    for r in records:
        unique.setdefault((r["dataset"], r["symbol"] or "", r["start_date"], r["end_date"], r["kind"]), r)
    q = backfill_queue
    with write_transaction(engine) as conn:
        stmt = dialect_insert(conn, q).on_conflict_do_nothing().returning(q.c.id)
        result = conn.execute(stmt, list(unique.values()))
        return len(result.fetchall())


def read_queue(
    engine: Engine,
    status: str | Sequence[str] | None = None,
    dataset: str | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Queue rows (all SSOT 2.8 columns + vendor, tokens) in lease order (priority, created_at, id)."""
    q = backfill_queue
    stmt = select(*q.c)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        unknown = set(wanted) - set(TASK_STATUSES)
        if unknown:
            raise ValueError(f"unknown task status {sorted(unknown)}; known: {TASK_STATUSES}")
        stmt = stmt.where(q.c.status.in_(wanted))
    if dataset is not None:
        stmt = stmt.where(q.c.dataset == dataset)
    if kind is not None:
        stmt = stmt.where(q.c.kind == kind)
    stmt = stmt.order_by(q.c.priority, q.c.created_at, q.c.id)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in ("lease_expires_at", "next_not_before", "created_at", "updated_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def queue_counts(engine: Engine) -> dict[str, int]:
    """Tasks per status: ``{"PENDING": n, "LEASED": n, "DONE": n, "FAILED": n}``."""
    q = backfill_queue
    out = dict.fromkeys(TASK_STATUSES, 0)
    with engine.connect() as conn:
        for status, n in conn.execute(select(q.c.status, func.count()).group_by(q.c.status)):
            out[status] = int(n)
    return out


# ----------------------------------------------------------------------------------------------
# pipeline_runs
# ----------------------------------------------------------------------------------------------


def _json_ready(value: Any, name: str) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not JSON-serialisable: {exc}") from exc


def start_pipeline_run(
    engine: Engine, name: str, params: Mapping[str, Any] | None = None, *, now: dt.datetime | None = None
) -> str:
    """Record a RUNNING pipeline execution with its config snapshot; returns the run id (UUID hex)."""
    if not name:
        raise ValueError("pipeline name must be a non-empty string")
    run_id = uuid.uuid4().hex
    with write_transaction(engine) as conn:
        conn.execute(
            pipeline_runs.insert().values(
                id=run_id,
                pipeline_name=name,
                params_json=_json_ready(dict(params or {}), "params"),
                status="RUNNING",
                started_at=as_utc(now),
            )
        )
    return run_id


def finish_pipeline_run(
    engine: Engine,
    run_id: str,
    status: str,
    metrics: Mapping[str, Any] | None = None,
    artifact_uri: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Close a run as SUCCEEDED, FAILED or CANCELLED with optional metrics and artifact link."""
    if status not in RUN_STATUSES or status == "RUNNING":
        raise ValueError(f"final status must be one of SUCCEEDED, FAILED, CANCELLED; got {status!r}")
    pr = pipeline_runs
    with write_transaction(engine) as conn:
        res = conn.execute(
            update(pr)
            .where(pr.c.id == uuid.UUID(str(run_id)).hex)
            .values(
                status=status,
                finished_at=as_utc(now),
                metrics_json=None if metrics is None else _json_ready(dict(metrics), "metrics"),
                artifact_uri=artifact_uri,
            )
        )
        if res.rowcount != 1:
            raise ValueError(f"no pipeline run with id {run_id!r}")


def read_pipeline_runs(engine: Engine, name: str | None = None) -> pd.DataFrame:
    """Pipeline runs, newest first, optionally for one pipeline name."""
    pr = pipeline_runs
    stmt = select(*pr.c).order_by(pr.c.started_at.desc())
    if name is not None:
        stmt = stmt.where(pr.c.pipeline_name == name)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for col in ("started_at", "finished_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


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
    "dialect_insert",
    "enqueue_tasks",
    "finish_pipeline_run",
    "make_engine",
    "metadata",
    "partition_status",
    "pipeline_runs",
    "queue_counts",
    "read_partition_status",
    "read_pipeline_runs",
    "read_queue",
    "start_pipeline_run",
    "status_counts",
    "status_keys",
    "upsert_partition_status",
    "utc_now",
    "vendor_budget_usage",
    "vendor_token_bucket",
    "write_transaction",
]

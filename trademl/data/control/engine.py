"""The control db engine: creation (SQLite WAL or Postgres), migrations of added columns, transactions, dialect helpers.

One concern: getting a correctly configured connection to the control db and writing through it.
`make_engine` builds an engine and creates/updates the tables; `control_engine` caches one engine
per URI (processes share it instead of re-creating tables); `write_transaction` begins a
read-then-write transaction; `dialect_insert` / `_bulk_execute` are the dialect-specific bulk paths
the ledger and the queue share, together with the UTC and date normalisers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.expression import column as sa_column
from sqlalchemy.sql.expression import table as sa_table
from sqlalchemy.schema import Table

from trademl.config import settings
from trademl.data.control.tables import UTC, metadata

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 131_072  # page cache per connection: bulk ledger upserts touch random UUID index pages


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


@lru_cache(maxsize=8)
def _cached_engine(db_uri: str) -> Engine:
    return make_engine(db_uri)


def control_engine(uri: str | None = None) -> Engine:
    """The process-wide engine on the control db at `uri` (default: settings().db_uri), one per URI.

    Built by `make_engine` on first use (tables created, columns migrated) and cached, so resources,
    the CLI and the runner share one connection pool per database.
    """
    return _cached_engine(uri or settings().db_uri)


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

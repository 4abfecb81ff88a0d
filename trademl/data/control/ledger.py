"""The partition ledger: partition_status rows (one per table, symbol, session / partition key).

One concern: writing QC verdicts of partitions in bulk (`upsert_partition_status`: one executemany
of an INSERT ... ON CONFLICT, time-ordered UUID keys) and reading them back typed
(`read_partition_status`, `status_counts`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, case, delete, func, select
from sqlalchemy.engine import Engine

from trademl.data.control.engine import (
    _as_date,
    _bulk_execute,
    _sqlite_ts,
    _untyped,
    as_utc,
    dialect_insert,
    write_transaction,
)
from trademl.data.control.tables import QC_STATUSES, STATUS_COLUMNS, partition_status

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
    *,
    whole_sessions: bool = False,
) -> pd.DataFrame:
    """Status rows (SSOT 2.8 columns + status_key), optionally for one table, dt in [start, end] and symbols
    (with `whole_sessions`, also the symbol-less rows that stand for a whole session).

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
        q = q.where(c.symbol.in_(sym_list) | c.symbol.is_(None)) if whole_sessions else q.where(c.symbol.in_(sym_list))
    q = q.order_by(c.table_name, c.dt, c.symbol, c.partition_key)
    with engine.connect() as conn:
        result = conn.execute(q)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if sym_list is not None and len(sym_list) > 500:
        keep = frame["symbol"].isin(set(sym_list)) | (frame["symbol"].isna() if whole_sessions else False)
        frame = frame[keep].reset_index(drop=True)
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


def _iso(value: Any) -> str | None:
    """A DATE column value (ISO text on SQLite, a date on Postgres) as "YYYY-MM-DD"."""
    return None if value is None else str(value)[:10]


def table_summaries(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per table: session colours (a session is RED when any of its rows is RED, else AMBER when any
    is AMBER, else GREEN), ledger rows per status (symbol-sessions), the first and last session,
    the distinct symbols and the sources (source_name values, sorted).

    ``{table: {"sessions": {"GREEN": n, ...}, "symbol_sessions": {...}, "first": "YYYY-MM-DD",
    "last": ..., "symbols": n, "sources": [...]}}``; three aggregate queries, no row is fetched.
    """
    ps = partition_status
    red = func.sum(case((ps.c.status == "RED", 1), else_=0))
    amber = func.sum(case((ps.c.status == "AMBER", 1), else_=0))
    per_session = (
        select(
            ps.c.table_name.label("t"),
            case((red > 0, "RED"), (amber > 0, "AMBER"), else_="GREEN").label("color"),
        )
        .where(ps.c.dt.is_not(None))
        .group_by(ps.c.table_name, ps.c.dt)
        .subquery()
    )
    colours = select(per_session.c.t, per_session.c.color, func.count()).group_by(per_session.c.t, per_session.c.color)
    spans = select(
        ps.c.table_name, func.min(ps.c.dt), func.max(ps.c.dt), func.count(ps.c.symbol.distinct())
    ).group_by(ps.c.table_name)
    sources = select(ps.c.table_name, ps.c.source_name).distinct()
    out: dict[str, dict[str, Any]] = {}

    def entry(table: str) -> dict[str, Any]:
        return out.setdefault(
            table,
            {"sessions": dict.fromkeys(QC_STATUSES, 0), "symbol_sessions": dict.fromkeys(QC_STATUSES, 0),
             "first": None, "last": None, "symbols": 0, "sources": []},
        )

    with engine.connect() as conn:
        for table, colour, n in conn.execute(colours):
            entry(table)["sessions"][colour] = int(n)
        for table, first, last, n in conn.execute(spans):
            entry(table).update(first=_iso(first), last=_iso(last), symbols=int(n))
        for table, source in conn.execute(sources.order_by(ps.c.table_name, ps.c.source_name)):
            entry(table)["sources"].append(str(source))
    for table, counts in status_counts(engine).items():
        entry(table)["symbol_sessions"] = counts
    return out


def read_symbol_status(engine: Engine, table_name: str, symbol: str) -> pd.DataFrame:
    """The ledger rows that judge one symbol of a table: its own rows and the symbol-less rows that
    stand for whole sessions (nothing could be said per symbol), by session (`read_partition_status`
    columns)."""
    mine = read_partition_status(engine, table_name, symbols=[symbol], whole_sessions=True)
    return mine.sort_values(["dt", "symbol"], na_position="last", kind="stable").reset_index(drop=True)

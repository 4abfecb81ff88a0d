"""The backtest registry (spec 000 "Backtest Registry"): runs, their folds and the leaderboard, in the control db.

Tables `backtest_runs` and `backtest_folds` live on their own SQLAlchemy MetaData (created on first use in
whatever engine is passed: SQLite or Postgres). A run keeps its params and full metrics as JSON and the
headline metrics as columns, so the leaderboard sorts in SQL; `order_by` must name one of those columns
(never interpolated into SQL). Non-finite metric values are stored as NULL. Timestamps are UTC-aware.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from trademl.data.control.tables import UTC, UTCDateTime

__all__ = [
    "LEADERBOARD_COLUMNS",
    "backtest_folds",
    "backtest_metadata",
    "backtest_runs",
    "create_backtest_folds",
    "create_backtest_run",
    "create_backtest_tables",
    "leaderboard",
]

_JSON = JSON().with_variant(postgresql.JSONB(), "postgresql")

# Metric columns the leaderboard can sort by -> True when higher is better (sorted descending).
LEADERBOARD_COLUMNS: dict[str, bool] = {
    "sharpe": True,
    "sortino": True,
    "cum_return": True,
    "profit_factor": True,
    "hit_rate": True,
    "sqn": True,
    "max_drawdown": False,
    "turnover": False,
    "best_sharpe_hourly": True,
    "best_cum_ret": True,
}

backtest_metadata = MetaData()

backtest_runs = Table(
    "backtest_runs",
    backtest_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pack_id", Text, nullable=True),
    Column("model_id", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("params", _JSON, nullable=False),
    Column("metrics", _JSON, nullable=False),
    Column("plots_uri", Text, nullable=True),
    Column("data_csv_uri", Text, nullable=True),
    Column("git_sha", Text, nullable=True),
    Column("tag", Text, nullable=True),
    Column("trades_total", Integer, nullable=True),
    *(Column(name, Float(precision=53), nullable=True) for name in LEADERBOARD_COLUMNS),
    Index("idx_backtest_runs_model", "model_id"),
)

backtest_folds = Table(
    "backtest_folds",
    backtest_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("backtest_runs.id", ondelete="CASCADE"), nullable=False),
    Column("fold", Integer, nullable=False),
    Column("thr_used", Float(precision=53), nullable=True),
    Column("cum_ret", Float(precision=53), nullable=True),
    Column("sharpe_hourly", Float(precision=53), nullable=True),
    Column("sharpe", Float(precision=53), nullable=True),
    Column("trades", Integer, nullable=True),
    Column("metrics", _JSON, nullable=False),
    UniqueConstraint("run_id", "fold", name="uq_backtest_folds_run_fold"),
)

_FOLD_FLOATS = ("thr_used", "cum_ret", "sharpe_hourly", "sharpe")


def create_backtest_tables(engine: Engine) -> None:
    """Create the registry tables in `engine` when they do not exist (idempotent)."""
    backtest_metadata.create_all(engine, checkfirst=True)


def _finite(value: Any) -> float | None:
    """A finite float, or None for None/NaN/inf; ValueError for non-numbers."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number, got {value!r}")
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    """`value` with numpy scalars made native and non-finite floats made None (strict JSON for JSONB)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _finite(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _utc(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got {value!r}")
    return value.astimezone(UTC)


def create_backtest_run(
    engine: Engine,
    *,
    model_id: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    started_at: dt.datetime | None,
    finished_at: dt.datetime | None,
    pack_id: str | None = None,
    plots_uri: str | None = None,
    data_csv_uri: str | None = None,
    git_sha: str | None = None,
    best_sharpe_hourly: float | None = None,
    best_cum_ret: float | None = None,
    trades_total: int | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """Insert one backtest run and return its row (with its integer `id`).

    The leaderboard columns (sharpe, sortino, cum_return, ...) are taken from `metrics` when present;
    best_sharpe_hourly / best_cum_ret are the spec's optional headline numbers.
    """
    if not model_id:
        raise ValueError("model_id is required")
    create_backtest_tables(engine)
    metric_values = dict(metrics)
    metric_values.update({"best_sharpe_hourly": best_sharpe_hourly, "best_cum_ret": best_cum_ret})
    row = {
        "pack_id": pack_id,
        "model_id": model_id,
        "started_at": _utc(started_at, "started_at"),
        "finished_at": _utc(finished_at, "finished_at"),
        "created_at": dt.datetime.now(UTC),
        "params": _jsonable(params),
        "metrics": _jsonable(metrics),
        "plots_uri": plots_uri,
        "data_csv_uri": data_csv_uri,
        "git_sha": git_sha,
        "tag": tag,
        "trades_total": None if trades_total is None else int(trades_total),
        **{name: _finite(metric_values.get(name)) for name in LEADERBOARD_COLUMNS},
    }
    with engine.begin() as conn:
        run_id = conn.execute(insert(backtest_runs).values(**row).returning(backtest_runs.c.id)).scalar_one()
    return {"id": int(run_id), **row}


def create_backtest_folds(engine: Engine, run_id: int, folds: Sequence[Mapping[str, Any]]) -> None:
    """Insert the folds of run `run_id`: each a mapping with `fold` (int) and optionally thr_used, cum_ret,
    sharpe_hourly, sharpe, trades; the whole mapping is kept as JSON `metrics`."""
    create_backtest_tables(engine)
    rows = []
    for fold in folds:  # one row per fold: a handful per run
        if "fold" not in fold:
            raise ValueError(f"every fold needs a 'fold' number, got keys {sorted(fold)}")
        rows.append(
            {
                "run_id": int(run_id),
                "fold": int(fold["fold"]),
                **{name: _finite(fold.get(name)) for name in _FOLD_FLOATS},
                "trades": None if fold.get("trades") is None else int(fold["trades"]),
                "metrics": _jsonable(fold),
            }
        )
    if not rows:
        return
    with engine.begin() as conn:
        if conn.execute(select(backtest_runs.c.id).where(backtest_runs.c.id == int(run_id))).first() is None:
            raise ValueError(f"no backtest run with id {run_id}")
        conn.execute(insert(backtest_folds), rows)


def leaderboard(
    engine: Engine,
    *,
    pack_id: str | None = None,
    model_id: str | None = None,
    limit: int = 20,
    order_by: str = "sharpe",
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Backtest runs best first by `order_by` (one of LEADERBOARD_COLUMNS; NULLs last, ties by newest id),
    optionally filtered by pack_id / model_id, paged by limit/offset. Each run is a dict of its columns."""
    if order_by not in LEADERBOARD_COLUMNS:
        raise ValueError(f"order_by must be one of {sorted(LEADERBOARD_COLUMNS)}, got {order_by!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    create_backtest_tables(engine)
    column = backtest_runs.c[order_by]
    ordering = column.desc() if LEADERBOARD_COLUMNS[order_by] else column.asc()
    query = select(backtest_runs)
    if pack_id is not None:
        query = query.where(backtest_runs.c.pack_id == pack_id)
    if model_id is not None:
        query = query.where(backtest_runs.c.model_id == model_id)
    query = query.order_by(column.is_(None), ordering, backtest_runs.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]

"""When a model is due for training: the last session its inputs reached, its cadence, and its data gate.

The train sensor (`train_if_ready`) asks `next_training` on every tick. The as-of session is the
last one every undelayed dependency has reached in the partition_status ledger (a lagged dependency,
a label, is judged `lag_sessions` earlier by the gate itself). A model already trained as of a
session fewer than `cadence_sessions` sessions before it is not due; otherwise the gate decides, and
its reason names every short table with its GREEN share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.data.control import partition_status
from trademl.models.readiness import Readiness, TrainingGate, check_readiness


@dataclass(frozen=True)
class TrainingCall:
    """The schedule's verdict: train as of `asof` when `due`, else `reason` says why not (one line)."""

    asof: dt.date | None
    due: bool
    reason: str
    readiness: Readiness | None = None


def latest_sessions(engine: Engine, tables: Iterable[str]) -> dict[str, dt.date | None]:
    """The last session with a ledger row, per table (None: the table has no row yet); one query."""
    wanted = list(tables)
    ps = partition_status
    stmt = select(ps.c.table_name, func.max(ps.c.dt)).where(ps.c.table_name.in_(wanted)).group_by(ps.c.table_name)
    with engine.connect() as conn:
        found = {name: last for name, last in conn.execute(stmt)}
    return {t: (calendar.as_date(found[t], t) if found.get(t) is not None else None) for t in wanted}


def sessions_between(earlier: dt.date, later: dt.date) -> int:
    """XNYS sessions after `earlier` up to and including `later` (0 when they are the same session)."""
    if later <= earlier:
        return 0
    return len(calendar.sessions(calendar.next_session(earlier).date(), later))


def next_training(
    engine: Engine,
    gate: TrainingGate,
    *,
    model: str,
    trained: Iterable[dt.date],
    lookback_sessions: int | None = None,
) -> TrainingCall:
    """Whether `model` should be trained now, and as of which session.

    `trained`: the as-of sessions the model was already trained on (the asset's materialized
    partitions); `lookback_sessions` overrides the gate's window (the demo and tests)."""
    current = [d.table for d in gate.dependencies if d.lag_sessions == 0] or [gate.dependencies[0].table]
    reached = latest_sessions(engine, current)
    missing = sorted(t for t, last in reached.items() if last is None)
    if missing:
        return TrainingCall(None, False, f"{model}: no ledger rows yet for {', '.join(missing)}")
    asof = min(d for d in reached.values() if d is not None)
    done = sorted(d for d in trained if d <= asof)
    if done:
        since = sessions_between(done[-1], asof)
        if since < gate.cadence_sessions:
            when = "as of this session" if since == 0 else f"{since} session(s) before"
            return TrainingCall(
                asof, False,
                f"{model} was trained as of {done[-1]} ({when} {asof}); it retrains every {gate.cadence_sessions} sessions",
            )
    readiness = check_readiness(engine, gate, asof, lookback_sessions=lookback_sessions)
    if not readiness.ready:
        return TrainingCall(asof, False, f"{model} as of {asof}: {readiness.reason()}", readiness)
    return TrainingCall(asof, True, f"{model}: every input meets its GREEN share as of {asof}", readiness)

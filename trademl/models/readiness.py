"""The data gate of a training run: every dependency GREEN enough over the training window (SSOT 4.2).

A dependency is a lake table with a minimum share of GREEN sessions (the session colour the
per-session checks show: RED if any ledger row of the session is RED, a session without rows is
RED) over the window of `lookback_sessions` XNYS sessions ending at the as-of session, shifted back
by `lag_sessions` (a label's window ends where its forward window is still observed). Training
starts only when every dependency meets its share; otherwise the gate names each table that is
short and by how much (the train sensor's skip reason, `trademl train`'s one-line refusal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.config import typed_config
from trademl.data import control, qc
from trademl.schemas import table_spec


@dataclass(frozen=True)
class Dependency:
    """One table the model reads and the minimum share of GREEN sessions it needs (0..1)."""

    table: str
    min_green: float
    lag_sessions: int = 0


@dataclass(frozen=True)
class TrainingGate:
    """configs/training/<model>.yml: the training window and the dependencies' thresholds."""

    lookback_sessions: int
    dependencies: tuple[Dependency, ...]
    cadence_sessions: int = 5  # retrain at most once per this many sessions (the train sensor's schedule)

    @classmethod
    def from_config(cls, doc: Mapping[str, object], *, name: str = "training/<model>") -> TrainingGate:
        """Validate and build the gate; errors name the file and the entry."""
        where = f"configs/{name}.yml"
        lookback = doc.get("lookback_sessions")
        if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 1:
            raise ValueError(f"{where} lookback_sessions must be an integer >= 1, got {lookback!r}")
        entries = doc.get("dependencies")
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{where} dependencies must be a non-empty list of {{table, min_green[, lag_sessions]}}")
        deps = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or set(entry) - {"table", "min_green", "lag_sessions"} or "table" not in entry:
                raise ValueError(f"{where} dependencies[{i}] must be {{table, min_green[, lag_sessions]}}, got {entry!r}")
            table = table_spec(str(entry["table"])).name  # unknown table: ValueError listing the known ones
            share = entry.get("min_green")
            if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0.0 <= float(share) <= 1.0:
                raise ValueError(f"{where} dependencies[{i}] ({table}) min_green must be a share in [0, 1], got {share!r}")
            lag = entry.get("lag_sessions", 0)
            if not isinstance(lag, int) or isinstance(lag, bool) or lag < 0:
                raise ValueError(f"{where} dependencies[{i}] ({table}) lag_sessions must be an integer >= 0, got {lag!r}")
            deps.append(Dependency(table, float(share), lag))
        if len({d.table for d in deps}) != len(deps):
            raise ValueError(f"{where} dependencies name a table twice")
        cadence = doc.get("cadence_sessions", 5)
        if not isinstance(cadence, int) or isinstance(cadence, bool) or cadence < 1:
            raise ValueError(f"{where} cadence_sessions must be an integer >= 1, got {cadence!r}")
        return cls(lookback_sessions=lookback, dependencies=tuple(deps), cadence_sessions=cadence)


def training_gate(model: str) -> TrainingGate:
    """The gate of `model` from configs/training/<model>.yml (read once per file version)."""
    return typed_config(TrainingGate, f"training/{model}")


@dataclass(frozen=True)
class Shortfall:
    """One dependency's share of GREEN sessions over its window against what it needs."""

    table: str
    first: dt.date
    last: dt.date
    sessions: int
    green: int
    min_green: float

    @property
    def green_frac(self) -> float:
        return self.green / self.sessions if self.sessions else 0.0

    @property
    def met(self) -> bool:
        return self.green_frac >= self.min_green

    def reason(self) -> str:
        """One line: which table, its GREEN share and the share it needs, over which sessions."""
        return (
            f"{self.table} is {self.green_frac:.1%} GREEN over {self.first}..{self.last} "
            f"({self.green} of {self.sessions} sessions), needs {self.min_green:.1%}"
        )


@dataclass(frozen=True)
class Readiness:
    """The gate's verdict at one as-of session: every dependency's share, met or not."""

    asof: dt.date
    checks: tuple[Shortfall, ...]

    @property
    def ready(self) -> bool:
        return all(c.met for c in self.checks)

    @property
    def short(self) -> list[Shortfall]:
        return [c for c in self.checks if not c.met]

    def reason(self) -> str:
        """Why training may not start (empty when it may): every short table, worst first."""
        return "; ".join(c.reason() for c in sorted(self.short, key=lambda c: c.green_frac - c.min_green))


def check_readiness(engine: Engine, gate: TrainingGate, asof: dt.date | str, *, lookback_sessions: int | None = None) -> Readiness:
    """Each dependency's GREEN share over its window ending at `asof` (an XNYS session, or the last
    one before it), from the partition_status ledger; `lookback_sessions` overrides the gate's
    window (the demo and tests train on short histories)."""
    day = calendar.as_date(asof, "asof")
    if not calendar.is_session(day):
        day = calendar.previous_session(day).date()
    n = lookback_sessions or gate.lookback_sessions
    checks = []
    for dep in gate.dependencies:  # one ledger read per dependency
        last = calendar.previous_session(day, dep.lag_sessions).date() if dep.lag_sessions else day
        first = calendar.previous_session(last, n - 1).date() if n > 1 else last
        sessions: Sequence[dt.date] = [d.date() for d in calendar.sessions(first, last)]
        rows = control.read_partition_status(engine, table_name=dep.table, start=first, end=last)
        summaries = qc.summaries_by_session(rows, sessions)
        green = sum(1 for d in sessions if summaries[d.isoformat()].color == "GREEN")
        checks.append(Shortfall(dep.table, first, last, len(sessions), green, dep.min_green))
    return Readiness(day, tuple(checks))

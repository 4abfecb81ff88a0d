"""Coverage of the lake by session and table (SSOT 6.5 coverage heatmaps, the daily report's data health).

A session's colour is the one the per-session checks and the training gate show
(`trademl.data.qc.summaries_by_session`): RED if any ledger row of the session is RED, AMBER if any
is AMBER, else GREEN; a session without ledger rows is RED (NO_DATA). Sessions are XNYS sessions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.data import control, qc
from trademl.schemas import table_spec


def coverage_matrix(engine: Engine, tables: Sequence[str], start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
    """Session colour of each table over the XNYS sessions in [start, end], from the partition_status ledger.

    Index `date` (datetime.date, ascending), one column per table in the order given (SSOT table names;
    dataset names are resolved to them), values "GREEN" / "AMBER" / "RED". One ledger read per table.
    """
    if isinstance(tables, str) or not tables:
        raise ValueError(f"tables must be a non-empty list of table names, got {tables!r}")
    names = [table_spec(str(t)).name for t in tables]  # unknown table: ValueError listing the known ones
    if len(set(names)) != len(names):
        raise ValueError(f"tables name a table twice: {list(tables)}")
    first, last = calendar.as_date(start, "start"), calendar.as_date(end, "end")
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    days = [d.date() for d in calendar.sessions(first, last)]
    if not days:
        raise ValueError(f"no XNYS session in {first}..{last}")
    columns: dict[str, list[str]] = {}
    for name in names:  # one ledger read per table
        rows = control.read_partition_status(engine, table_name=name, start=days[0], end=days[-1])
        summaries = qc.summaries_by_session(rows, days)
        columns[name] = [summaries[d.isoformat()].color for d in days]
    return pd.DataFrame(columns, index=pd.Index(days, name="date"), columns=names)


def coverage_summary(matrix: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per table of a `coverage_matrix`: sessions GREEN / AMBER / RED, the GREEN share (0..1) and the
    first and last session of the window (datetime.date)."""
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise ValueError("matrix must be a non-empty coverage matrix (sessions x tables)")
    unknown = set(pd.unique(matrix.to_numpy().ravel())) - set(qc.COLORS)
    if unknown:
        raise ValueError(f"coverage matrix holds {sorted(map(str, unknown))}; expected only {list(qc.COLORS)}")
    if not matrix.index.is_monotonic_increasing or not matrix.index.is_unique:
        raise ValueError("coverage matrix index must be ascending unique session dates")
    counts = {color: (matrix == color).sum() for color in ("GREEN", "AMBER", "RED")}
    first, last = matrix.index[0], matrix.index[-1]
    n = len(matrix)
    return {
        str(table): {
            "green": int(counts["GREEN"][table]),
            "amber": int(counts["AMBER"][table]),
            "red": int(counts["RED"][table]),
            "green_frac": float(counts["GREEN"][table]) / n,
            "first": first,
            "last": last,
        }
        for table in matrix.columns
    }

"""One derived table built over a session range: build, schema check, point-in-time spot check,
input and coverage verdicts, ledger-first storage.

Every curated, feature and label table is materialized the same way, so the steps live here once:

1. `build(sessions, known_through=None)` (the layer's own function) returns the rows of the target
   sessions plus its problems, the eligible symbols per session and the sessions it deliberately
   did not build (a label whose forward window is not observed yet);
2. schema: the rows must carry every column of the table with its type; otherwise nothing is
   written and every session is RED ``SCHEMA_MISMATCH``;
3. point in time: for sampled sessions s the build runs again on inputs truncated after s (labels:
   after s + lookahead, their information set) and must give the same rows at s, else RED
   ``PIT_MISMATCH`` (a leak of later data into s);
4. verdicts (`trademl.data.layer_output`): the inputs' colours over each session's window, the
   problems, coverage, empty output; `store_layer_output` writes partitions and ledger rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.data.lake import Lake
from trademl.data.layer_output import (
    CoverageThresholds,
    LayerReport,
    coverage_by_session,
    input_status,
    problems_frame,
    session_verdicts,
    store_layer_output,
)
from trademl.schemas import table_spec


@dataclass
class BuildOutput:
    """What a layer's build returns for its target sessions."""

    frame: pd.DataFrame
    problems: pd.DataFrame | None = None
    expected: Mapping[dt.date, int] | None = None  # eligible symbols per session (coverage denominator)
    not_built: Mapping[dt.date, tuple[str, str]] = field(default_factory=dict)  # session -> (qc_code, detail)
    coverage_rows: pd.DataFrame | None = None  # the rows coverage counts (e.g. eligible symbols only); default `frame`


Build = Callable[..., BuildOutput]


@dataclass(frozen=True)
class LayerBuild:
    """How one derived table is built and judged; `build(sessions, known_through=None)` is the layer's code.

    `inputs` (and `marginal_inputs`, which make a session at worst AMBER) are judged on each session's window [s - lookback, s + lookahead] (features: the
    session itself, lookback 0, since a missing bar in the history shows as low coverage; labels:
    their forward window); `lookahead` is also how far past s a label's information set reaches.
    """

    table: str
    source: str
    build: Build
    inputs: tuple[str, ...]
    marginal_inputs: tuple[str, ...] = ()
    lookback: int = 0
    lookahead: int = 0
    coverage_columns: tuple[str, ...] = ()
    thresholds: CoverageThresholds = CoverageThresholds()
    spot_checks: int = 1


def session_dates(first: str | dt.date, last: str | dt.date) -> list[dt.date]:
    """The XNYS sessions of [first, last] as dates; ValueError for a reversed or sessionless range."""
    if pd.Timestamp(last) < pd.Timestamp(first):
        raise ValueError(f"end {last} is before start {first}")
    days = [d.date() for d in calendar.sessions(first, last)]
    if not days:
        raise ValueError(f"no XNYS session in {first}..{last}")
    return days


def schema_problems(frame: pd.DataFrame, table: str, sessions: Sequence[dt.date]) -> pd.DataFrame:
    """RED SCHEMA_MISMATCH on every session when `frame` lacks a column of `table` or one does not
    convert to its type (the frame is then not written at all)."""
    spec = table_spec(table)
    missing = [c for c in spec.schema.names if c not in frame.columns]
    reason = f"missing columns {missing}" if missing else ""
    if not reason and len(frame):
        try:
            pa.Table.from_pandas(frame[spec.schema.names], preserve_index=False).cast(spec.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
            reason = f"columns do not convert to the schema: {str(exc).splitlines()[0]}"
    if not reason:
        return problems_frame()
    return problems_frame([{"date": d, "symbol": None, "status": "RED", "qc_code": "SCHEMA_MISMATCH", "detail": reason} for d in sessions])


def spot_check_sessions(frame: pd.DataFrame, n: int) -> list[dt.date]:
    """`n` built sessions spread over the range (first, last, evenly between): deterministic, so a
    rerun checks the same sessions."""
    if n <= 0 or len(frame) == 0:
        return []
    days = np.array(sorted(set(pd.to_datetime(frame["date"]).dt.date)), dtype=object)
    picks = np.unique(np.linspace(0, len(days) - 1, num=min(n, len(days))).round().astype(int))
    return [days[i] for i in picks]


def _rows_at(frame: pd.DataFrame, day: dt.date, key: Sequence[str]) -> pd.DataFrame:
    rows = frame[pd.to_datetime(frame["date"]).dt.date == day]
    return rows.sort_values(list(key), kind="stable").reset_index(drop=True)


def pit_problems(layer: LayerBuild, out: BuildOutput, grid: Sequence[dt.date]) -> pd.DataFrame:
    """RED PIT_MISMATCH for each sampled session whose rows change when the inputs stop at its
    information set (the session itself, or `lookahead` sessions later)."""
    spec = table_spec(layer.table)
    key = [c for c in spec.key if c in out.frame.columns]
    found = []
    for day in spot_check_sessions(out.frame, layer.spot_checks):  # a handful of sessions
        known = calendar.next_session(day, layer.lookahead).date() if layer.lookahead else day
        again = layer.build([day], known_through=known)
        a, b = _rows_at(out.frame, day, key), _rows_at(again.frame, day, key)
        same = len(a) == len(b) and list(a.columns) == list(b.columns) and all(
            _equal(a[c], b[c]) for c in a.columns
        )
        if not same:
            differing = [c for c in a.columns if c in b.columns and len(a) == len(b) and not _equal(a[c], b[c])]
            detail = f"rebuilt from inputs known through {known}: {len(a)} vs {len(b)} rows; columns differ: {differing[:5]}"
            found.append({"date": day, "symbol": None, "status": "RED", "qc_code": "PIT_MISMATCH", "detail": detail})
    return problems_frame(found)


def _equal(a: pd.Series, b: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
        return bool(np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12, equal_nan=True))
    left, right = a.reset_index(drop=True).astype(object), b.reset_index(drop=True).astype(object)
    return bool((left.where(left.notna(), "<NA>") == right.where(right.notna(), "<NA>")).all())


def run_layer_build(layer: LayerBuild, first: str | dt.date, last: str | dt.date, *, lake: Lake, engine: Engine) -> LayerReport:
    """Build `layer.table` for the sessions of [first, last], judge every session and store it."""
    sessions = session_dates(first, last)
    out = layer.build(sessions, known_through=None)
    frame = out.frame
    problems = [problems_frame(out.problems) if out.problems is not None else problems_frame()]
    problems.append(
        problems_frame(
            [{"date": d, "symbol": None, "status": "RED", "qc_code": code, "detail": detail} for d, (code, detail) in out.not_built.items()]
        )
    )
    schema = schema_problems(frame, layer.table, sessions)
    if len(schema):
        frame = frame.iloc[0:0]
        problems.append(schema)
    elif len(frame):
        frame = frame[table_spec(layer.table).schema.names]
        problems.append(pit_problems(layer, out, sessions))
    problems_all = pd.concat([p for p in problems if len(p)], ignore_index=True) if any(len(p) for p in problems) else problems_frame()
    grid = [d.date() for d in calendar.sessions(
        calendar.previous_session(sessions[0], layer.lookback) if layer.lookback else sessions[0],
        calendar.next_session(sessions[-1], layer.lookahead) if layer.lookahead else sessions[-1],
    )]
    judged = (*layer.inputs, *layer.marginal_inputs)
    inputs = (
        input_status(engine, judged, sessions, lookback=layer.lookback, lookahead=layer.lookahead, calendar_sessions=grid, marginal=layer.marginal_inputs)
        if judged
        else None
    )
    counts = pd.to_datetime(frame["date"]).dt.date.value_counts().to_dict() if len(frame) else {}
    counted = frame if out.coverage_rows is None or len(schema) else out.coverage_rows
    coverage = coverage_by_session(counted, layer.coverage_columns, out.expected) if layer.coverage_columns else None
    verdicts = session_verdicts(
        sessions, rows_out=counts, inputs=inputs, problems=problems_all, coverage=coverage, thresholds=layer.thresholds
    )
    return store_layer_output(layer.table, frame, verdicts, lake=lake, engine=engine, source=layer.source, problems=problems_all)

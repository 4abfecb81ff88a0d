"""Ingest one dataset over a session range: fetch -> validate -> write the lake -> QC -> ledger.

This is the whole body of every raw and reference asset, kept here so it is testable without
Dagster. A malformed payload for one session is rejected (that session goes RED with the
vendor's qc_code) while the other sessions are stored; nothing already stored is ever changed
by a rejected payload. Vendor outages become RED rows with ``VENDOR_OUTAGE``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from trademl import calendar, control, qc
from trademl.config import load_config
from trademl.qc import summaries_by_session
from trademl.connectors.base import Connector, FetchRequest, VendorError
from trademl.lake import Lake
from trademl.schemas import SchemaViolation, TableSpec, conform, table_spec

log = logging.getLogger(__name__)

# Tables whose expected symbols are not taken from reference/universe.
_SELF_DESCRIBING = {
    "reference/universe",
    "reference/calendars",
    "reference/corp_actions",
    "reference/delistings",
    "reference/index_membership",
    "raw/macros_fred",
}

# qc_codes of a payload that arrived but was unusable; unlike an outage they mark the whole session RED.
PAYLOAD_FAULT_CODES = frozenset({"MALFORMED_PAYLOAD", "SCHEMA_VIOLATION", "CHECKSUM_MISMATCH"})


@dataclass
class IngestReport:
    """What one ingest did: files changed, sessions rejected, per-session QC summaries."""

    dataset: str
    table: str
    source_name: str
    sessions: list[dt.date]
    rows_fetched: int = 0
    partitions_written: int = 0
    partitions_unchanged: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # session -> reason
    failed_sessions: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, qc.PartitionSummary] = field(default_factory=dict)

    @property
    def colour_counts(self) -> dict[str, int]:
        counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
        for s in self.summaries.values():
            counts[s.color] += 1
        return counts


def expected_symbols_by_session(
    lake: Lake,
    table: str,
    sessions: Sequence[dt.date],
    symbols: Sequence[str] | None,
    *,
    vendor_universe: Callable[[dt.date], list[str]] | None = None,
) -> dict[dt.date, list[str] | None]:
    """Symbols each session must contain: reference/universe's listed names (or the requested subset).

    ``None`` means the table is not symbol-complete by construction (reference tables, macro), so
    QC judges presence only. A session the stored universe does not cover falls back to the
    vendor's own listing (`vendor_universe`), then to the requested symbols, then to presence only.
    """
    if table in _SELF_DESCRIBING:
        return {s: (list(symbols) if symbols else None) for s in sessions}
    if not sessions:
        return {}
    uni = lake.read("reference/universe", start=min(sessions), end=max(sessions), columns=["date", "symbol", "is_listed"])
    frame = uni.to_pandas()
    covered = set(pd.to_datetime(frame["date"]).dt.date) if len(frame) else set()
    frame = frame[frame["is_listed"].astype(bool)] if len(frame) else frame
    if symbols and len(frame):
        frame = frame[frame["symbol"].isin(set(symbols))]
    grouped: dict[dt.date, list[str]] = {}
    if len(frame):
        days = pd.to_datetime(frame["date"]).dt.date
        grouped = {d: sorted(g.tolist()) for d, g in frame["symbol"].groupby(days)}
    out: dict[dt.date, list[str] | None] = {}
    for s in sessions:
        if s in covered:
            out[s] = grouped.get(s, [])
        else:
            out[s] = _fallback_symbols(s, symbols, vendor_universe)
    return out


def _fallback_symbols(
    session: dt.date, symbols: Sequence[str] | None, vendor_universe: Callable[[dt.date], list[str]] | None
) -> list[str] | None:
    listed: list[str] | None = None
    if vendor_universe is not None:
        try:
            listed = sorted(vendor_universe(session))
        except VendorError:
            listed = None
    if listed is not None and symbols:
        return sorted(set(listed) & set(symbols))
    if listed is not None:
        return listed
    return list(symbols) if symbols else None


def ingest(
    dataset: str,
    start: dt.date | str,
    end: dt.date | str,
    *,
    connector: Connector,
    lake: Lake,
    engine: Engine,
    symbols: Sequence[str] | None = None,
    series: Sequence[str] | None = None,
) -> IngestReport:
    """Fetch `dataset` for sessions [start, end] from `connector`, store it and record its QC.

    Writes merge into existing partitions (new rows replace rows with the same natural key, a
    changed payload becomes a new version, an identical payload changes nothing).
    """
    spec = table_spec(dataset)
    sessions = [d.date() for d in calendar.sessions(start, end)]
    report = IngestReport(dataset=dataset, table=spec.name, source_name=connector.source_name, sessions=sessions)
    if not sessions:
        return report
    chunk = chunk_sessions(dataset)
    frames: list[pd.DataFrame] = []
    # The ledger upsert of one chunk runs on a single background thread while the next chunk is
    # fetched and written (SQLite and Postgres drivers release the GIL while executing); upserts
    # stay in chunk order and every one has finished before ingest returns.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-upsert") as ledger:
        upserts: list[Future] = []
        for i in range(0, len(sessions), chunk):
            part = sessions[i : i + chunk]
            written = _WrittenCounts()
            _ingest_chunk(dataset, part, spec, connector, lake, symbols, series, report, written)
            status_rows = evaluate_sessions(
                lake,
                spec.name,
                part,
                source_name=connector.source_name,
                symbols=symbols,
                rejected=report.rejected,
                failed=report.failed_sessions,
                vendor_universe=connector.universe_symbols,
                written_counts=written.frame(),
            )
            frames.append(status_rows)
            for done in (f for f in upserts if f.done()):
                done.result()  # surface a failed upsert now rather than after the whole range
            upserts.append(ledger.submit(control.upsert_partition_status, engine, status_rows))
            if len(sessions) > chunk:
                log.info(
                    "ingest progress",
                    extra={"dataset": dataset, "sessions_done": min(i + chunk, len(sessions)), "sessions": len(sessions)},
                )
        for f in upserts:
            f.result()
    frames = [f for f in frames if len(f)]
    status_rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    report.summaries = summaries_by_session(status_rows, sessions)
    return report


def chunk_sessions(dataset: str) -> int:
    """Sessions per vendor request for `dataset` (configs/ingest.yml), so memory stays bounded."""
    cfg = load_config("ingest")["chunk_sessions"]
    n = int(cfg.get(dataset, cfg["default"]))
    if n < 1:
        raise ValueError(f"configs/ingest.yml chunk_sessions for {dataset!r} must be >= 1, got {n}")
    return n


@dataclass
class _WrittenCounts:
    """Stored rows per (dt, symbol) of the partitions this run wrote, so QC need not re-read them."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, counts: pd.DataFrame) -> None:
        if len(counts):
            self.parts.append(counts)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"dt": [], "symbol": [], "rows": []})
        return pd.concat(self.parts, ignore_index=True)


def _ingest_chunk(
    dataset: str,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    symbols: Sequence[str] | None,
    series: Sequence[str] | None,
    report: IngestReport,
    written: _WrittenCounts | None = None,
) -> None:
    """Fetch one chunk of sessions and merge each session's rows into the lake.

    Fast path: the chunk is conformed once as a whole and split by session in Arrow. When that
    whole-chunk conform fails, each session is conformed and written on its own, so only the
    offending sessions are rejected.
    """
    request = FetchRequest(
        dataset=dataset,
        start=sessions[0],
        end=sessions[-1],
        symbols=tuple(symbols) if symbols else None,
        series=tuple(series) if series else None,
    )
    frame: pd.DataFrame | pa.Table = pd.DataFrame(columns=spec.schema.names)
    try:
        result = connector.fetch(request)
        frame = result.frame
        report.failed_sessions.update(result.failed_sessions)
    except VendorError as exc:
        log.warning("vendor request failed", extra={"dataset": dataset, "vendor": connector.source_name, "error": str(exc)})
        report.failed_sessions.update({s.isoformat(): f"{exc.qc_code}: {exc}" for s in sessions})
    n_rows = 0 if frame is None else (frame.num_rows if isinstance(frame, pa.Table) else len(frame))
    report.rows_fetched += int(n_rows)
    if n_rows == 0:
        return
    try:
        table = conform(spec.name, frame, vendor=connector.source_name)
    except SchemaViolation:
        _write_sessions_one_by_one(frame, sessions, spec, connector, lake, report)
        return
    _write_conformed_chunk(table, sessions, spec, connector, lake, report, written)


def _write_conformed_chunk(
    table: pa.Table,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    report: IngestReport,
    written: _WrittenCounts | None,
) -> None:
    """Write a conformed chunk's rows of `sessions` (rows of other dates are ignored), one version per session."""
    dates = table.column(spec.partition_column)
    wanted = pc.is_in(dates, value_set=pa.array(sessions, pa.date32()))
    if not pc.all(wanted).as_py():
        table = table.filter(wanted)
    counts = qc.stored_counts(table, spec.name)
    incoming = counts.groupby("dt")["rows"].sum()
    results = lake.write_partitions(spec.name, table, vendor=connector.source_name, mode="merge", conformed=True)
    stored_as_sent = []
    for res in results:
        if res.changed:
            report.partitions_written += 1
        else:
            report.partitions_unchanged += 1
        # The stored version holds exactly the incoming rows unless a merge kept older rows beside them.
        if res.row_count == int(incoming.get(res.partition, -1)):
            stored_as_sent.append(res.partition)
    if written is not None:
        written.add(counts[counts["dt"].isin(set(stored_as_sent))])


def _write_sessions_one_by_one(
    frame: pd.DataFrame | pa.Table,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    report: IngestReport,
) -> None:
    """Conform and write each session separately: a schema violation rejects only its own session."""
    by_session = _split_by_session(frame, spec.partition_column, spec.name, connector.source_name)
    for session in sessions:
        rows = by_session.get(session)
        if rows is None or len(rows) == 0:
            continue
        try:
            res = lake.write_partition(spec.name, session, rows, vendor=connector.source_name, mode="merge")
        except SchemaViolation as exc:
            report.rejected[session.isoformat()] = f"{exc.qc_code}: {exc}"
            log.error("payload rejected", extra={"table": spec.name, "session": session.isoformat(), "error": str(exc)})
            continue
        if res.changed:
            report.partitions_written += 1
        else:
            report.partitions_unchanged += 1


def evaluate_sessions(
    lake: Lake,
    table: str,
    sessions: Sequence[dt.date],
    *,
    source_name: str,
    symbols: Sequence[str] | None = None,
    rejected: dict[str, str] | None = None,
    failed: dict[str, str] | None = None,
    vendor_universe: Callable[[dt.date], list[str]] | None = None,
    written_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """QC status rows for stored partitions of `table` over `sessions` (one vectorised evaluation).

    A rejected payload marks the session's expected symbols RED with its qc_code; a session the
    vendor failed to serve marks the symbols it lacks RED with the vendor's code (VENDOR_OUTAGE…).
    `written_counts` (dt, symbol, rows) gives the stored row counts of partitions the caller just
    wrote; every other session is read from the lake. Rows come grouped by session in `sessions` order.
    """
    rejected = rejected or {}
    failed = failed or {}
    if not sessions:
        return pd.DataFrame()
    spec = table_spec(table)
    universe_expected = spec.name in qc.qc_rules().universe_expected_tables
    expected = expected_symbols_by_session(lake, table, sessions, symbols, vendor_universe=vendor_universe)
    known = written_counts if written_counts is not None else pd.DataFrame({"dt": [], "symbol": [], "rows": []})
    known_days = set(known["dt"]) if len(known) else set()
    counts_parts = [known] if len(known) else []
    present_by_day: dict[dt.date, set] = {}
    if len(known) and spec.symbol_column == "symbol":
        present_by_day = {d: set(g) for d, g in known.loc[known["rows"] > 0, "symbol"].groupby(known["dt"])}
    exp_days: list[list[dt.date]] = []
    exp_syms: list[list[str]] = []
    forced_rows: list[tuple[dt.date, str | None, str]] = []
    for session in sessions:
        key = session.isoformat()
        stored: pa.Table | None = None
        if session not in known_days:
            stored = lake.read_partition(table, session)
            counts_parts.append(qc.stored_counts(stored, table, session=session))
        exp = expected[session]
        codes: dict[str | None, str] = {}
        if key in rejected:
            codes = dict.fromkeys(exp or [None], _reason_code(rejected[key], "SCHEMA_VIOLATION"))
        elif key in failed:
            code = _reason_code(failed[key], "VENDOR_OUTAGE")
            if code in PAYLOAD_FAULT_CODES:  # a bad payload condemns the session even over stored rows
                codes = dict.fromkeys(exp or [None], code)
            else:  # the vendor could not serve: only what is still missing is RED
                if stored is None and spec.symbol_column == "symbol":
                    present = present_by_day.get(session, set())
                else:
                    stored = lake.read_partition(table, session) if stored is None else stored
                    present = set(stored.column("symbol").to_pylist()) if "symbol" in stored.column_names else set()
                missing = [s for s in exp if s not in present] if exp is not None else ([None] if _stored_rows(stored, known, session) == 0 else [])
                codes = dict.fromkeys(missing, code)
        if codes:
            forced_rows.extend((session, sym if universe_expected else None, str(c)) for sym, c in codes.items())
        if exp and universe_expected:
            exp_days.append([session] * len(exp))
            exp_syms.append([str(s) for s in exp])
    counts = pd.concat(counts_parts, ignore_index=True) if counts_parts else None
    expected_pairs = None
    if exp_syms:
        expected_pairs = pd.DataFrame(
            {"dt": [d for part in exp_days for d in part], "symbol": [s for part in exp_syms for s in part]}
        )
    forced = pd.DataFrame(forced_rows, columns=["dt", "symbol", "qc_code"]) if forced_rows else None
    rows = qc.evaluate_partitions(
        table, sessions, counts, source_name=source_name, expected=expected_pairs, present=None, forced=forced
    )
    order = {pd.Timestamp(s).date(): i for i, s in enumerate(sessions)}
    rank = rows["dt"].map(order).to_numpy()
    return rows.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _stored_rows(stored: pa.Table | None, known: pd.DataFrame, session: dt.date) -> int:
    """Rows stored for `session`: from the partition read, else from the counts of what was just written."""
    if stored is not None:
        return stored.num_rows
    return int(known.loc[known["dt"] == session, "rows"].sum())


def _reason_code(reason: str, default: str) -> str:
    """The qc_code a reason string starts with ("MALFORMED_PAYLOAD: ..."), else `default`."""
    head = reason.split(":", 1)[0].strip()
    return head if head.isupper() and " " not in head and head.replace("_", "").isalpha() else default


def _split_by_session(
    frame: pd.DataFrame | pa.Table, column: str, table: str, vendor: str
) -> dict[dt.date, pd.DataFrame]:
    """Group a fetched frame by its partition column (one vectorised groupby)."""
    if isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    if frame is None or len(frame) == 0:
        return {}
    if column not in frame.columns:
        raise SchemaViolation(f"payload has no partition column {column!r}", table=table, vendor=vendor)
    keys = pd.to_datetime(frame[column]).dt.date
    return {k: g for k, g in frame.groupby(keys, sort=True)}

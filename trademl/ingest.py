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
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from trademl import calendar, control, qc
from trademl.config import load_config
from trademl.connectors.base import Connector, FetchRequest, VendorError
from trademl.lake import Lake
from trademl.schemas import SchemaViolation, TableSpec, table_spec

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
    for i in range(0, len(sessions), chunk):
        _ingest_chunk(dataset, sessions[i : i + chunk], spec, connector, lake, symbols, series, report)
        if len(sessions) > chunk:
            log.info(
                "ingest progress",
                extra={"dataset": dataset, "sessions_done": min(i + chunk, len(sessions)), "sessions": len(sessions)},
            )

    status_rows = evaluate_sessions(
        lake,
        spec.name,
        sessions,
        source_name=connector.source_name,
        symbols=symbols,
        rejected=report.rejected,
        failed=report.failed_sessions,
        vendor_universe=connector.universe_symbols,
    )
    control.upsert_partition_status(engine, status_rows)
    report.summaries = summaries_by_session(status_rows, sessions)
    return report


def chunk_sessions(dataset: str) -> int:
    """Sessions per vendor request for `dataset` (configs/ingest.yml), so memory stays bounded."""
    cfg = load_config("ingest")["chunk_sessions"]
    n = int(cfg.get(dataset, cfg["default"]))
    if n < 1:
        raise ValueError(f"configs/ingest.yml chunk_sessions for {dataset!r} must be >= 1, got {n}")
    return n


def _ingest_chunk(
    dataset: str,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    symbols: Sequence[str] | None,
    series: Sequence[str] | None,
    report: IngestReport,
) -> None:
    """Fetch one chunk of sessions and merge each session's rows into the lake."""
    request = FetchRequest(
        dataset=dataset,
        start=sessions[0],
        end=sessions[-1],
        symbols=tuple(symbols) if symbols else None,
        series=tuple(series) if series else None,
    )
    frame = pd.DataFrame(columns=spec.schema.names)
    try:
        result = connector.fetch(request)
        frame = result.frame
        report.failed_sessions.update(result.failed_sessions)
    except VendorError as exc:
        log.warning("vendor request failed", extra={"dataset": dataset, "vendor": connector.source_name, "error": str(exc)})
        report.failed_sessions.update({s.isoformat(): f"{exc.qc_code}: {exc}" for s in sessions})
    report.rows_fetched += int(len(frame))
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
) -> pd.DataFrame:
    """QC status rows for stored partitions of `table` over `sessions` (reads what the lake holds).

    A rejected payload marks the session's expected symbols RED with its qc_code; a session the
    vendor failed to serve marks the symbols it lacks RED with the vendor's code (VENDOR_OUTAGE…).
    """
    rejected = rejected or {}
    failed = failed or {}
    expected = expected_symbols_by_session(lake, table, sessions, symbols, vendor_universe=vendor_universe)
    frames = []
    for session in sessions:
        key = session.isoformat()
        stored = lake.read_partition(table, session)
        exp = expected[session]
        codes: dict[str | None, str] = {}
        if key in rejected:
            codes = dict.fromkeys(exp or [None], _reason_code(rejected[key], "SCHEMA_VIOLATION"))
        elif key in failed:
            code = _reason_code(failed[key], "VENDOR_OUTAGE")
            if code in PAYLOAD_FAULT_CODES:  # a bad payload condemns the session even over stored rows
                codes = dict.fromkeys(exp or [None], code)
            else:  # the vendor could not serve: only what is still missing is RED
                present = set(stored.column("symbol").to_pylist()) if "symbol" in stored.column_names else set()
                missing = [s for s in exp if s not in present] if exp is not None else ([None] if stored.num_rows == 0 else [])
                codes = dict.fromkeys(missing, code)
        frames.append(qc.evaluate_partition(table, session, stored, exp, source_name=source_name, rejected=codes or None))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _reason_code(reason: str, default: str) -> str:
    """The qc_code a reason string starts with ("MALFORMED_PAYLOAD: ..."), else `default`."""
    head = reason.split(":", 1)[0].strip()
    return head if head.isupper() and " " not in head and head.replace("_", "").isalpha() else default


def summaries_by_session(status_rows: pd.DataFrame, sessions: Sequence[dt.date]) -> dict[str, qc.PartitionSummary]:
    """The check-level summary (colour, green_frac, row counts, qc codes) for each session."""
    out: dict[str, qc.PartitionSummary] = {}
    if status_rows.empty:
        return {s.isoformat(): qc.summarize(status_rows) for s in sessions}
    dts = pd.to_datetime(status_rows["dt"]).dt.date
    for session in sessions:
        out[session.isoformat()] = qc.summarize(status_rows[dts == session])
    return out


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

"""One chunk of sessions: fetch it from the connector, conform it to the table's schema, stage it.

Fast path: the chunk is conformed once as a whole and split by session in Arrow. When that
whole-chunk conform fails, each session is conformed and staged on its own, so only the offending
sessions are rejected (RED with the vendor's qc_code) while the others are stored; nothing already
stored is ever changed by a rejected payload. Vendor outages become failed sessions (RED
``VENDOR_OUTAGE`` rows); a ``SourceConfigError`` (a source set up wrongly) is logged and raised.
Rows of dates outside the chunk are not stored and are counted in the report.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl.data import qc
from trademl.data.connectors.base import Connector, FetchRequest, SourceConfigError, VendorError
from trademl.data.ingest.ledger import StagedBatch
from trademl.data.ingest.report import IngestReport
from trademl.data.lake import Lake, RevisionGuard
from trademl.schemas import SchemaViolation, TableSpec, conform

log = logging.getLogger("trademl.data.ingest")


def fetch_and_stage_chunk(
    dataset: str,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    symbols: Sequence[str] | None,
    series: Sequence[str] | None,
    report: IngestReport,
    batch: StagedBatch,
    guard: RevisionGuard | None = None,
) -> None:
    """Fetch one chunk of sessions and stage each session's rows (merged into the lake) in `batch`.

    Fast path: the chunk is conformed once as a whole and split by session in Arrow. When that
    whole-chunk conform fails, each session is conformed and staged on its own, so only the
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
        report.record_not_stored(result.dropped)
    except SourceConfigError as exc:
        log.error(f"ingest of {dataset} failed: {exc}", extra={"dataset": dataset, "vendor": connector.source_name})
        raise
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
        _stage_sessions_one_by_one(frame, sessions, spec, connector, lake, report, batch, guard)
        return
    _stage_conformed_chunk(table, sessions, spec, connector, lake, report, batch, guard)


def _stage_conformed_chunk(
    table: pa.Table,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    report: IngestReport,
    batch: StagedBatch,
    guard: RevisionGuard | None,
) -> None:
    """Stage a conformed chunk's rows of `sessions`, one version per session; rows of other dates
    are not stored and are counted (non_session / outside_window) in the report."""
    dates = table.column(spec.partition_column)
    wanted = pc.is_in(dates, value_set=pa.array(sessions, pa.date32()))
    if not pc.all(wanted).as_py():
        others = pc.value_counts(dates.filter(pc.invert(wanted)).combine_chunks())
        report.record_not_stored(
            {"outside_window": {str(v.as_py()): int(c.as_py()) for v, c in zip(others.field("values"), others.field("counts"))}}
        )
        table = table.filter(wanted)
    counts = qc.stored_counts(table, spec.name)
    incoming = counts.groupby("dt")["rows"].sum()
    batch.precompute(counts)
    for staged in lake.stage_partitions(spec.name, table, vendor=connector.source_name, mode="merge", conformed=True, guard=guard):
        res = staged.result
        # The stored version holds exactly the incoming rows unless a merge kept older rows beside them.
        batch.add(staged, as_sent=res.row_count == int(incoming.get(res.partition, -1)))


def _stage_sessions_one_by_one(
    frame: pd.DataFrame | pa.Table,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    report: IngestReport,
    batch: StagedBatch,
    guard: RevisionGuard | None,
) -> None:
    """Conform and stage each session separately: a schema violation rejects only its own session."""
    by_session = _split_by_session(frame, spec.partition_column, spec.name, connector.source_name)
    requested = set(sessions)
    others = {d.isoformat(): len(g) for d, g in by_session.items() if d not in requested}
    if others:
        report.record_not_stored({"outside_window": others})
    for session in sessions:
        rows = by_session.get(session)
        if rows is None or len(rows) == 0:
            continue
        try:
            staged = lake.stage_partition(spec.name, session, rows, vendor=connector.source_name, mode="merge", guard=guard)
        except SchemaViolation as exc:
            report.rejected[session.isoformat()] = f"{exc.qc_code}: {exc}"
            log.error("payload rejected", extra={"table": spec.name, "session": session.isoformat(), "error": str(exc)})
            continue
        batch.add(staged, None)


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

"""Ingest one dataset over a session range: fetch -> validate -> stage in the lake -> QC -> ledger -> commit.

This is the whole body of every raw and reference asset, kept here so it is testable without
Dagster. A malformed payload for one session is rejected (that session goes RED with the
vendor's qc_code) while the other sessions are stored; nothing already stored is ever changed
by a rejected payload. Vendor outages become RED rows with ``VENDOR_OUTAGE``. A source that is
set up wrongly (``SourceConfigError``: a files mapping whose file is missing, naive timestamps
without a time zone) fails the ingest with its message.

Ledger before visibility: partitions are staged (written and verified, not yet visible) in
batches of ``configs/ingest.yml ledger_batch_partitions``; a batch's ledger rows are upserted and
only then are its partitions committed (renamed into place), on one background thread while the
next batch is staged. So a process killed at any moment leaves no visible partition without its
ledger rows (at worst a batch's rows describe versions that never appeared; the next write or
audit corrects them).

Large revisions: a new version that drops or changes more than ``large_revision_frac`` of the
rows of a partition the ledger holds GREEN (or has not judged) is still stored, but flagged for
review in its manifest and recorded AMBER with qc_code ``LARGE_REVISION`` and the share in the
ledger's ``detail``; the previous version stays readable (`Lake.read(..., version=)`) until the
revision is accepted (`accept_revision`, ``trademl lake accept``) or replaced.

Rows a vendor sent that are not stored (bars outside regular hours, rows on non-sessions, rows
dated outside the requested window) are counted per date in ``IngestReport.not_stored`` and
logged in one line; nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from trademl import calendar

from trademl.data import control, qc
from trademl.config import load_config
from trademl.data.qc import summaries_by_session
from trademl.data.connectors.base import PAYLOAD_FAULT_CODES, Connector, FetchRequest, SourceConfigError, VendorError
from trademl.data.lake import Lake, RevisionGuard, StagedWrite
from trademl.data.lake.market import claim_market
from trademl.schemas import SchemaViolation, TableSpec, conform, self_describing_tables, table_spec

log = logging.getLogger(__name__)

# Tables whose expected symbols are not taken from reference/universe (TableSpec.self_describing).
_SELF_DESCRIBING = self_describing_tables()



@dataclass
class IngestReport:
    """What one ingest did: files changed, sessions rejected, per-session QC summaries.

    not_stored: rows the vendor sent that are not in the lake, reason -> {"YYYY-MM-DD": rows}
    (reasons: outside_regular_hours, non_session, outside_window). large_revisions: session ->
    the review of its latest version (revised_frac, revised_rows, previous_rows, version,
    previous_version) for every session recorded AMBER LARGE_REVISION by this run.
    """

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
    not_stored: dict[str, dict[str, int]] = field(default_factory=dict)
    large_revisions: dict[str, dict] = field(default_factory=dict)

    @property
    def colour_counts(self) -> dict[str, int]:
        counts = {"GREEN": 0, "AMBER": 0, "RED": 0}
        for s in self.summaries.values():
            counts[s.color] += 1
        return counts

    def record_not_stored(self, dropped: Mapping[str, Mapping[str, int]]) -> None:
        """Add a fetch's left-out rows, judged against the whole ingest window.

        A row dated outside one chunk's request but inside the ingest window is not lost: a
        session of another chunk is stored by that chunk, a non-session is counted as such.
        Counts merge by maximum: chunks request disjoint dates, so the same date counted twice is
        the same rows seen twice (a file read for each chunk).
        """
        if not dropped or not self.sessions:
            return
        lo, hi = self.sessions[0], self.sessions[-1]
        in_window = {d.isoformat() for d in self.sessions}
        for reason, by_date in dropped.items():
            for day, n in by_date.items():
                target = reason
                if reason == "outside_window" and lo.isoformat() <= day <= hi.isoformat():
                    if day in in_window:
                        continue  # another chunk's session: fetched and stored there
                    target = "non_session"
                bucket = self.not_stored.setdefault(target, {})
                bucket[day] = max(bucket.get(day, 0), int(n))

    def not_stored_summary(self) -> dict[str, dict]:
        """`not_stored` for metadata and logs: per-date counts for the reasons bounded by the window
        (outside_regular_hours, non_session) and totals with the date range for outside_window."""
        out: dict[str, dict] = {}
        for reason, by_date in sorted(self.not_stored.items()):
            if not by_date:
                continue
            total = {"rows": int(sum(by_date.values())), "dates": len(by_date), "first": min(by_date), "last": max(by_date)}
            out[reason] = total if reason == "outside_window" else {**total, "by_date": dict(sorted(by_date.items()))}
        return out


@dataclass(frozen=True)
class IngestSettings:
    """configs/ingest.yml for one dataset: request chunking, ledger batching, the revision guard."""

    chunk_sessions: int
    ledger_batch_partitions: int
    large_revision_frac: float | None

    @classmethod
    def for_dataset(cls, dataset: str) -> IngestSettings:
        """Validated settings of `dataset` (a per-dataset value overrides ``default``)."""
        cfg = load_config("ingest")

        def pick(key: str) -> object:
            if key not in cfg:
                raise ValueError(f"configs/ingest.yml has no {key!r} (see the project's configs/ingest.yml)")
            value = cfg[key]
            if isinstance(value, Mapping):
                return value.get(dataset, value.get("default"))
            return value

        chunk = int(pick("chunk_sessions"))
        batch = int(pick("ledger_batch_partitions"))
        frac = pick("large_revision_frac")
        if chunk < 1:
            raise ValueError(f"configs/ingest.yml chunk_sessions for {dataset!r} must be >= 1, got {chunk}")
        if batch < 1:
            raise ValueError(f"configs/ingest.yml ledger_batch_partitions for {dataset!r} must be >= 1, got {batch}")
        if frac is not None and not 0.0 <= float(frac) <= 1.0:
            raise ValueError(f"configs/ingest.yml large_revision_frac for {dataset!r} must lie in [0, 1] or be null, got {frac}")
        return cls(chunk, batch, None if frac is None else float(frac))


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
    changed payload becomes a new version, an identical payload changes nothing). Every batch of
    partitions becomes visible only after its ledger rows are written (module docstring).
    Raises SourceConfigError (after logging it) when the source is set up wrongly, and
    MarketMismatchError when the connector's market is not the data root's (lake/market.py).
    """
    spec = table_spec(dataset)
    sessions = [d.date() for d in calendar.sessions(start, end)]
    report = IngestReport(dataset=dataset, table=spec.name, source_name=connector.source_name, sessions=sessions)
    if not sessions:
        return report
    claim_market(lake, connector)  # one lake, one market: refuses synthetic into a real lake and vice versa
    cfg = IngestSettings.for_dataset(dataset)
    chunk = cfg.chunk_sessions
    guard = None
    if cfg.large_revision_frac is not None:
        guard = RevisionGuard(cfg.large_revision_frac, applies=lambda day: _ledger_green_or_unjudged(engine, spec.name, day))
    frames: list[pd.DataFrame] = []
    # Ledger upserts (and the commits they guard) run on a single background thread while the next
    # batch is fetched and staged (SQLite and Postgres drivers release the GIL while executing); they
    # stay in order and every one has finished before ingest returns.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-upsert") as pool:
        ledger = _Ledger(engine, pool)
        try:
            for i in range(0, len(sessions), chunk):
                part = sessions[i : i + chunk]
                batch = _Batch(lake, spec, part, connector, symbols, report, ledger, cfg.ledger_batch_partitions, frames)
                try:
                    _ingest_chunk(dataset, part, spec, connector, lake, symbols, series, report, batch, guard)
                    batch.finish()
                finally:
                    batch.abort_pending()
                if len(sessions) > chunk:
                    log.info(
                        "ingest progress",
                        extra={"dataset": dataset, "sessions_done": min(i + chunk, len(sessions)), "sessions": len(sessions)},
                    )
        finally:
            ledger.wait()
    frames = [f for f in frames if len(f)]
    status_rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    report.summaries = summaries_by_session(status_rows, sessions)
    _log_outcome(report)
    return report


def chunk_sessions(dataset: str) -> int:
    """Sessions per vendor request for `dataset` (configs/ingest.yml), so memory stays bounded."""
    return IngestSettings.for_dataset(dataset).chunk_sessions


def accept_revision(lake: Lake, engine: Engine, table: str, partition: dt.date | str) -> qc.PartitionSummary:
    """Accept the flagged latest version of a partition (a LARGE_REVISION) and re-record its QC.

    The review gets ``accepted_at`` in the manifest (`Lake.accept_version`), the session is
    re-evaluated from what is stored and its ledger rows are upserted; returns the new summary.
    """
    spec = table_spec(table)
    day = calendar.as_date(partition, "partition")
    info = lake.accept_version(spec.name, day)
    led = control.read_partition_status(engine, table_name=spec.name, start=day, end=day)
    source = str(led["source_name"].iloc[0]) if len(led) else (info.vendor or "unknown")
    rows = evaluate_sessions(lake, spec.name, [day], source_name=source)
    control.upsert_partition_status(engine, rows)
    log.info("revision accepted", extra={"table": spec.name, "session": day.isoformat(), "version": info.version})
    return summaries_by_session(rows, [day])[day.isoformat()]


def _ledger_green_or_unjudged(engine: Engine, table: str, day: dt.date) -> bool:
    """True when the ledger holds `day` of `table` GREEN, or holds nothing for it (never judged bad)."""
    rows = control.read_partition_status(engine, table_name=table, start=day, end=day)
    return bool(len(rows) == 0 or (rows["status"] == "GREEN").all())


def _log_outcome(report: IngestReport) -> None:
    """One line for the rows not stored and one per large revision (WARNING: the CLI shows them)."""
    summary = report.not_stored_summary()
    if summary:
        parts = []
        for reason, label in (
            ("outside_regular_hours", "bars outside regular hours"),
            ("non_session", "rows on non-sessions"),
            ("outside_window", "rows outside the requested window"),
        ):
            if reason in summary:
                parts.append(f"{summary[reason]['rows']} {label} ({summary[reason]['dates']} dates)")
        level = logging.WARNING if set(summary) - {"outside_window"} else logging.INFO
        log.log(
            level,
            f"{report.table}: not stored: " + ", ".join(parts),
            extra={"dataset": report.dataset, "table": report.table, "not_stored": json.dumps(summary, sort_keys=True)},
        )
    for session, review in sorted(report.large_revisions.items()):
        log.warning(
            f"{report.table} {session}: version {review.get('version')} revised {review['revised_rows']} of "
            f"{review['previous_rows']} stored rows ({review['revised_frac']:.1%}); recorded AMBER LARGE_REVISION, "
            f"version {review['previous_version']} stays readable",
            extra={"dataset": report.dataset, "table": report.table, "session": session, "review": json.dumps(review, sort_keys=True)},
        )


class _Ledger:
    """The background ledger writer: upserts a batch's status rows, then commits its staged partitions."""

    def __init__(self, engine: Engine, pool: ThreadPoolExecutor) -> None:
        self.engine, self.pool = engine, pool
        self.jobs: list[Future] = []

    def submit(self, rows: pd.DataFrame, staged: list[StagedWrite]) -> None:
        """Queue `rows` and the commits of `staged` (aborted here if an earlier job failed)."""
        try:
            for done in [f for f in self.jobs if f.done()]:
                done.result()  # surface a failed upsert now rather than after the whole range
                self.jobs.remove(done)
            self.jobs.append(self.pool.submit(_record_then_commit, self.engine, rows, staged))
        except BaseException:
            for s in staged:
                s.abort()
            raise

    def wait(self) -> None:
        for job in self.jobs:
            job.result()
        self.jobs = []


def _record_then_commit(engine: Engine, rows: pd.DataFrame, staged: list[StagedWrite]) -> None:
    """Upsert `rows`, then make `staged` visible; on any failure the uncommitted ones are aborted."""
    try:
        if len(rows):
            control.upsert_partition_status(engine, rows)
        for s in staged:
            s.commit()
    finally:
        for s in staged:
            s.abort()  # no-op for the committed ones


class _Batch:
    """Staged partitions of one chunk waiting for their ledger rows, flushed every `size` partitions.

    Holds what QC needs so no flush reads the lake for a staged partition (its new version is not
    visible yet): the expected symbols of the chunk (read once), the chunk's QC rows evaluated
    once from the incoming counts (`precompute`; a partition stored exactly as sent takes its rows
    from there) and the stored counts of every other staged version (evaluated at its flush).
    """

    def __init__(
        self,
        lake: Lake,
        spec: TableSpec,
        sessions: list[dt.date],
        connector: Connector,
        symbols: Sequence[str] | None,
        report: IngestReport,
        ledger: _Ledger,
        size: int,
        frames: list[pd.DataFrame],
    ) -> None:
        self.lake, self.spec, self.sessions, self.connector = lake, spec, sessions, connector
        self.symbols, self.report, self.ledger, self.size, self.frames = symbols, report, ledger, size, frames
        self.expected: dict[dt.date, list[str] | None] | None = None
        self.pre: pd.DataFrame | None = None
        self.pre_positions: dict[dt.date, np.ndarray] = {}
        self.pending: list[tuple[StagedWrite, pd.DataFrame | None]] = []
        self.flushed: set[dt.date] = set()

    def expected_symbols(self) -> dict[dt.date, list[str] | None]:
        if self.expected is None:
            self.expected = expected_symbols_by_session(
                self.lake, self.spec.name, self.sessions, self.symbols, vendor_universe=self.connector.universe_symbols
            )
        return self.expected

    def precompute(self, incoming: pd.DataFrame) -> None:
        """QC every session of the chunk once: `incoming` (rows per (dt, symbol) about to be staged)
        stands for the sessions it covers, the lake for the others (they stage nothing)."""
        self.pre = self._qc(self.sessions, incoming)
        days = pd.to_datetime(self.pre["dt"]).dt.date if len(self.pre) else pd.Series([], dtype=object)
        self.pre_positions = {d: np.asarray(p) for d, p in self.pre.groupby(days.to_numpy(), sort=False).indices.items()}

    def add(self, staged: StagedWrite, counts: pd.DataFrame | None = None, *, as_sent: bool = False) -> None:
        """Queue a staged partition. as_sent: it holds exactly the precomputed incoming rows; else
        `counts` (or, when None, its staged table) give its stored rows per (dt, symbol)."""
        res = staged.result
        if res.changed:
            self.report.partitions_written += 1
        else:
            self.report.partitions_unchanged += 1
        if not (as_sent and self.pre is not None) and counts is None:
            counts = qc.stored_counts(staged.table, self.spec.name, session=res.partition)
        self.pending.append((staged, None if as_sent and self.pre is not None else counts))
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        """QC rows of the queued partitions (precomputed or evaluated now) to the ledger thread, with their commits."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        staged = [s for s, _ in pending]
        sent = [s.result.partition for s, c in pending if c is None]
        other = [(s.result.partition, c) for s, c in pending if c is not None]
        parts = [self._precomputed(sent)] if sent else []
        if other:
            parts.append(self._qc([d for d, _ in other], pd.concat([c for _, c in other], ignore_index=True)))
        reviews = {s.result.partition: {**s.result.review, "version": s.result.version} for s in staged if s.result.review}
        rows = self._record(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0], reviews)
        self.flushed.update(s.result.partition for s in staged)
        self.ledger.submit(rows, staged)

    def finish(self) -> None:
        """Flush what is queued, then record the chunk's sessions that staged nothing (outages, no rows)."""
        self.flush()
        rest = [d for d in self.sessions if d not in self.flushed]
        if rest:
            reviews = self.lake.pending_reviews(self.spec.name, rest)
            rows = self._precomputed(rest) if self.pre is not None else self._qc(rest, None)
            self.ledger.submit(self._record(rows, reviews), [])

    def abort_pending(self) -> None:
        """Release staged partitions never handed to the ledger (the chunk failed): they stay invisible."""
        for s, _ in self.pending:
            s.abort()
        self.pending = []

    def _precomputed(self, days: list[dt.date]) -> pd.DataFrame:
        positions = [self.pre_positions[d] for d in days if d in self.pre_positions]
        return self.pre.iloc[np.concatenate(positions)] if positions else self.pre.iloc[0:0]

    def _qc(self, days: list[dt.date], counts: pd.DataFrame | None) -> pd.DataFrame:
        expected = self.expected_symbols()
        return evaluate_sessions(
            self.lake,
            self.spec.name,
            days,
            source_name=self.connector.source_name,
            symbols=self.symbols,
            rejected=self.report.rejected,
            failed=self.report.failed_sessions,
            written_counts=counts,
            expected={d: expected[d] for d in days},
        )

    def _record(self, rows: pd.DataFrame, reviews: Mapping[dt.date, dict]) -> pd.DataFrame:
        """`rows` with pending reviews applied (LARGE_REVISION), kept for the run's summaries."""
        if reviews and len(rows):
            rows = qc.apply_reviews(rows, reviews)
            flagged = set(pd.to_datetime(rows.loc[rows["qc_code"] == "LARGE_REVISION", "dt"]).dt.date)
            for day in flagged:
                self.report.large_revisions[day.isoformat()] = dict(reviews[day])
        self.frames.append(rows)
        return rows


def _ingest_chunk(
    dataset: str,
    sessions: list[dt.date],
    spec: TableSpec,
    connector: Connector,
    lake: Lake,
    symbols: Sequence[str] | None,
    series: Sequence[str] | None,
    report: IngestReport,
    batch: _Batch,
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
    batch: _Batch,
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
    batch: _Batch,
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
    expected: Mapping[dt.date, list[str] | None] | None = None,
) -> pd.DataFrame:
    """QC status rows for stored partitions of `table` over `sessions` (one vectorised evaluation).

    A rejected payload marks the session's expected symbols RED with its qc_code; a session the
    vendor failed to serve marks the symbols it lacks RED with the vendor's code (VENDOR_OUTAGE…).
    `written_counts` (dt, symbol, rows) gives the stored row counts of partitions the caller just
    wrote (or staged); every other session is read from the lake. `expected` (session -> symbols,
    as `expected_symbols_by_session` returns) saves reading the universe again. Rows come grouped
    by session in `sessions` order.
    """
    rejected = rejected or {}
    failed = failed or {}
    if not sessions:
        return pd.DataFrame()
    spec = table_spec(table)
    universe_expected = spec.name in qc.qc_rules().universe_expected_tables
    if expected is None:
        expected = expected_symbols_by_session(lake, table, sessions, symbols, vendor_universe=vendor_universe)
    known = written_counts if written_counts is not None else pd.DataFrame({"dt": [], "symbol": [], "rows": []})
    known_days = set(known["dt"]) if len(known) else set()
    counts_parts = [known] if len(known) else []
    present_by_day: dict[dt.date, set] = {}  # symbols (values of the table's symbol column) with rows
    if len(known) and spec.symbol_column is not None:
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
                if stored is None:  # written or staged by the caller: judge its counts (not yet visible)
                    present = present_by_day.get(session, set())
                else:
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

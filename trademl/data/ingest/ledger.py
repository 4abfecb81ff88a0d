"""Ledger before visibility: staged partitions, their ledger rows, then their commits.

Partitions are staged (written and verified, not yet visible) in batches of ``configs/ingest.yml
ledger_batch_partitions``; a batch's ledger rows are upserted and only then are its partitions
committed (renamed into place), on one background thread (`LedgerWriter`) while the next batch is
staged. So a process killed at any moment leaves no visible partition without its ledger rows (at
worst a batch's rows describe versions that never appeared; the next write or audit corrects them).
`StagedBatch` holds one chunk's staged partitions and what QC needs to judge them without reading
their (still invisible) new versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from trademl.data import control, qc
from trademl.data.connectors.base import Connector
from trademl.data.ingest.evaluation import evaluate_sessions, expected_symbols_by_session
from trademl.data.ingest.report import IngestReport
from trademl.data.lake import Lake, StagedWrite
from trademl.data.red_explanation import with_vendor_reasons
from trademl.schemas import TableSpec


class LedgerWriter:
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
            self.jobs.append(self.pool.submit(record_then_commit, self.engine, rows, staged))
        except BaseException:
            for s in staged:
                s.abort()
            raise

    def wait(self) -> None:
        for job in self.jobs:
            job.result()
        self.jobs = []


def record_then_commit(engine: Engine, rows: pd.DataFrame, staged: list[StagedWrite]) -> None:
    """Upsert `rows`, then make `staged` visible; on any failure the uncommitted ones are aborted."""
    try:
        if len(rows):
            control.upsert_partition_status(engine, rows)
        for s in staged:
            s.commit()
    finally:
        for s in staged:
            s.abort()  # no-op for the committed ones


class StagedBatch:
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
        ledger: LedgerWriter,
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
        """`rows` with pending reviews applied (LARGE_REVISION) and the vendor's reason in the detail of
        RED rows (`red_explanation.with_vendor_reasons`), kept for the run's summaries."""
        rows = with_vendor_reasons(rows, {**self.report.failed_sessions, **self.report.rejected})
        if reviews and len(rows):
            rows = qc.apply_reviews(rows, reviews)
            flagged = set(pd.to_datetime(rows.loc[rows["qc_code"] == "LARGE_REVISION", "dt"]).dt.date)
            for day in flagged:
                self.report.large_revisions[day.isoformat()] = dict(reviews[day])
        self.frames.append(rows)
        return rows

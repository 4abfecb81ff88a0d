"""`ingest`: one dataset over a session range, chunk by chunk, the body of every raw and reference asset."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.data.connectors.base import Connector
from trademl.data.ingest.ledger import LedgerWriter, StagedBatch
from trademl.data.ingest.report import IngestReport, log_outcome
from trademl.data.ingest.revisions import revision_guard
from trademl.data.ingest.settings import ingest_settings
from trademl.data.ingest.staging import fetch_and_stage_chunk
from trademl.data.lake import Lake
from trademl.data.lake.market import claim_market
from trademl.data.qc import summaries_by_session
from trademl.schemas import table_spec

log = logging.getLogger("trademl.data.ingest")


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
    partitions becomes visible only after its ledger rows are written (`trademl.data.ingest.ledger`).
    Sessions are requested ``configs/ingest.yml chunk_sessions`` at a time so memory stays bounded.
    Raises SourceConfigError (after logging it) when the source is set up wrongly, and
    MarketMismatchError when the connector's market is not the data root's (lake/market.py).
    """
    spec = table_spec(dataset)
    sessions = [d.date() for d in calendar.sessions(start, end)]
    report = IngestReport(dataset=dataset, table=spec.name, source_name=connector.source_name, sessions=sessions)
    if not sessions:
        return report
    claim_market(lake, connector)  # one lake, one market: refuses synthetic into a real lake and vice versa
    cfg = ingest_settings()
    chunk, batch_size = cfg.chunk_sessions_for(dataset), cfg.ledger_batch_partitions_for(dataset)
    guard = revision_guard(engine, spec.name, cfg.large_revision_frac_for(dataset))
    frames: list[pd.DataFrame] = []
    # Ledger upserts (and the commits they guard) run on a single background thread while the next
    # batch is fetched and staged (SQLite and Postgres drivers release the GIL while executing); they
    # stay in order and every one has finished before ingest returns.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-upsert") as pool:
        ledger = LedgerWriter(engine, pool)
        try:
            for i in range(0, len(sessions), chunk):
                part = sessions[i : i + chunk]
                batch = StagedBatch(lake, spec, part, connector, symbols, report, ledger, batch_size, frames)
                try:
                    fetch_and_stage_chunk(dataset, part, spec, connector, lake, symbols, series, report, batch, guard)
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
    log_outcome(report)
    return report

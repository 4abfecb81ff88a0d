"""Large revisions: the guard an ingest writes under, and accepting a flagged version.

A new version that drops or changes more than ``large_revision_frac`` (configs/ingest.yml) of the
rows of a partition the ledger holds GREEN (or has not judged) is still stored, but flagged for
review in its manifest and recorded AMBER with qc_code ``LARGE_REVISION``; the previous version
stays readable until `accept_revision` (``trademl lake accept``) or a replacement.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.engine import Engine

from trademl import calendar
from trademl.data import control, qc
from trademl.data.ingest.evaluation import evaluate_sessions
from trademl.data.lake import Lake, RevisionGuard
from trademl.schemas import table_spec

log = logging.getLogger("trademl.data.ingest")


def revision_guard(engine: Engine, table: str, frac: float | None) -> RevisionGuard | None:
    """The guard for writes of `table` (None when configs/ingest.yml turns it off): it applies to
    sessions the ledger holds GREEN or has not judged."""
    if frac is None:
        return None
    return RevisionGuard(frac, applies=lambda day: _ledger_green_or_unjudged(engine, table, day))


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
    return qc.summaries_by_session(rows, [day])[day.isoformat()]


def _ledger_green_or_unjudged(engine: Engine, table: str, day: dt.date) -> bool:
    """True when the ledger holds `day` of `table` GREEN, or holds nothing for it (never judged bad)."""
    rows = control.read_partition_status(engine, table_name=table, start=day, end=day)
    return bool(len(rows) == 0 or (rows["status"] == "GREEN").all())

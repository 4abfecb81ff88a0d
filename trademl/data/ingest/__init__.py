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

Modules (this package's ``__init__`` is the facade; import from ``trademl.data.ingest``):
- ``run``: `ingest`, the whole body of a raw or reference asset, chunk by chunk;
- ``staging``: one chunk fetched from the connector, conformed and staged (rejections per session);
- ``ledger``: ledger before visibility (`LedgerWriter`, `StagedBatch`);
- ``evaluation``: `expected_symbols_by_session`, `evaluate_sessions` (QC rows of ingested sessions);
- ``revisions``: the large-revision guard and `accept_revision`;
- ``report``: `IngestReport` and the not-stored accounting;
- ``settings``: `IngestSettings` (configs/ingest.yml, the one reader of it), `chunk_sessions`.
"""

from __future__ import annotations

from trademl.data.ingest.evaluation import evaluate_sessions, expected_symbols_by_session
from trademl.data.ingest.report import IngestReport
from trademl.data.ingest.revisions import accept_revision
from trademl.data.ingest.run import ingest
from trademl.data.ingest.settings import IngestSettings, chunk_sessions, ingest_settings

__all__ = [
    "IngestReport",
    "IngestSettings",
    "accept_revision",
    "chunk_sessions",
    "evaluate_sessions",
    "expected_symbols_by_session",
    "ingest",
    "ingest_settings",
]

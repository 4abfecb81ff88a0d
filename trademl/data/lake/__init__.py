"""The Parquet + zstd partition store behind every lake table (SSOT 2.1, 2.4 idempotency rules).

Layout: ``{root}/{layer}/{table}/date=YYYY-MM-DD/v00001.parquet`` plus ``_manifest.json`` per
partition (one partition = one session date and every symbol of it; ``raw/macros_fred`` is
partitioned by the session of each vintage, its ``date`` column).

Guarantees:

* Raw is immutable: a partition is never rewritten. A vendor revision becomes a new version file
  beside the old ones; re-ingesting an identical payload (same rows regardless of order and of
  ``ingested_at``) is a no-op that touches nothing.
* Atomic commit: a version is serialised once in memory, written to ``.tmp-<uuid>.parquet``,
  fsynced, verified by re-reading it (the same bytes as serialised, footer row count and schema),
  recorded in the manifest with its sha256 (atomic replace) and only then renamed to ``vNNNNN.parquet``. The rename is the
  commit point: readers only look at ``vNNNNN.parquet`` files, so a crash at any moment leaves the
  old state or the new one. A manifest entry whose file never appeared (crash between manifest and
  rename) is invisible and pruned, and stale tmp files are deleted, by the next write.
* Identity of content is a BLAKE3 digest of the data columns in key order (`content_hash`),
  independent of row order, chunking and of how a one-value column is encoded.
* Files: zstd level 1, dictionary-encoded strings, DELTA_BINARY_PACKED integers and timestamps,
  min/max statistics on the partition and key columns, no embedded Arrow schema (Parquet's
  logical types round-trip every table schema exactly).
* Writers to one partition serialise on ``.lock`` in the partition directory (``fcntl.flock``
  plus an in-process lock), so two writers never produce the same version number.
* Staged commits: `stage_partition(s)` stop just before the rename and hand back a StagedWrite
  holding the partition's lock; the caller records what must exist before the version is visible
  (ingest: the ledger rows) and then commits (or aborts) it, possibly from another thread.
* Revisions: each new version's manifest entry records the version it replaced, that version's
  row count and how many of its rows the new one dropped or changed (data columns only). With a
  `RevisionGuard`, a version that revised more than its share is flagged ``review`` (e.g.
  LARGE_REVISION) until `accept_version`; every older version stays readable
  (`read(..., version=)`, `read_partition(..., version=)`, `versions`).

A root may also be an fsspec URL (``s3://bucket/lake``, ``memory://lake``): the same algorithm
runs with object puts and server-side moves (each object appears atomically). Object stores have
no advisory locks, so there writers are serialised only within one process; run concurrent
writers of one partition through a single Dagster pool.

Modules (one concern each): `store` (local and fsspec back ends), `codec` (canonical order,
content hash, serialisation, verification), `rows` (partition keys and row-level checks, merge,
revision counts), `manifest` (committed versions and the manifest record), `staging` (the commit
algorithm, StagedWrite, RevisionGuard), `api` (the Lake class) and `sql` (read-only DuckDB views
of the latest versions, behind `trademl sql`).
"""

from trademl.data.lake.api import EmptyLakeError, Lake
from trademl.data.lake.codec import CHECKSUM_MISMATCH, LakeIntegrityError, content_hash, serialise, sort_by_key
from trademl.data.lake.manifest import MANIFEST_NAME, VersionInfo
from trademl.data.lake.rows import PartitionLike, as_partition_date
from trademl.data.lake.staging import RevisionGuard, StagedWrite, WriteMode, WriteResult
from trademl.data.lake.store import LOCK_NAME, TMP_PREFIX, _FsspecStore, _LocalStore, _open_store

__all__ = [
    "CHECKSUM_MISMATCH",
    "EmptyLakeError",
    "LOCK_NAME",
    "MANIFEST_NAME",
    "TMP_PREFIX",
    "Lake",
    "LakeIntegrityError",
    "PartitionLike",
    "RevisionGuard",
    "StagedWrite",
    "VersionInfo",
    "WriteMode",
    "WriteResult",
    "_FsspecStore",
    "_LocalStore",
    "_open_store",
    "as_partition_date",
    "content_hash",
    "serialise",
    "sort_by_key",
]

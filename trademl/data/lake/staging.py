"""Staging and committing a partition version, with revision reviews (RevisionGuard).

One concern: the write algorithm of one partition up to its commit point. `stage_version` takes
the partition's writer lock, prunes dead writers' tmp files, compares the payload with the latest
intact version (unchanged -> no-op; merge -> union), counts what it revises, serialises, writes
and verifies a tmp file and records it in the manifest; the returned `StagedWrite` renames it into
place (commit) or discards it (abort) and releases the lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from trademl.data.lake.codec import LakeIntegrityError, _constant_strings, _hash_sorted, _verify_bytes, serialise, sort_by_key
from trademl.data.lake.manifest import _pending_review, committed_versions, load_manifest, save_manifest, version_path
from trademl.data.lake.rows import _merge, _revised_rows
from trademl.data.lake.store import TMP_PREFIX, Store, _FsspecStore, _LocalStore
from trademl.schemas import TableSpec

WriteMode = Literal["replace", "merge"]


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one partition write; `changed` is False when the payload equalled the latest version.

    previous_rows / revised_rows: for a new version over an intact stored one, the stored version's
    row count and how many of those rows the new version drops or changes (data columns only:
    metadata such as ingested_at or source_uri is not a revision). `review` is the pending review
    of the (new or unchanged) latest version, e.g. ``{"code": "LARGE_REVISION", ...}``, else None.
    """

    table: str
    partition: dt.date
    version: int
    path: str
    row_count: int
    sha256: str
    content_hash: str
    changed: bool
    previous_rows: int = 0
    revised_rows: int = 0
    review: dict | None = None



@dataclass(frozen=True)
class RevisionGuard:
    """Flag a new version that drops or changes more than `max_frac` of a stored version's rows.

    The flag (``review`` in the manifest entry: code, revised_rows, previous_rows, revised_frac,
    previous_version) marks the version for review; it is still committed, the previous version
    stays readable, and `Lake.accept_version` clears it. `applies(day)` (default: every partition)
    says whether a partition is guarded; it is only called for revisions above `max_frac`, so it
    may be a database lookup (ingest guards partitions whose ledger says GREEN).
    """

    max_frac: float
    applies: Callable[[dt.date], bool] | None = None
    code: str = "LARGE_REVISION"

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_frac <= 1.0:
            raise ValueError(f"RevisionGuard.max_frac must lie in [0, 1], got {self.max_frac}")

    def review(self, day: dt.date, previous_version: int, previous_rows: int, revised_rows: int) -> dict | None:
        """The review record of a revision of `day`, or None when it is small or the partition unguarded."""
        if previous_rows <= 0 or revised_rows / previous_rows <= self.max_frac:
            return None
        if self.applies is not None and not self.applies(day):
            return None
        return {
            "code": self.code,
            "previous_version": previous_version,
            "previous_rows": previous_rows,
            "revised_rows": revised_rows,
            "revised_frac": round(revised_rows / previous_rows, 6),
        }


class StagedWrite:
    """A partition version written to a temporary file, verified and recorded in the manifest,
    but not yet visible: `commit()` renames it into place (the commit point), `abort()` discards it.

    It holds the partition's writer lock until then, so the caller must call one of the two
    (`trademl.data.ingest` records the ledger rows of a batch of staged partitions, then commits them,
    so every visible partition has its ledger rows even when the process is killed in between).
    `result` describes the version as it will be once committed; `table` holds its rows (for QC
    counts). An unchanged payload stages nothing: `result.changed` is False and commit is a no-op.
    """

    def __init__(
        self,
        result: WriteResult,
        table: pa.Table,
        *,
        store: _LocalStore | _FsspecStore | None = None,
        tmp: str | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.result, self.table = result, table
        self._store, self._tmp, self._release = store, tmp, release
        self._done = release is None

    @property
    def done(self) -> bool:
        """True once committed or aborted (or when there was nothing to commit)."""
        return self._done

    def commit(self) -> WriteResult:
        """Make the version the partition's latest (atomic rename) and release the lock."""
        if self._done:
            return self.result
        try:
            self._store.commit(self._tmp, self.result.path)
        finally:
            self._finish()
        return self.result

    def abort(self) -> None:
        """Discard the staged file (its manifest entry stays invisible and is pruned by the next write)."""
        if not self._done:
            self._finish()

    def _finish(self) -> None:
        self._done = True
        try:
            self._store.remove(self._tmp)  # no-op after a successful commit
        finally:
            self._release()


def stage_version(
    store: Store,
    pdir: str,
    spec: TableSpec,
    day: dt.date,
    incoming: pa.Table,
    *,
    vendor: str | None,
    mode: WriteMode,
    presorted: bool = False,
    guard: RevisionGuard | None = None,
) -> StagedWrite:
    """Stage `incoming` (conformed rows of partition `day`) as the next version in `pdir` (which exists).

    Returns a StagedWrite holding the partition's lock (nothing staged when the payload equals the
    latest intact version). Raises LakeIntegrityError when a merge would build on a corrupted version.
    """
    release = store.acquire(pdir)
    tmp: str | None = None
    try:
        for name in store.listdir(pdir):  # only dead writers leave tmp files behind a free lock
            if name.startswith(TMP_PREFIX):
                store.remove(store.join(pdir, name))
        committed = committed_versions(store, pdir)
        entries = {v: e for v, e in load_manifest(store, pdir).items() if v in committed}
        latest = max(committed) if committed else None
        # The latest file counts as stored content only when its bytes still match the manifest:
        # re-ingesting over a corrupted version writes a fresh one instead of a silent no-op.
        latest_bytes = store.read_bytes(committed[latest]) if latest in entries else None
        intact = (
            latest_bytes is not None
            and hashlib.sha256(latest_bytes).hexdigest() == entries[latest]["sha256"]
        )

        new = incoming
        stored: pa.Table | None = None
        if mode == "merge" and latest is not None:
            if not intact:
                raise LakeIntegrityError(
                    f"cannot merge into {committed[latest]}: its bytes do not match the manifest sha256; "
                    "re-ingest the whole partition with mode='replace'"
                )
            stored = pq.read_table(pa.BufferReader(latest_bytes)).cast(spec.schema)
            new = _merge(stored, incoming.cast(spec.schema), spec)
            presorted = False
        if not presorted:
            new = sort_by_key(new, spec)
        new = new.combine_chunks()
        digest = _hash_sorted(new)  # the same for plain and dictionary-encoded one-value columns

        if intact and entries[latest]["content_hash"] == digest:
            e = entries[latest]
            result = WriteResult(
                spec.name, day, latest, committed[latest], int(e["row_count"]), e["sha256"], digest, False,
                review=_pending_review(e),
            )
            release()
            return StagedWrite(result, new)

        previous_rows = revised = 0
        review = None
        if intact:  # what the new version changes of the stored one (a corrupted one is no reference)
            if stored is None:
                stored = pq.read_table(pa.BufferReader(latest_bytes)).cast(spec.schema)
            previous_rows = stored.num_rows
            revised = _revised_rows(stored, new, spec)
            if guard is not None:
                review = guard.review(day, latest, previous_rows, revised)
        new = _constant_strings(new, spec)  # same bytes whichever way the rows came in
        buf = serialise(new, spec)
        sha = hashlib.sha256(memoryview(buf)).hexdigest()
        version = (latest or 0) + 1
        final = version_path(store, pdir, version)
        tmp = store.join(pdir, f"{TMP_PREFIX}{uuid.uuid4().hex}.parquet")
        store.write_new(tmp, buf)
        _verify_bytes(
            store.read_bytes(tmp), expected=buf, sha256=sha, row_count=new.num_rows, schema=spec.schema, where=tmp
        )
        entries[version] = {
            "version": version,
            "file": final.rsplit("/", 1)[-1],
            "row_count": new.num_rows,
            "sha256": sha,
            "content_hash": digest,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "vendor": vendor,
            "mode": mode,
        }
        if latest is not None and intact:
            entries[version].update(previous_version=latest, previous_rows=previous_rows, revised_rows=revised)
        if review is not None:
            entries[version]["review"] = review
        # Manifest first, rename second: a visible version always has its checksum recorded.
        save_manifest(store, pdir, spec, day, entries)
    except BaseException:
        if tmp is not None:
            store.remove(tmp)
        release()
        raise
    result = WriteResult(
        spec.name, day, version, final, new.num_rows, sha, digest, True,
        previous_rows=previous_rows, revised_rows=revised, review=review,
    )
    return StagedWrite(result, new, store=store, tmp=tmp, release=release)

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
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import blake3
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trademl.schemas import METADATA_COLUMNS, VOLATILE_COLUMNS, SchemaViolation, TableSpec, conform, sorted_by, table_spec

WriteMode = Literal["replace", "merge"]
PartitionLike = dt.date | str | pd.Timestamp | np.datetime64

MANIFEST_NAME = "_manifest.json"
LOCK_NAME = ".lock"
TMP_PREFIX = ".tmp-"
CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"
_VERSION_RE = re.compile(r"^v(\d{5,})\.parquet$")
_PARTITION_RE = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_MANIFEST_FORMAT = 1

# Fixed writer settings: the same rows always serialise to the same bytes (for one pyarrow version).
# zstd level 1: ~30 % faster than level 3 for ~5 % larger files on bar data (benchmarks/README.md,
# vendor path). Min/max statistics only for the partition and key columns (set in `serialise`):
# a partition is one row group, so statistics on prices prune nothing and cost ~10 % of a write.
_PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 1 << 20,
    # No ARROW:schema in the footer: Parquet's own logical types give back the exact table schema
    # (tests/lake check every table), and one-value string columns can then be written straight
    # from one-entry dictionaries (see _constant_strings) yet read back as plain strings.
    "store_schema": False,
    "write_page_checksum": True,
}


class LakeIntegrityError(RuntimeError):
    """A written or stored file does not match what was meant to be there (qc code CHECKSUM_MISMATCH)."""

    qc_code = CHECKSUM_MISMATCH


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
class VersionInfo:
    """One committed version of a partition as recorded in its manifest (created_at is UTC).

    previous_version / previous_rows / revised_rows describe what the version changed of the one
    before it (None/0 for a first version); `review` is the flag a writer's RevisionGuard put on it
    (with ``accepted_at`` once accepted).
    """

    version: int
    path: str
    row_count: int
    sha256: str
    content_hash: str
    created_at: dt.datetime
    vendor: str | None = None
    mode: str | None = None
    previous_version: int | None = None
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


# --------------------------------------------------------------------------------------------
# Storage back ends: a local directory (POSIX atomic rename, fsync, flock) or an fsspec store.
# --------------------------------------------------------------------------------------------


class _LocalStore:
    """Local filesystem primitives with durable, atomic commits."""

    is_local = True

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._thread_locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def join(self, *parts: str) -> str:
        return os.path.join(*parts)

    def listdir(self, path: str) -> list[str]:
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []

    def list_tree(self, path: str) -> dict[str, list[str]]:
        """Sub-directory name -> names of the files in it, one level down."""
        out: dict[str, list[str]] = {}
        try:
            subdirs = [e for e in os.scandir(path) if e.is_dir()]
        except FileNotFoundError:
            return out
        for entry in subdirs:
            out[entry.name] = os.listdir(entry.path)
        return out

    def makedirs(self, path: str) -> None:
        self.makedirs_many([path])

    def makedirs_many(self, paths: Sequence[str]) -> None:
        """Create directories durably: every parent that gained an entry is fsynced once, parents first."""
        touched: set[str] = set()
        for path in paths:
            probe = path
            while not os.path.isdir(probe):
                touched.add(os.path.dirname(probe))
                probe = os.path.dirname(probe)
            os.makedirs(path, exist_ok=True)
        for parent in sorted(touched, key=len):
            _fsync_dir(parent)

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def write_new(self, path: str, data: pa.Buffer | bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_atomic(self, path: str, data: bytes) -> None:
        tmp = self.join(os.path.dirname(path), f"{TMP_PREFIX}{uuid.uuid4().hex}.json")
        self.write_new(tmp, data)
        self.commit(tmp, path)

    def commit(self, src: str, dst: str) -> None:
        os.replace(src, dst)
        _fsync_dir(os.path.dirname(dst))

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def open_for_parquet(self, path: str) -> str:
        return path

    def duckdb_path(self, path: str) -> str:
        return path

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Local paths need no filesystem registration."""

    def acquire(self, directory: str) -> Callable[[], None]:
        """Take the writer lock of `directory` (in-process lock, then flock); returns its release.

        The release may be called from another thread (a staged version is committed by the
        ledger thread of `trademl.data.ingest`), so the in-process lock is a plain Lock, not an RLock.
        """
        with self._registry_lock:
            tlock = self._thread_locks.setdefault(directory, threading.Lock())
        tlock.acquire()
        try:
            fd = os.open(self.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            tlock.release()
            raise

        def release() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            finally:
                tlock.release()

        return release

    @contextmanager
    def lock(self, directory: str) -> Iterator[None]:
        release = self.acquire(directory)
        try:
            yield
        finally:
            release()


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _FsspecStore:
    """fsspec primitives: object puts are atomic, moves are copy-then-delete on the server."""

    is_local = False

    def __init__(self, url: str) -> None:
        import fsspec.core

        self.fs, root = fsspec.core.url_to_fs(url)
        self.root = self.fs.unstrip_protocol(root.rstrip("/") or "/")  # paths keep their protocol
        self._thread_locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def join(self, *parts: str) -> str:
        return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))

    def listdir(self, path: str) -> list[str]:
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        return [e.rstrip("/").rsplit("/", 1)[-1] for e in entries]

    def list_tree(self, path: str) -> dict[str, list[str]]:
        """Sub-directory name -> names of the files in it, from one recursive listing."""
        out: dict[str, list[str]] = {}
        base = self.fs._strip_protocol(path).rstrip("/") + "/"
        try:
            found = self.fs.find(path, maxdepth=2)
        except FileNotFoundError:
            return out
        for full in found:
            rel = self.fs._strip_protocol(full)[len(base) :].split("/")
            if len(rel) == 2:
                out.setdefault(rel[0], []).append(rel[1])
        return out

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)

    def makedirs_many(self, paths: Sequence[str]) -> None:
        for path in paths:
            self.fs.makedirs(path, exist_ok=True)

    def read_bytes(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def write_new(self, path: str, data: pa.Buffer | bytes) -> None:
        self.fs.pipe_file(path, bytes(memoryview(data)))

    def put_atomic(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(path, data)

    def commit(self, src: str, dst: str) -> None:
        self.fs.mv(src, dst)

    def remove(self, path: str) -> None:
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass

    def open_for_parquet(self, path: str) -> pa.BufferReader:
        return pa.BufferReader(self.read_bytes(path))

    def duckdb_path(self, path: str) -> str:
        return self.fs.unstrip_protocol(path)

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        con.register_filesystem(self.fs)

    def acquire(self, directory: str) -> Callable[[], None]:
        """Take the in-process writer lock of `directory` (object stores have no advisory locks)."""
        with self._registry_lock:
            tlock = self._thread_locks.setdefault(directory, threading.Lock())
        tlock.acquire()
        return tlock.release

    @contextmanager
    def lock(self, directory: str) -> Iterator[None]:
        release = self.acquire(directory)
        try:
            yield
        finally:
            release()


def _open_store(root: str | os.PathLike) -> _LocalStore | _FsspecStore:
    text = os.fspath(root)
    if "://" in text and not text.startswith("file://"):
        return _FsspecStore(text)
    text = text.removeprefix("file://")
    return _LocalStore(Path(text).expanduser().resolve())


# --------------------------------------------------------------------------------------------
# Pure helpers: partition keys, canonical ordering, content hashing, serialisation, verification.
# --------------------------------------------------------------------------------------------


def as_partition_date(value: PartitionLike, name: str = "partition") -> dt.date:
    """Normalise a partition key (date, 'YYYY-MM-DD', midnight Timestamp) to a datetime.date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a session date (expected YYYY-MM-DD)") from exc
    if ts is pd.NaT:
        raise ValueError(f"{name} is missing (NaT)")
    if ts.tzinfo is not None or ts != ts.normalize():
        raise ValueError(f"{name}={value!r} must be a plain session date, not an instant")
    return ts.date()


def sort_by_key(table: pa.Table, spec: TableSpec) -> pa.Table:
    """Rows in the table's canonical order (its natural key, ascending)."""
    if table.num_rows <= 1:
        return table
    return table.sort_by([(k, "ascending") for k in spec.key])


def _bytes(values: np.ndarray) -> memoryview:
    """The bytes of a numpy array as a flat byte view (no copy when it is contiguous)."""
    return memoryview(np.ascontiguousarray(values).view(np.uint8))


def _value_bytes(arr: pa.Array) -> list[memoryview | bytes]:
    """Canonical bytes of an array's values (nulls filled with a fixed value), independent of chunking.

    Returned as byte views the hash reads in place: no copies of dense columns.
    """
    typ = arr.type
    if pa.types.is_string_view(typ):
        arr, typ = arr.cast(pa.string()), pa.string()
    if (
        pa.types.is_string(typ)
        or pa.types.is_binary(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_large_binary(typ)
    ):
        empty = "" if pa.types.is_string(typ) or pa.types.is_large_string(typ) else b""
        filled = pc.fill_null(arr, empty) if arr.null_count else arr
        off_type = np.int64 if pa.types.is_large_string(typ) or pa.types.is_large_binary(typ) else np.int32
        offsets = np.frombuffer(filled.buffers()[1], dtype=off_type)[
            filled.offset : filled.offset + len(filled) + 1
        ]
        lengths = np.diff(offsets.astype(np.int64, copy=False))
        data = filled.buffers()[2]
        body = (
            memoryview(data)[int(offsets[0]) : int(offsets[-1])] if data is not None and len(offsets) else b""
        )
        return [_bytes(lengths), body]
    has_nulls = arr.null_count > 0  # fill_null only when needed: same bytes, no copy for dense columns
    if pa.types.is_boolean(typ):
        filled = pc.fill_null(arr, False) if has_nulls else arr
        return [_bytes(filled.to_numpy(zero_copy_only=False).astype(np.uint8))]
    if pa.types.is_floating(typ):
        values = (pc.fill_null(arr, 0.0) if has_nulls else arr).to_numpy(zero_copy_only=False)
        if pc.any(pc.is_nan(arr)).as_py():
            values = np.where(np.isnan(values), np.nan, values)  # one canonical NaN bit pattern
        return [_bytes(values)]
    if pa.types.is_integer(typ):
        return [_bytes((pc.fill_null(arr, 0) if has_nulls else arr).to_numpy(zero_copy_only=False))]
    if pa.types.is_temporal(typ):
        width = pa.int32() if typ.bit_width == 32 else pa.int64()
        view = arr.view(width)
        return [_bytes((pc.fill_null(view, 0) if has_nulls else view).to_numpy(zero_copy_only=False))]
    raise ValueError(f"content hashing does not support column type {typ}")


def _constant_string(arr: pa.Array) -> str | bytes | None:
    """The value every row of a null-free string/binary (or dictionary) array holds, else None."""
    n = len(arr)
    if n == 0 or arr.null_count:
        return None
    if pa.types.is_dictionary(arr.type):
        if len(arr.dictionary) == 1:  # valid indices into one entry are all 0
            return arr.dictionary[0].as_py()
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_binary(arr.type)):
        return None
    first = arr[0]
    if arr[n - 1] != first or arr[n // 2] != first:  # key-sorted columns fail here in O(1)
        return None
    return first.as_py() if pc.all(pc.equal(arr, first)).as_py() else None


def _constant_strings(table: pa.Table, spec: TableSpec) -> pa.Table:
    """`table` with its one-value string columns (vendor, URI, version, session id...) as one-entry
    dictionary arrays: same rows, but take, hashing and Parquet's dictionary encoding no longer do
    per-row string work. Key and partition columns stay as they are (they are sorted on)."""
    keep = {spec.partition_column, *spec.key}
    out = table
    for i, fld in enumerate(table.schema):
        if fld.name in keep or not (pa.types.is_string(fld.type) or pa.types.is_binary(fld.type)):
            continue
        col = table.column(i).combine_chunks()
        value = _constant_string(col)
        if value is not None:
            dictionary = pa.array([value], fld.type)
            indices = pa.array(np.zeros(len(col), np.int32), pa.int32())
            compact = pa.DictionaryArray.from_arrays(indices, dictionary)
            out = out.set_column(i, pa.field(fld.name, compact.type, fld.nullable, fld.metadata), compact)
    return out


def content_hash(table: pa.Table, spec: TableSpec) -> str:
    """BLAKE3 digest of the table's data columns (VOLATILE_COLUMNS excluded) in canonical key order.

    Two payloads with the same rows hash equal whatever their row order, chunking or ingest time.
    """
    return _hash_sorted(sort_by_key(table, spec))


def _hash_sorted(table: pa.Table) -> str:
    h = blake3.blake3()  # cryptographic like sha256, ~2x its speed on one core (benchmarks: vendor path)
    cols = [n for n in table.schema.names if n not in VOLATILE_COLUMNS]
    types = [table.schema.field(n).type for n in cols]
    logical = [t.value_type if pa.types.is_dictionary(t) else t for t in types]  # representation-free
    h.update(json.dumps([[n, str(t)] for n, t in zip(cols, logical)]).encode())
    h.update(table.num_rows.to_bytes(8, "little"))
    for name in cols:
        arr = table.column(name).combine_chunks()
        h.update(name.encode() + b"\x00")
        value = _constant_string(arr)
        if value is not None:  # one value on every row (plain or dictionary-typed): hashed once
            raw = value.encode() if isinstance(value, str) else value
            h.update(b"C" + len(raw).to_bytes(8, "little") + raw)
            continue
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if arr.null_count:
            valid = arr.is_valid().to_numpy(zero_copy_only=False)
            h.update(b"V" + np.packbits(valid).tobytes())
        else:
            h.update(b"N")
        for part in _value_bytes(arr):
            h.update(part)
    return h.hexdigest()


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns written dictionary-encoded: the strings (symbols, ids, metadata repeat on every row).

    Prices, volumes and timestamps are mostly distinct per row, so a dictionary for them costs
    time and falls back to plain encoding anyway; leaving them out writes ~1.7x faster and smaller.
    """
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_binary(f.type) or pa.types.is_dictionary(f.type)
    ]


def _delta_columns(schema: pa.Schema) -> dict[str, str]:
    """Integer and timestamp columns, written DELTA_BINARY_PACKED: bit-packed deltas of volumes,
    counts and minute stamps are a fraction of their 8 bytes, so zstd gets less to do and the
    files come out smaller (benchmarks/README.md, vendor path)."""
    return {
        f.name: "DELTA_BINARY_PACKED"
        for f in schema
        if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
    }


def serialise(table: pa.Table, spec: TableSpec) -> pa.Buffer:
    """The table as one Parquet + zstd file in memory, with fixed (deterministic) writer settings."""
    sink = pa.BufferOutputStream()
    sorting = pq.SortingColumn.from_ordering(table.schema, [(k, "ascending") for k in spec.key])
    stats = [c for c in (spec.partition_column, *spec.key) if c in table.column_names]
    pq.write_table(
        table,
        sink,
        sorting_columns=sorting,
        use_dictionary=_dictionary_columns(table.schema),
        column_encoding=_delta_columns(table.schema) or None,
        write_statistics=list(dict.fromkeys(stats)),
        **_PARQUET_OPTIONS,
    )
    return sink.getvalue()


def _verify_bytes(data: bytes, *, expected: pa.Buffer, sha256: str, row_count: int, schema: pa.Schema, where: str) -> None:
    """Raise LakeIntegrityError unless `data` is byte-for-byte `expected` (whose sha256 is given)
    and its Parquet footer has the row count and Arrow schema (a memcmp, not a second digest)."""
    if not pa.py_buffer(data).equals(expected):
        got = hashlib.sha256(data).hexdigest()
        raise LakeIntegrityError(f"{where}: sha256 {got} differs from the serialised {sha256}")
    try:
        meta = pq.ParquetFile(pa.BufferReader(data))
        rows, stored = meta.metadata.num_rows, meta.schema_arrow
    except (pa.ArrowInvalid, OSError) as exc:
        raise LakeIntegrityError(f"{where}: Parquet footer unreadable: {exc}") from exc
    if rows != row_count:
        raise LakeIntegrityError(f"{where}: footer says {rows} rows, expected {row_count}")
    if not stored.equals(schema, check_metadata=False):
        raise LakeIntegrityError(f"{where}: stored schema {stored} differs from {schema}")


def _check_partition_rows(table: pa.Table, spec: TableSpec, partition: dt.date, vendor: str | None) -> None:
    """Reject rows whose partition column is not `partition` (a payload belongs to one session)."""
    if table.num_rows == 0:
        return
    col = table.column(spec.partition_column)
    wrong = pc.not_equal(col, pa.scalar(partition, pa.date32()))
    if pc.any(wrong).as_py():
        idx = pc.index(wrong, True).as_py()
        row = table.slice(idx, 1).to_pylist()[0]
        sym = row.get(spec.symbol_column) if spec.symbol_column else None
        raise SchemaViolation(
            f"row with {spec.partition_column}={row[spec.partition_column]} does not belong to partition {partition}",
            table=spec.name,
            vendor=vendor,
            symbol=str(sym) if sym is not None else None,
            session=str(row[spec.partition_column]),
        )


def _already_conformed(data: pd.DataFrame | pa.Table, spec: TableSpec) -> pa.Table:
    """`data` itself when it is an Arrow table with exactly the table's schema (a ``conform`` output).

    Guards the conformed=True fast path: anything else is a caller bug, reported as a ValueError.
    """
    if not isinstance(data, pa.Table) or not data.schema.equals(spec.schema, check_metadata=False):
        got = data.schema if isinstance(data, pa.Table) else type(data).__name__
        raise ValueError(f"conformed=True needs an Arrow table with the exact {spec.name} schema (schemas.conform output), got {got}")
    return data


def _partition_order(rows: pa.Table, spec: TableSpec) -> pa.Table:
    """Rows ordered by (partition, key): as given when already so, a stable regrouping by partition
    when only key-sorted (vendor page order), else a full sort."""
    order = [spec.partition_column, *spec.key]
    if sorted_by(rows, order):
        return rows
    if sorted_by(rows, spec.key):
        days = rows.column(spec.partition_column).combine_chunks().view(pa.int32()).to_numpy()
        return rows.take(pa.array(np.argsort(days, kind="stable")))
    return rows.sort_by([(k, "ascending") for k in order])


def _merge(stored: pa.Table, incoming: pa.Table, spec: TableSpec) -> pa.Table:
    """Union of stored and incoming rows; incoming rows replace stored rows with the same natural key."""
    if stored.num_rows == 0:
        return incoming
    if incoming.num_rows == 0:
        return stored
    keys = list(spec.key)
    kept = stored.join(incoming.select(keys), keys=keys, join_type="left anti", use_threads=False)
    return pa.concat_tables([kept.select(spec.schema.names).cast(spec.schema), incoming])


def _revised_rows(stored: pa.Table, new: pa.Table, spec: TableSpec) -> int:
    """Rows of `stored` that `new` drops (key absent) or changes (any data column differs).

    Data columns are the schema's non-key columns other than METADATA_COLUMNS (ingest time, source
    URI and the like are provenance, not revisions); nulls equal nulls and NaN equals NaN. Rows
    `new` adds are not counted: filling a gap revises nothing. One hash join, no Python row loop.
    """
    if stored.num_rows == 0:
        return 0
    keys = list(spec.key)
    values = [c for c in spec.schema.names if c not in keys and c not in METADATA_COLUMNS]
    plain = pa.schema([spec.schema.field(c) for c in keys + values])
    left = stored.select(keys + values).cast(plain)
    right = new.select(keys + values).cast(plain)  # one-value dictionary columns back to plain strings
    right = right.rename_columns(keys + [f"{c}__new" for c in values])
    right = right.append_column("__present", pa.repeat(pa.scalar(True), right.num_rows))
    joined = left.join(right, keys=keys, join_type="left outer", use_threads=False)
    revised = pc.invert(pc.fill_null(joined.column("__present"), False))
    for c in values:
        a, b = joined.column(c), joined.column(f"{c}__new")
        same = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
        if pa.types.is_floating(a.type):
            same = pc.or_kleene(same, pc.and_(pc.is_nan(a), pc.is_nan(b)))
        revised = pc.or_(revised, pc.invert(pc.fill_null(same, False)))
    return int(pc.sum(revised).as_py() or 0)


# --------------------------------------------------------------------------------------------
# The lake.
# --------------------------------------------------------------------------------------------


class Lake:
    """Versioned, checksummed Parquet partitions of the SSOT tables under one root.

    `root` is a local directory (full atomic semantics) or an fsspec URL (object-level atomic puts).
    Paths returned by the lake (WriteResult.path, VersionInfo.path, partition_dir) are strings:
    absolute local paths, or URLs (with their protocol) for fsspec roots.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self._store = _open_store(root)

    def __repr__(self) -> str:
        return f"Lake({self.root!r})"

    @property
    def root(self) -> str:
        """The resolved root: an absolute local path or the fsspec URL."""
        return self._store.root

    # ---- layout ------------------------------------------------------------------------------

    def table_dir(self, table: str) -> str:
        """Directory of a table: {root}/{layer}/{table}."""
        spec = table_spec(table)
        return self._store.join(self.root, spec.layer, spec.short_name)

    def partition_dir(self, table: str, partition: PartitionLike) -> str:
        """Directory of one partition: {root}/{layer}/{table}/date=YYYY-MM-DD."""
        day = as_partition_date(partition)
        return self._store.join(self.table_dir(table), f"date={day.isoformat()}")

    def _version_path(self, pdir: str, version: int) -> str:
        return self._store.join(pdir, f"v{version:05d}.parquet")

    def _committed(self, pdir: str) -> dict[int, str]:
        """Committed versions of a partition (the vNNNNN.parquet files present) -> their paths."""
        out = {}
        for name in self._store.listdir(pdir):
            m = _VERSION_RE.match(name)
            if m:
                out[int(m.group(1))] = self._store.join(pdir, name)
        return out

    def _load_manifest(self, pdir: str) -> dict[int, dict]:
        path = self._store.join(pdir, MANIFEST_NAME)
        try:
            doc = json.loads(self._store.read_bytes(path))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise LakeIntegrityError(f"manifest {path} is not valid JSON: {exc}") from exc
        return {int(e["version"]): e for e in doc.get("versions", [])}

    def _save_manifest(
        self, pdir: str, spec: TableSpec, partition: dt.date, entries: dict[int, dict]
    ) -> None:
        doc = {
            "format": _MANIFEST_FORMAT,
            "table": spec.name,
            "partition": partition.isoformat(),
            "versions": [entries[v] for v in sorted(entries)],
        }
        payload = json.dumps(doc, indent=1, sort_keys=True).encode()
        self._store.put_atomic(self._store.join(pdir, MANIFEST_NAME), payload)

    # ---- writing -----------------------------------------------------------------------------

    def write_partition(
        self,
        table: str,
        partition: PartitionLike,
        data: pd.DataFrame | pa.Table,
        *,
        vendor: str | None = None,
        mode: WriteMode = "replace",
        conformed: bool = False,
        guard: RevisionGuard | None = None,
    ) -> WriteResult:
        """Store one session's payload as a new immutable version (or do nothing if it is unchanged).

        The payload is conformed to the table schema first and every row must belong to
        `partition`; a SchemaViolation is raised before anything is touched. mode="replace"
        makes the payload the whole new version; mode="merge" unions it with the latest version,
        incoming rows replacing stored rows with the same natural key (gap fill of some symbols).
        An empty payload commits an empty version (a session checked and found empty).
        conformed=True: `data` is an Arrow table the caller already passed through
        ``schemas.conform`` for this table, so the value checks are not run twice (its exact
        schema and the partition of every row are still checked). `guard` flags a large revision
        of the stored version for review (see RevisionGuard); the version is committed either way.
        Raises LakeIntegrityError when a merge would build on a corrupted latest version.
        """
        return self.stage_partition(
            table, partition, data, vendor=vendor, mode=mode, conformed=conformed, guard=guard
        ).commit()

    def stage_partition(
        self,
        table: str,
        partition: PartitionLike,
        data: pd.DataFrame | pa.Table,
        *,
        vendor: str | None = None,
        mode: WriteMode = "replace",
        conformed: bool = False,
        guard: RevisionGuard | None = None,
    ) -> StagedWrite:
        """`write_partition` up to its commit point: the new version is written, verified and in the
        manifest but invisible until the returned StagedWrite is committed (or aborted)."""
        spec = table_spec(table)
        _check_mode(mode)
        day = as_partition_date(partition)
        rows = _already_conformed(data, spec) if conformed else conform(spec.name, data, vendor=vendor)
        _check_partition_rows(rows, spec, day, vendor)
        return self._stage_conformed(spec, day, rows, vendor=vendor, mode=mode, guard=guard)

    def write_partitions(
        self,
        table: str,
        data: pd.DataFrame | pa.Table,
        *,
        vendor: str | None = None,
        mode: WriteMode = "replace",
        conformed: bool = False,
        guard: RevisionGuard | None = None,
    ) -> list[WriteResult]:
        """Split a multi-session payload by the partition column and write each session (date order).

        Conformance is checked on the whole payload first, so a SchemaViolation anywhere leaves
        every partition untouched (conformed=True: the caller already ran ``schemas.conform``;
        only the exact schema is checked). The split is one Arrow sort plus slices (no per-row Python).
        """
        return [s.commit() for s in self.stage_partitions(table, data, vendor=vendor, mode=mode, conformed=conformed, guard=guard)]

    def stage_partitions(
        self,
        table: str,
        data: pd.DataFrame | pa.Table,
        *,
        vendor: str | None = None,
        mode: WriteMode = "replace",
        conformed: bool = False,
        guard: RevisionGuard | None = None,
    ) -> Iterator[StagedWrite]:
        """`write_partitions` as a generator of staged versions, one per session in date order.

        Each yielded StagedWrite holds its partition's lock until the caller commits or aborts it,
        so a caller can record something durable (the ledger rows) for a batch of partitions
        before any of them becomes visible. The payload is conformed before the first yield.
        """
        spec = table_spec(table)
        _check_mode(mode)
        rows = _already_conformed(data, spec) if conformed else conform(spec.name, data, vendor=vendor)
        if rows.num_rows == 0:
            return iter(())
        ordered = _partition_order(_constant_strings(rows, spec), spec)
        days = ordered.column(spec.partition_column).combine_chunks().view(pa.int32()).to_numpy()
        starts = np.concatenate([[0], np.flatnonzero(np.diff(days)) + 1])
        ends = np.concatenate([starts[1:], [len(days)]])
        epoch = dt.date(1970, 1, 1)
        days_written = [epoch + dt.timedelta(days=int(days[lo])) for lo in starts.tolist()]
        self._store.makedirs_many([self.partition_dir(spec.name, day) for day in days_written])  # one fsync per parent

        def staged() -> Iterator[StagedWrite]:
            for lo, hi in zip(starts.tolist(), ends.tolist()):  # one iteration per partition
                day = epoch + dt.timedelta(days=int(days[lo]))
                part = ordered.slice(lo, hi - lo)
                yield self._stage_conformed(spec, day, part, vendor=vendor, mode=mode, presorted=True, guard=guard)

        return staged()

    def _stage_conformed(
        self,
        spec: TableSpec,
        day: dt.date,
        incoming: pa.Table,
        *,
        vendor: str | None,
        mode: WriteMode,
        presorted: bool = False,
        guard: RevisionGuard | None = None,
    ) -> StagedWrite:
        store = self._store
        pdir = store.join(self.table_dir(spec.name), f"date={day.isoformat()}")
        store.makedirs(pdir)
        release = store.acquire(pdir)
        tmp: str | None = None
        try:
            for name in store.listdir(pdir):  # only dead writers leave tmp files behind a free lock
                if name.startswith(TMP_PREFIX):
                    store.remove(store.join(pdir, name))
            committed = self._committed(pdir)
            entries = {v: e for v, e in self._load_manifest(pdir).items() if v in committed}
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
            final = self._version_path(pdir, version)
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
            self._save_manifest(pdir, spec, day, entries)
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

    def accept_version(self, table: str, partition: PartitionLike, version: int | None = None) -> VersionInfo:
        """Accept a version flagged for review (default: the latest): its review gets ``accepted_at``.

        Only the manifest changes (atomically); the version files are untouched. Raises ValueError
        when the version does not exist or carries no review.
        """
        spec = table_spec(table)
        day = as_partition_date(partition)
        pdir = self.partition_dir(spec.name, day)
        with self._store.lock(pdir):
            committed = self._committed(pdir)
            entries = {v: e for v, e in self._load_manifest(pdir).items() if v in committed}
            v = max(committed) if version is None and committed else version
            if v not in entries:
                raise ValueError(f"{spec.name} partition {day} has no version {version}; committed versions: {sorted(committed)}")
            if not entries[v].get("review"):
                raise ValueError(f"{spec.name} partition {day} version {v} is not flagged for review")
            entries[v]["review"] = {**entries[v]["review"], "accepted_at": dt.datetime.now(dt.UTC).isoformat()}
            self._save_manifest(pdir, spec, day, entries)
        return next(info for info in self.versions(spec.name, day) if info.version == v)

    def pending_reviews(self, table: str, partitions: Sequence[PartitionLike]) -> dict[dt.date, dict]:
        """Partitions whose latest version carries a review not yet accepted -> that review (+ its version).

        One manifest read per partition that has a committed version.
        """
        spec = table_spec(table)
        out: dict[dt.date, dict] = {}
        for partition in partitions:
            day = as_partition_date(partition)
            pdir = self.partition_dir(spec.name, day)
            committed = self._committed(pdir)
            if not committed:
                continue
            latest = max(committed)
            review = _pending_review(self._load_manifest(pdir).get(latest))
            if review is not None:
                out[day] = {**review, "version": latest}
        return out

    # ---- reading -----------------------------------------------------------------------------

    def _read_file(self, path: str, spec: TableSpec) -> pa.Table:
        return pq.read_table(self._store.open_for_parquet(path)).cast(spec.schema)

    def read_partition(self, table: str, partition: PartitionLike, version: int | None = None) -> pa.Table:
        """One partition's rows in key order: the latest version, or `version`; empty with schema when absent."""
        spec = table_spec(table)
        pdir = self.partition_dir(spec.name, partition)
        committed = self._committed(pdir)
        if version is None:
            if not committed:
                return spec.schema.empty_table()
            return self._read_file(committed[max(committed)], spec)
        if version not in committed:
            raise ValueError(
                f"{spec.name} partition {as_partition_date(partition)} has no version {version}; "
                f"committed versions: {sorted(committed)}"
            )
        return self._read_file(committed[version], spec)

    def partitions(self, table: str) -> list[dt.date]:
        """Partition dates of a table that hold at least one committed version, ascending."""
        return sorted(self._latest_files(table_spec(table)))

    def _latest_files(self, spec: TableSpec) -> dict[dt.date, str]:
        tdir = self.table_dir(spec.name)
        out = {}
        for name, files in self._store.list_tree(tdir).items():
            m = _PARTITION_RE.match(name)
            versions = [int(v.group(1)) for v in map(_VERSION_RE.match, files) if v]
            if m and versions:
                out[dt.date.fromisoformat(m.group(1))] = self._version_path(
                    self._store.join(tdir, name), max(versions)
                )
        return out

    def read(
        self,
        table: str,
        start: PartitionLike | None = None,
        end: PartitionLike | None = None,
        symbols: Sequence[str] | str | None = None,
        columns: Sequence[str] | None = None,
        version: int | None = None,
    ) -> pa.Table:
        """Latest versions of the partitions in the closed range [start, end], via DuckDB.

        `symbols` filters on the table's symbol column (a single string means one symbol);
        `columns` selects and orders the output columns. Rows come ordered by partition then key,
        typed exactly as the table schema. `version` reads that committed version of ONE partition
        instead of its latest (start = the partition, end omitted or equal): older versions stay
        readable after a revision (see `versions`).
        """
        spec = table_spec(table)
        lo = as_partition_date(start, "start") if start is not None else None
        hi = as_partition_date(end, "end") if end is not None else None
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"end {hi} is before start {lo}")
        if version is not None:
            if lo is None or (hi is not None and hi != lo):
                raise ValueError("version= reads one partition: give start=<partition> (and end omitted or equal)")
            hi = lo
        cols = list(spec.schema.names) if columns is None else list(columns)
        unknown = [c for c in cols if c not in spec.schema.names]
        if unknown or not cols:
            raise ValueError(
                f"unknown or no columns {unknown or cols} for {spec.name}; known: {spec.schema.names}"
            )
        if len(set(cols)) != len(cols):
            raise ValueError(f"duplicate columns requested: {cols}")
        out_schema = pa.schema([spec.schema.field(c) for c in cols])
        sym_list: list[str] | None = None
        if symbols is not None:
            if spec.symbol_column is None:
                raise ValueError(f"{spec.name} has no symbol column; symbols filter is not applicable")
            sym_list = [symbols] if isinstance(symbols, str) else [str(s) for s in symbols]
            if not sym_list:
                return out_schema.empty_table()

        if version is not None:
            committed = self._committed(self.partition_dir(spec.name, lo))
            if version not in committed:
                raise ValueError(
                    f"{spec.name} partition {lo} has no version {version}; committed versions: {sorted(committed)}"
                )
            files = [committed[version]]
        else:
            files = [
                p
                for d, p in sorted(self._latest_files(spec).items())
                if (lo is None or d >= lo) and (hi is None or d <= hi)
            ]
        if not files:
            return out_schema.empty_table()

        select = ", ".join(_quote(c) for c in cols)
        order = ", ".join(_quote(c) for c in (spec.partition_column, *spec.key))
        params: dict[str, object] = {"files": [self._store.duckdb_path(f) for f in files]}
        where = ""
        if sym_list is not None:
            where = f"WHERE list_contains($symbols, {_quote(spec.symbol_column)})"
            params["symbols"] = sym_list
        query = f"SELECT {select} FROM read_parquet($files, hive_partitioning=false) {where} ORDER BY {order}"
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone='UTC'")
            self._store.register(con)
            result = con.sql(query, params=params).to_arrow_table()
        finally:
            con.close()
        return result.cast(out_schema)

    # ---- ledger ------------------------------------------------------------------------------

    def versions(self, table: str, partition: PartitionLike) -> list[VersionInfo]:
        """Committed versions of a partition with their recorded checksums, oldest first."""
        spec = table_spec(table)
        pdir = self.partition_dir(spec.name, partition)
        committed = self._committed(pdir)
        entries = self._load_manifest(pdir)
        return [
            VersionInfo(
                version=v,
                path=committed[v],
                row_count=int(entries[v]["row_count"]),
                sha256=entries[v]["sha256"],
                content_hash=entries[v]["content_hash"],
                created_at=dt.datetime.fromisoformat(entries[v]["created_at"]),
                vendor=entries[v].get("vendor"),
                mode=entries[v].get("mode"),
                previous_version=entries[v].get("previous_version"),
                previous_rows=int(entries[v].get("previous_rows", 0)),
                revised_rows=int(entries[v].get("revised_rows", 0)),
                review=entries[v].get("review"),
            )
            for v in sorted(committed)
            if v in entries
        ]

    def verify_partition(self, table: str, partition: PartitionLike) -> bool:
        """True when the latest version's bytes hash to the sha256 in the manifest.

        False (qc code CHECKSUM_MISMATCH) when they differ, when the latest file has no manifest
        entry, or when the partition has no committed version at all.
        """
        spec = table_spec(table)
        pdir = self.partition_dir(spec.name, partition)
        committed = self._committed(pdir)
        if not committed:
            return False
        latest = max(committed)
        entry = self._load_manifest(pdir).get(latest)
        if entry is None:
            return False
        return hashlib.sha256(self._store.read_bytes(committed[latest])).hexdigest() == entry["sha256"]


def _pending_review(entry: dict | None) -> dict | None:
    """The review of a manifest entry while it is not accepted, else None."""
    review = (entry or {}).get("review")
    return dict(review) if review and not review.get("accepted_at") else None


def _check_mode(mode: str) -> None:
    if mode not in ("replace", "merge"):
        raise ValueError(f"mode must be 'replace' or 'merge', got {mode!r}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'

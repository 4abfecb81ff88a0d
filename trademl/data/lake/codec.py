"""The lake's codec: canonical ordering, content hash, deterministic Parquet serialisation, verification.

One concern: turning a partition's rows into bytes and back-checking them. `content_hash` is the
identity of content (BLAKE3 of the data columns in key order, independent of row order, chunking
and one-value encodings); `serialise` writes the same rows to the same bytes (fixed writer
settings); `_verify_bytes` checks a written file against what was serialised.
"""

from __future__ import annotations

import hashlib
import json

import blake3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trademl.schemas import VOLATILE_COLUMNS, TableSpec

CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"

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

"""The Lake API: versioned, checksummed Parquet partitions of the SSOT tables under one root.

One concern: the public face of the partition store (layout, write/stage, reviews, reads via
DuckDB, versions and verification), built on `store` (back ends), `codec` (bytes and hashes),
`rows` (row-level checks), `manifest` (the version record) and `staging` (the commit algorithm).
The guarantees are described in the package docstring (`trademl.data.lake`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Sequence
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from trademl.data.lake.codec import _constant_strings
from trademl.data.lake.manifest import (
    _PARTITION_RE,
    _VERSION_RE,
    VersionInfo,
    _pending_review,
    committed_versions,
    load_manifest,
    save_manifest,
    version_path,
)
from trademl.data.lake.rows import PartitionLike, _already_conformed, _check_partition_rows, _partition_order, as_partition_date
from trademl.data.lake.staging import RevisionGuard, StagedWrite, WriteMode, WriteResult, stage_version
from trademl.data.lake.store import _open_store
from trademl.schemas import TABLES, TableSpec, conform, table_spec

ReadOrder = Literal["partition", "symbol"]


class EmptyLakeError(ValueError):
    """A data root that holds no lake table at all (wrong TRADEML_DATA_ROOT, or nothing stored yet)."""

    @classmethod
    def at(cls, root: str) -> EmptyLakeError:
        """The one-line error of the readers (`trademl.read`, `trademl sql`) for an empty root."""
        return cls(
            f"the lake at {root} holds no table yet (known tables: {', '.join(TABLES)}); run `trademl demo` "
            "or `trademl ingest`, or point TRADEML_DATA_ROOT at the data root that holds your lake"
        )


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
        return stage_version(store, pdir, spec, day, incoming, vendor=vendor, mode=mode, presorted=presorted, guard=guard)

    def accept_version(self, table: str, partition: PartitionLike, version: int | None = None) -> VersionInfo:
        """Accept a version flagged for review (default: the latest): its review gets ``accepted_at``.

        Only the manifest changes (atomically); the version files are untouched. Raises ValueError
        when the version does not exist or carries no review.
        """
        spec = table_spec(table)
        day = as_partition_date(partition)
        pdir = self.partition_dir(spec.name, day)
        with self._store.lock(pdir):
            committed = committed_versions(self._store, pdir)
            entries = {v: e for v, e in load_manifest(self._store, pdir).items() if v in committed}
            v = max(committed) if version is None and committed else version
            if v not in entries:
                raise ValueError(f"{spec.name} partition {day} has no version {version}; committed versions: {sorted(committed)}")
            if not entries[v].get("review"):
                raise ValueError(f"{spec.name} partition {day} version {v} is not flagged for review")
            entries[v]["review"] = {**entries[v]["review"], "accepted_at": dt.datetime.now(dt.UTC).isoformat()}
            save_manifest(self._store, pdir, spec, day, entries)
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
            committed = committed_versions(self._store, pdir)
            if not committed:
                continue
            latest = max(committed)
            review = _pending_review(load_manifest(self._store, pdir).get(latest))
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
        committed = committed_versions(self._store, pdir)
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

    def latest_files(
        self, table: str, start: PartitionLike | None = None, end: PartitionLike | None = None
    ) -> list[str]:
        """DuckDB-readable paths of the latest version of each partition in [start, end], date order.

        What every reader of "the table as it stands" scans: `read`, and the SQL views of
        `trademl.data.lake.sql`. Older versions (vendor revisions) are never among them.
        """
        spec = table_spec(table)
        lo = as_partition_date(start, "start") if start is not None else None
        hi = as_partition_date(end, "end") if end is not None else None
        return [
            self._store.duckdb_path(p)
            for d, p in sorted(self._latest_files(spec).items())
            if (lo is None or d >= lo) and (hi is None or d <= hi)
        ]

    def stored_tables(self) -> list[str]:
        """SSOT names of the tables with at least one partition directory under the root, catalog order.

        One directory listing per table (partitions are not opened): the cheap "is there a lake
        here at all" test behind the readers' empty-lake error.
        """
        return [name for name in TABLES if self._store.listdir(self.table_dir(name))]

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make the root's files readable by `con` (registers an fsspec filesystem; nothing for a local root)."""
        self._store.register(con)

    def _latest_files(self, spec: TableSpec) -> dict[dt.date, str]:
        tdir = self.table_dir(spec.name)
        out = {}
        for name, files in self._store.list_tree(tdir).items():
            m = _PARTITION_RE.match(name)
            versions = [int(v.group(1)) for v in map(_VERSION_RE.match, files) if v]
            if m and versions:
                out[dt.date.fromisoformat(m.group(1))] = version_path(self._store, 
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
        order: ReadOrder = "partition",
    ) -> pa.Table:
        """Latest versions of the partitions in the closed range [start, end], via DuckDB.

        `symbols` filters on the table's symbol column (a single string means one symbol);
        `columns` selects and orders the output columns. Rows come typed exactly as the table
        schema, ordered by partition then key (order="partition", the layout on disk: every symbol
        of a session, session after session) or by symbol then partition then the rest of the key
        (order="symbol": one contiguous, time-ordered block per symbol, the panel layout the
        indicator and label functions expect; tables without a symbol column keep partition order).
        `version` reads that committed version of ONE partition instead of its latest (start = the
        partition, end omitted or equal): older versions stay readable after a revision (see `versions`).
        """
        spec = table_spec(table)
        if order not in ("partition", "symbol"):
            raise ValueError(f"order must be 'partition' or 'symbol', got {order!r}")
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
            committed = committed_versions(self._store, self.partition_dir(spec.name, lo))
            if version not in committed:
                raise ValueError(
                    f"{spec.name} partition {lo} has no version {version}; committed versions: {sorted(committed)}"
                )
            files = [self._store.duckdb_path(committed[version])]
        else:
            files = self.latest_files(spec.name, lo, hi)
        if not files:
            return out_schema.empty_table()

        select = ", ".join(_quote(c) for c in cols)
        order_by = ", ".join(_quote(c) for c in _order_columns(spec, order))
        params: dict[str, object] = {"files": files}
        where = ""
        if sym_list is not None:
            where = f"WHERE list_contains($symbols, {_quote(spec.symbol_column)})"
            params["symbols"] = sym_list
        query = f"SELECT {select} FROM read_parquet($files, hive_partitioning=false) {where} ORDER BY {order_by}"
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
        committed = committed_versions(self._store, pdir)
        entries = load_manifest(self._store, pdir)
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
        committed = committed_versions(self._store, pdir)
        if not committed:
            return False
        latest = max(committed)
        entry = load_manifest(self._store, pdir).get(latest)
        if entry is None:
            return False
        return hashlib.sha256(self._store.read_bytes(committed[latest])).hexdigest() == entry["sha256"]


def _check_mode(mode: str) -> None:
    if mode not in ("replace", "merge"):
        raise ValueError(f"mode must be 'replace' or 'merge', got {mode!r}")


def _order_columns(spec: TableSpec, order: ReadOrder) -> list[str]:
    """The ORDER BY columns of a read: (partition, *key), or (symbol, partition, rest of key)."""
    by_symbol = order == "symbol" and spec.symbol_column is not None
    first = [spec.symbol_column, spec.partition_column] if by_symbol else [spec.partition_column]
    return list(dict.fromkeys([*first, *spec.key]))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'

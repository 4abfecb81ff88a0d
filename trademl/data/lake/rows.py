"""Row-level helpers of a partition write: partition keys, partition checks, ordering, merge, revision counts.

One concern: what a payload's rows mean relative to a partition and to its stored version
(which session they belong to, in which order they are written, how a merge unions them and
how many stored rows a new version drops or changes). Pure Arrow, no I/O.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl.schemas import METADATA_COLUMNS, SchemaViolation, TableSpec, sorted_by

PartitionLike = dt.date | str | pd.Timestamp | np.datetime64


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

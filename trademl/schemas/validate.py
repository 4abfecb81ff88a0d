"""Validation of vendor frames against a table's schema: `conform` and its vectorised checks.

`conform` casts a frame to the table's exact Arrow schema and raises `SchemaViolation` (naming vendor,
table, first offending symbol and session) for anything that breaks it; `sorted_by` is the
one-pass key-order test it uses to skip a uniqueness aggregation, also used by the lake and the
connectors to skip sorts. Kept apart from trademl.schemas.base because it looks tables up in the
catalog, which is built from the per-layer table modules that import base.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl.schemas.base import SchemaViolation, TableSpec
from trademl.schemas.catalog import table_spec


def _first_offender(spec: TableSpec, mask: pa.ChunkedArray | pa.Array, table: pa.Table) -> tuple[str | None, str | None]:
    idx = pc.index(pc.fill_null(mask, False), True).as_py()
    if idx is None or idx < 0:
        return None, None
    row = table.slice(idx, 1).to_pylist()[0]
    symbol = row.get(spec.symbol_column) if spec.symbol_column else None
    session = row.get(spec.partition_column)
    return (str(symbol) if symbol is not None else None), (str(session) if session is not None else None)


def conform(
    name: str,
    data: pd.DataFrame | pa.Table,
    *,
    vendor: str | None = None,
) -> pa.Table:
    """Cast a vendor frame to the table's exact schema and reject anything that violates it.

    Checks (vectorised): required columns present, types castable, non-nullable columns without
    nulls, positive/non-negative columns, OHLC consistency (low <= open, close <= high), quote
    sanity (bid <= ask), duplicate natural keys. Raises SchemaViolation naming vendor, table,
    the first offending symbol and session; nothing is written by this function.
    """
    spec = table_spec(name)
    name = spec.name
    if isinstance(data, pd.DataFrame):
        missing = [c for c in spec.schema.names if c not in data.columns]
        if missing:
            raise SchemaViolation(f"missing columns {missing}", table=name, vendor=vendor)
        try:
            table = pa.Table.from_pandas(data[spec.schema.names], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise SchemaViolation(f"column types do not convert: {exc}", table=name, vendor=vendor) from exc
    else:
        missing = [c for c in spec.schema.names if c not in data.column_names]
        if missing:
            raise SchemaViolation(f"missing columns {missing}", table=name, vendor=vendor)
        table = data.select(spec.schema.names)

    columns = []
    for fld in spec.schema:
        col = table.column(fld.name)
        if not col.type.equals(fld.type):
            try:
                if pa.types.is_timestamp(fld.type) and pa.types.is_timestamp(col.type) and col.type.tz is None:
                    raise SchemaViolation(
                        f"column {fld.name!r} has naive timestamps; UTC is required", table=name, vendor=vendor
                    )
                col = col.cast(fld.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise SchemaViolation(
                    f"column {fld.name!r} cannot be cast from {col.type} to {fld.type}: {exc}",
                    table=name,
                    vendor=vendor,
                ) from exc
        columns.append(col)
    loose = pa.schema([f.with_nullable(True) for f in spec.schema])
    table = pa.Table.from_arrays(columns, schema=loose)
    if table.num_rows == 0:
        return table.cast(spec.schema)

    for fld in spec.schema:
        if fld.nullable:
            continue
        col = table.column(fld.name)
        if not col.null_count and not pa.types.is_floating(fld.type):
            continue  # null counts are known without a pass; only floats need a NaN scan
        bad = pc.is_null(col, nan_is_null=pa.types.is_floating(fld.type))
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"null/NaN in required column {fld.name!r}", table=name, vendor=vendor, symbol=sym, session=ses)
    for col_name in spec.positive_columns:
        bad = pc.less_equal(table.column(col_name), 0)
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"non-positive {col_name}", table=name, vendor=vendor, symbol=sym, session=ses)
    for col_name in spec.nonnegative_columns:
        bad = pc.less(table.column(col_name), 0)
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation(f"negative {col_name}", table=name, vendor=vendor, symbol=sym, session=ses)
    if "ohlc" in spec.extra_checks:
        o, h, l, c = (table.column(x) for x in ("open", "high", "low", "close"))
        tol = pc.multiply(h, 1e-9)
        bad = pc.or_(
            pc.or_(pc.greater(l, pc.add(h, tol)), pc.greater(o, pc.add(h, tol))),
            pc.or_(pc.greater(c, pc.add(h, tol)), pc.or_(pc.less(pc.add(o, tol), l), pc.less(pc.add(c, tol), l))),
        )
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation("inconsistent OHLC (low > open/close or high < open/close)", table=name, vendor=vendor, symbol=sym, session=ses)
    if "quotes" in spec.extra_checks:
        bad = pc.greater(table.column("bid"), table.column("ask"))
        if pc.any(bad).as_py():
            sym, ses = _first_offender(spec, bad, table)
            raise SchemaViolation("crossed quote (bid > ask)", table=name, vendor=vendor, symbol=sym, session=ses)
        if not pc.all(pc.is_in(table.column("cp_flag"), value_set=pa.array(["C", "P"]))).as_py():
            raise SchemaViolation("cp_flag must be 'C' or 'P'", table=name, vendor=vendor)
    if "corp_actions" in spec.extra_checks:
        allowed = pa.array(["SPLIT", "DIVIDEND", "SPINOFF", "DELISTING", "SYMBOL_CHANGE"])
        if not pc.all(pc.is_in(table.column("event_type"), value_set=allowed)).as_py():
            raise SchemaViolation(f"event_type must be one of {allowed.to_pylist()}", table=name, vendor=vendor)
    if "vintage_session" in spec.extra_checks:
        _check_vintage_session(spec, table, vendor)
    _check_unique_key(spec, table, vendor)
    return table.cast(spec.schema)


def _check_vintage_session(spec: TableSpec, table: pa.Table, vendor: str | None) -> None:
    """Reject rows whose ``date`` is not the first session on or after their ``vintage_date``.

    A vintage published on a weekend or holiday belongs to the next session's partition, never
    to an earlier one (look-ahead) nor a later one (a value hidden from sessions that knew it).
    """
    from trademl import calendar  # the calendar loads exchange_calendars; only this check needs it

    vintage = table.column("vintage_date").cast(pa.timestamp("s")).to_numpy(zero_copy_only=False)
    expected = calendar.sessions_on_or_after(vintage).to_numpy().astype("datetime64[D]")
    stored = table.column("date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    bad = stored != expected
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = table.slice(i, 1).to_pylist()[0]
        raise SchemaViolation(
            f"vintage_date {row['vintage_date']} belongs to the session {expected[i]}, not date {row['date']}",
            table=spec.name, vendor=vendor, symbol=str(row.get(spec.symbol_column)), session=str(row["date"]),
        )


def sorted_by(table: pa.Table, keys: Sequence[str], *, strict: bool = False) -> bool:
    """Whether rows are in ascending order of `keys` (lexicographic; `strict`: no two rows share a key).

    One vectorised comparison of each row with the next, so callers can skip a sort (or a
    uniqueness check) for data that vendors already deliver in key order. Nulls count as unordered.
    """
    n = table.num_rows
    if n < 2:
        return True
    less = equal = None
    for name in keys:
        col = table.column(name)
        if col.null_count:
            return False
        col = col.combine_chunks()
        a, b = col.slice(0, n - 1), col.slice(1)
        k_less, k_equal = pc.less(a, b), pc.equal(a, b)
        if less is None:
            less, equal = k_less, k_equal
        else:
            less, equal = pc.or_(less, pc.and_(equal, k_less)), pc.and_(equal, k_equal)
        if not pc.all(pc.or_(less, equal)).as_py():
            return False  # a later key cannot repair a descent in the leading ones
    return bool(pc.all(less).as_py()) if strict else True


def _check_unique_key(spec: TableSpec, table: pa.Table, vendor: str | None) -> None:
    """Reject duplicate natural keys (a vendor sending the same bar twice is a malformed payload)."""
    if sorted_by(table, spec.key, strict=True):
        return  # strictly ascending keys are unique: no hash aggregation needed
    keys = table.select(list(spec.key))
    n_unique = keys.group_by(list(spec.key)).aggregate([]).num_rows
    if n_unique != table.num_rows:
        frame = keys.to_pandas()
        dup = frame[frame.duplicated(keep=False)].iloc[0]
        sym = str(dup[spec.symbol_column]) if spec.symbol_column and spec.symbol_column in dup else None
        ses = str(dup[spec.partition_column]) if spec.partition_column in dup else None
        raise SchemaViolation(f"duplicate key {tuple(spec.key)}", table=spec.name, vendor=vendor, symbol=sym, session=ses)

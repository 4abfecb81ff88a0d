"""Reading the lake from Python (a notebook, a script): `read(table, ...)` -> a pandas DataFrame.

One concern: the documented, user-facing way to look at stored data, on top of the one lake
reader (`Lake.read`). What it guarantees, so its output feeds the research functions directly:

* the latest version of every partition only (a vendor revision replaces what it revised; older
  versions stay readable with ``Lake.read(..., version=)`` or ``trademl lake read``);
* rows sorted by symbol, then session, then the rest of the table's key: one contiguous,
  time-ordered block per symbol, the long-panel layout `trademl.features.compute_indicator_set`
  and the label builders (`trademl.labels.build_label`) require (a partition holds every symbol
  of a session, so reading partitions in date order interleaves symbols);
* columns typed by the table's schema: ``date`` columns are ``datetime64`` session dates (no
  time zone, one per XNYS session), instants (``ts``, ``ingested_at``) are UTC-aware, prices
  float64, counts int64; the index is a fresh RangeIndex.

The data root is `trademl.config.settings().data_root` (``TRADEML_DATA_ROOT``) unless `root=` names
another one (a directory or an fsspec URL). An unknown table and a root that holds no lake table
at all are one-line ValueErrors naming what is known / where it looked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa

from trademl.config import settings
from trademl.data.lake import EmptyLakeError, Lake, PartitionLike
from trademl.schemas import table_spec

__all__ = ["EmptyLakeError", "read"]


def read(
    table: str,
    start: PartitionLike | None = None,
    end: PartitionLike | None = None,
    symbols: Sequence[str] | str | None = None,
    columns: Sequence[str] | None = None,
    *,
    root: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """The rows of `table` in the closed session range [start, end], as a pandas DataFrame.

    `table` is an SSOT name (``raw/equities_bars``) or a dataset name (``equities_eod``); `start`
    and `end` are session dates (``"2025-03-03"``, a date or a midnight Timestamp; None = open
    end); `symbols` keeps those symbols (a string means one; on tables keyed by another name the
    table's symbol column: ``underlier`` for options, ``series_id`` for macros); `columns` selects
    and orders the output columns. Latest version of each partition only, sorted by symbol then
    time (see the module docstring), e.g.

    >>> bars = trademl.read("raw/equities_bars", "2025-01-02", "2025-06-30", symbols=["SYN001", "SYN002"])  # doctest: +SKIP
    >>> compute_indicator_set(bars, load_indicator_set("minimal"))  # doctest: +SKIP

    A table with no stored partition in the range gives an empty frame with the selected
    columns. Raises ValueError for an unknown table or column, and EmptyLakeError (a ValueError)
    when the root holds no lake table at all.
    """
    spec = table_spec(table)  # unknown table: ValueError listing the known tables and datasets
    lake = Lake(settings().data_root if root is None else root)
    rows = lake.read(spec.name, start=start, end=end, symbols=symbols, columns=columns, order="symbol")
    if rows.num_rows == 0 and not lake.stored_tables():
        raise EmptyLakeError.at(lake.root)
    return _to_frame(rows)


def _to_frame(rows: pa.Table) -> pd.DataFrame:
    """Arrow rows -> pandas: session dates as datetime64[ns] (not Python date objects), strings as object."""
    frame = rows.to_pandas(date_as_object=False)
    for field in rows.schema:
        if pa.types.is_date32(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[ns]")
    return frame

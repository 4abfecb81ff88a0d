"""A temporary lake with raw bars, corporate actions and delistings for the curate storage tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.data.lake import Lake
from trademl.schemas.base import session_id, with_metadata

META = {"source_name": "test", "source_uri": "test://curate", "api_version": "1",
        "ingested_at": pd.Timestamp("2024-01-01", tz="UTC")}


def write_bars(lake: Lake, frame: pd.DataFrame) -> None:
    """Write as-traded bars (symbol, date, open, high, low, close, volume) to raw/equities_bars."""
    rows = frame.assign(date=pd.to_datetime(frame["date"]).dt.date, vwap=frame["close"], nbbo_spread=np.nan,
                        trades=pd.array([None] * len(frame), dtype="Int64"), session_id=session_id(frame["date"]).to_numpy())
    lake.write_partitions("raw/equities_bars", with_metadata(rows, **META))


def write_events(lake: Lake, frame: pd.DataFrame, sessions: list | None = None) -> None:
    """Write events (symbol, event_type, ex_date, ratio, amount) to reference/corp_actions; `sessions`
    also get an empty partition when they hold no event (a session checked and found empty)."""
    rows = frame.assign(ex_date=pd.to_datetime(frame["ex_date"]).dt.date)
    rows = rows.assign(date=rows["ex_date"], record_date=None, pay_date=None, source_priority=np.int32(1))
    if len(rows):
        lake.write_partitions("reference/corp_actions", with_metadata(rows, **META))
    for day in sessions or []:
        if day not in set(rows["ex_date"]):
            lake.write_partition("reference/corp_actions", day, with_metadata(rows.iloc[:0], **META))


def write_delistings(lake: Lake, frame: pd.DataFrame) -> None:
    """Write delistings (symbol, delist_date, reason) to reference/delistings."""
    rows = frame.assign(delist_date=pd.to_datetime(frame["delist_date"]).dt.date)
    rows = rows.assign(date=rows["delist_date"], source_priority=np.int32(1))
    lake.write_partitions("reference/delistings", with_metadata(rows, **META))


def partition_bytes(lake: Lake, table: str) -> dict:
    """{partition date: bytes of its latest version file} of a table."""
    out = {}
    for day in lake.partitions(table):
        info = lake.versions(table, day)[-1]
        with open(info.path, "rb") as fh:
            out[day] = fh.read()
    return out


def copy_lake(src, dst) -> Lake:
    """A copy of the lake directory at `src` under `dst` (cheaper than writing it again: no fsyncs)."""
    import shutil

    shutil.copytree(src, dst)
    return Lake(dst)

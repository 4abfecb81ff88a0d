"""Ledger rows for the training-gate tests: one partition_status row per (table, session) with a status."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trademl.data import control


def write_ledger(engine, table: str, statuses: dict[dt.date, str]) -> None:
    """Upsert `table`'s whole-table ledger rows: GREEN rows carry no QC code, every other status code "X"."""
    control.upsert_partition_status(engine, pd.DataFrame([
        {"source_name": "t", "table_name": table, "symbol": None, "dt": pd.Timestamp(d), "partition_key": None,
         "status": s, "qc_score": 1.0, "row_count": 1, "expected_rows": None, "qc_code": None if s == "GREEN" else "X"}
        for d, s in statuses.items()
    ]))

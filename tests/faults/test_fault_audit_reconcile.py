"""Stored partitions the ledger never heard of are reconciled by QC, not re-fetched (issue 8.4).

A run killed after committing partitions to the lake but before writing their partition_status
rows leaves exactly this state: files in the lake, no ledger rows. The test builds it for real
(a real `trademl ingest`, then the rows of those partitions deleted from the SQLite ledger, as the
kill leaves them) and runs the real `trademl audit gaps`: it must judge the stored partitions
by QC, record them (named for the vendor that stored them), count them in its report, and queue
no GAP task that would fetch them again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete

from trademl.data import control
from trademl.config import settings
from trademl.data.lake import Lake

TRADEML = Path(sys.executable).with_name("trademl")
SESSIONS = ("2025-03-03", "2025-03-14")  # 10 sessions of 6 symbols
UNRECORDED_FROM = "2025-03-07"  # the ledger lost the rows of the last 6 sessions


def _trademl(*argv: str, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(TRADEML), *argv], env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def crashed(node):
    """A GREEN ingest whose ledger rows of the sessions from UNRECORDED_FROM on are gone."""
    _trademl("ingest", "--dataset", "equities_eod", "--start", SESSIONS[0], "--end", SESSIONS[1])
    engine = control.make_engine(settings().db_uri)
    ps = control.partition_status
    with control.write_transaction(engine) as conn:
        conn.execute(delete(ps).where(ps.c.dt >= dt.date.fromisoformat(UNRECORDED_FROM)))
    assert json.loads(_trademl("status", "--json").stdout)["tables"]["raw/equities_bars"]["GREEN"] == 4 * 6
    return engine


def test_stored_partitions_without_ledger_rows_are_reconciled_by_qc_and_counted(node, crashed):
    lake = Lake(node["data_root"])
    before = {d: [v.sha256 for v in lake.versions("raw/equities_bars", d)] for d in lake.partitions("raw/equities_bars")}
    out = _trademl("audit", "gaps", "--tables", "equities_eod", "--start", SESSIONS[0], "--end", SESSIONS[1]).stdout
    assert "0 new GAP task(s), reconciled 6 stored partition(s) that had no ledger rows" in out

    assert json.loads(_trademl("status", "--json").stdout)["tables"]["raw/equities_bars"] == {"GREEN": 60, "AMBER": 0, "RED": 0}
    assert control.read_queue(crashed).empty  # nothing to fetch again
    after = {d: [v.sha256 for v in lake.versions("raw/equities_bars", d)] for d in lake.partitions("raw/equities_bars")}
    assert after == before  # no partition was fetched or written again


def test_reconciled_ledger_rows_name_the_vendor_that_stored_the_partitions(node, crashed):
    ps = control.partition_status
    with control.write_transaction(crashed) as conn:
        conn.execute(delete(ps))  # the kill came before the first ledger upsert
    # The node's default vendor is now another one; the partitions were stored by the synthetic vendor.
    _trademl("audit", "gaps", "--tables", "equities_eod", "--start", SESSIONS[0], "--end", SESSIONS[1], TRADEML_VENDOR="massive")
    rows = control.read_partition_status(crashed, table_name="raw/equities_bars")
    assert len(rows) == 60 and set(rows["status"]) == {"GREEN"}
    assert set(rows["source_name"]) == {"synthetic"}

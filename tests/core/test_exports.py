"""The nightly export writes the ledger, the queue and a coverage summary for one day."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from trademl.data import control
from trademl.data.exports import nightly_export
from trademl.data.lake import Lake


def test_nightly_export_writes_ledger_queue_and_coverage(tmp_path):
    engine = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    rows = pd.DataFrame(
        {
            "source_name": ["synthetic", "synthetic"],
            "table_name": ["raw/equities_bars", "raw/equities_bars"],
            "symbol": ["AAA", "BBB"],
            "dt": [dt.date(2025, 3, 3)] * 2,
            "partition_key": ["2025-03-03"] * 2,
            "status": ["GREEN", "RED"],
            "qc_score": [1.0, 0.0],
            "row_count": [1, 0],
            "expected_rows": [1, 1],
            "qc_code": ["OK", "NO_DATA"],
        }
    )
    control.upsert_partition_status(engine, rows)
    control.enqueue_tasks(
        engine, [{"dataset": "equities_eod", "symbol": "BBB", "start_date": "2025-03-03", "end_date": "2025-03-04", "kind": "GAP"}]
    )
    out = nightly_export(Lake(tmp_path / "lake"), engine, dt.date(2025, 3, 4))
    assert out == tmp_path / "lake" / "exports" / "nightly" / "2025-03-04"
    status = pd.read_parquet(out / "partition_status.parquet")
    assert sorted(status["status"]) == ["GREEN", "RED"]
    queue = pd.read_parquet(out / "backfill_queue.parquet")
    assert queue["symbol"].tolist() == ["BBB"]
    coverage = json.loads((out / "coverage.json").read_text())
    assert coverage["tables"]["raw/equities_bars"] == {"GREEN": 1, "AMBER": 0, "RED": 1}
    assert coverage["queue"]["PENDING"] == 1
    assert not list(out.glob(".*tmp"))  # no temporary file left behind

"""Nightly export (SSOT 5.1 MaintenanceLoop): the QC ledger, queue and coverage for a workstation pull."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from trademl.data import control
from trademl.data.lake import Lake


def nightly_export(lake: Lake, engine: Engine, day: dt.date, out_root: Path | None = None) -> Path:
    """Write exports/nightly/YYYY-MM-DD/: partition_status.parquet, backfill_queue.parquet, coverage.json.

    Files are written to temporary names and renamed, so a puller never reads a half-written
    export; re-running the same day replaces that day's export.
    """
    root = Path(out_root) if out_root is not None else Path(str(lake.root)) / "exports"
    out = root / "nightly" / day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    status = control.read_partition_status(engine)
    queue = control.read_queue(engine)
    coverage = {
        "asof": day.isoformat(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "tables": control.status_counts(engine),
        "queue": control.queue_counts(engine),
    }
    _atomic_parquet(status, out / "partition_status.parquet")
    _atomic_parquet(queue, out / "backfill_queue.parquet")
    tmp = out / ".coverage.json.tmp"
    tmp.write_text(json.dumps(coverage, indent=2, sort_keys=True))
    os.replace(tmp, out / "coverage.json")
    return out


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False, compression="zstd")
    os.replace(tmp, path)

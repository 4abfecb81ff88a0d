"""Control-plane speed: partition_status upserts, audit_scan and leasing at data-node scale.

500 symbols x 1,260 sessions (5 years) of daily bars: 630k ledger rows. Measures, on a fresh
SQLite control db (WAL) in a temp dir:
  * upsert of the 630k rows (insert path), then again (update path);
  * read_partition_status of everything and status_counts;
  * audit_scan of raw/equities_bars over a real lake of the same size (checksums verified,
    expected symbols from reference/universe), with one gap planted;
  * leasing + completing 1,000 tasks one at a time.
Run: .venv/bin/python benchmarks/bench_control.py [--symbols 500 --sessions 1260]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trademl import calendar

from trademl.data import backfill, control, qc  # noqa: E402
from trademl.data.lake import Lake  # noqa: E402
from trademl.schemas import session_id, with_metadata  # noqa: E402

END = "2025-06-30"
INGESTED_AT = pd.Timestamp("2025-07-01 00:00", tz="UTC")


def _timed(label: str, results: list, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    results.append((label, time.perf_counter() - t0))
    return out


def _meta(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return with_metadata(frame, source_name="synthetic", source_uri=f"bench://{dataset}", api_version="bench", ingested_at=INGESTED_AT)


def _grid(days: pd.DatetimeIndex, symbols: list[str]) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([days, symbols], names=["date", "symbol"])
    return idx.to_frame(index=False)


def bars(days: pd.DatetimeIndex, symbols: list[str]) -> pd.DataFrame:
    frame = _grid(days, symbols)
    n = len(frame)
    close = 50.0 + np.random.default_rng(0).random(n) * 100
    frame["open"] = close
    frame["high"] = close * 1.01
    frame["low"] = close * 0.99
    frame["close"] = close
    frame["vwap"] = close
    frame["volume"] = np.full(n, 1_000, dtype="int64")
    frame["nbbo_spread"] = 0.01
    frame["trades"] = np.full(n, 10, dtype="int64")
    frame["session_id"] = session_id(frame["date"]).to_numpy()
    frame["date"] = frame["date"].dt.date
    return _meta(frame, "equities_eod")


def universe(days: pd.DatetimeIndex, symbols: list[str]) -> pd.DataFrame:
    frame = _grid(days, symbols)
    frame["is_listed"] = True
    frame["is_eligible"] = True
    frame["listed_date"] = dt.date(2000, 1, 3)
    frame["delist_date"] = None
    frame["share_class"] = "common"
    frame["sector"] = "bench"
    frame["exclusion_reason"] = None
    frame["date"] = frame["date"].dt.date
    return _meta(frame, "universe")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=1260)
    ap.add_argument("--tasks", type=int, default=1000)
    args = ap.parse_args()
    os.environ.setdefault("TRADEML_VENDOR", "synthetic")

    days = calendar.sessions(calendar.previous_session(END, args.sessions + 5), END)[-args.sessions:]
    symbols = [f"S{i:04d}" for i in range(args.symbols)]
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench_control_") as tmp:
        root = Path(tmp)
        engine = control.make_engine(f"sqlite:///{root}/control/node.sqlite")

        # ---- ledger rows built by qc over stored counts (every symbol-day complete) ----
        counts = _grid(days, symbols).rename(columns={"date": "dt"})
        counts["dt"] = counts["dt"].dt.date
        counts["rows"] = 1
        expected = counts[["dt", "symbol"]]
        sessions = [d.date() for d in days]
        rows = _timed(
            "qc.evaluate_partitions (630k rows)" if args.symbols * args.sessions == 630_000 else "qc.evaluate_partitions",
            results,
            qc.evaluate_partitions,
            "raw/equities_bars",
            sessions,
            counts,
            source_name="synthetic",
            expected=expected,
        )
        n_rows = len(rows)
        _timed("upsert_partition_status (insert)", results, control.upsert_partition_status, engine, rows)
        _timed("upsert_partition_status (update)", results, control.upsert_partition_status, engine, rows)
        ledger = _timed("read_partition_status (all)", results, control.read_partition_status, engine)
        assert len(ledger) == n_rows
        _timed("status_counts", results, control.status_counts, engine)

        # ---- a real lake of the same size, one gap planted ----
        lake = Lake(root / "lake")
        t0 = time.perf_counter()
        lake.write_partitions("reference/universe", universe(days, symbols))
        frame = bars(days, symbols)
        gap = {days[100].date(), days[101].date()}
        lake.write_partitions("raw/equities_bars", frame[~frame["date"].isin(gap)])
        setup_s = time.perf_counter() - t0
        report = _timed(
            "audit_scan raw/equities_bars (5y, checksums on)",
            results,
            backfill.audit_scan,
            ["raw/equities_bars"],
            engine=engine,
            lake=lake,
            start=days[0].date(),
            end=days[-1].date(),
        )
        t = report.tables["raw/equities_bars"]
        assert (t.red, t.tasks_new) == (2, 1), str(report)
        _timed(
            "audit_scan again (idempotent, no new task)",
            results,
            backfill.audit_scan,
            ["raw/equities_bars"],
            engine=engine,
            lake=lake,
            start=days[0].date(),
            end=days[-1].date(),
        )

        # ---- leasing ----
        first = dt.date(2000, 1, 1)
        tasks = [
            {"dataset": "equities_eod", "start_date": first + dt.timedelta(days=i), "end_date": first + dt.timedelta(days=i + 1),
             "kind": "GAP", "vendor": "synthetic"}
            for i in range(args.tasks)
        ]
        _timed(f"enqueue_tasks ({args.tasks})", results, control.enqueue_tasks, engine, tasks)

        def lease_and_complete() -> int:
            n = 0
            while True:
                leased = backfill.lease_tasks(engine, "bench", n=1)
                if not leased:
                    return n
                backfill.complete_task(engine, leased[0].id, "bench")
                n += 1

        n_done = _timed(f"lease + complete one at a time ({args.tasks + 1})", results, lease_and_complete)
        engine.dispose()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"control plane: {args.symbols} symbols x {args.sessions} sessions = {n_rows:,} ledger rows (SQLite WAL)")
    print(f"{'step':<52} {'seconds':>9}")
    for label, secs in results:
        print(f"{label:<52} {secs:>9.2f}")
    print(f"{'(lake setup: write universe + bars, not timed above)':<52} {setup_s:>9.2f}")
    lease_s = results[-1][1]
    print(f"lease+complete: {n_done / lease_s:,.0f} tasks/s; peak RSS {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

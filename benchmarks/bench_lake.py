"""Lake throughput: bulk daily-bar writes, DuckDB reads and one session of minute bars.

Runs each case in its own child process so the peak resident memory (ru_maxrss) is per case.
Cases:
  daily_write    1,260 XNYS sessions x 500 symbols of raw/equities_bars through write_partitions
  daily_noop     the same payload again (every partition an identical re-ingest)
  daily_read     read() of all 1,260 partitions (DuckDB over the latest files)
  daily_read_f   read() of one year for 50 symbols, 4 columns
  minute_write   one session of raw/equities_minute, 500 symbols x 390 minutes, write_partition
  minute_read    read_partition of that session

usage: .venv/bin/python benchmarks/bench_lake.py [--root DIR] [--sessions 1260] [--symbols 500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

from trademl import calendar
from trademl.data.lake import Lake
from trademl.schemas import table_spec

INGESTED_AT = np.datetime64("2024-06-03T21:00:00", "us")


def _metadata(n: int) -> dict[str, pa.Array]:
    ts = pa.timestamp("us", tz="UTC")
    return {
        "ingested_at": pa.array(np.full(n, INGESTED_AT), ts),
        "source_name": pa.array(np.full(n, "synthetic", dtype=object), pa.string()),
        "source_uri": pa.array(np.full(n, "synthetic://bench", dtype=object), pa.string()),
        "vendor_ts": pa.nulls(n, ts),
        "api_version": pa.array(np.full(n, "v1", dtype=object), pa.string()),
    }


def _ohlc(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    close = 50.0 * np.exp(rng.normal(0.0, 0.5, n))
    open_ = close * np.exp(rng.normal(0.0, 0.01, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, n))
    return {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "vwap": (open_ + high + low + close) / 4.0,
    }


def daily_bars(n_sessions: int, n_symbols: int, seed: int = 0) -> pa.Table:
    """Synthetic raw/equities_bars rows for n_sessions XNYS sessions x n_symbols (numpy-built)."""
    days = calendar.sessions("2019-01-02", "2026-12-31")[:n_sessions]
    rng = np.random.default_rng(seed)
    n = n_sessions * n_symbols
    day_idx = np.repeat(np.arange(n_sessions), n_symbols)
    symbols = pa.array([f"S{i:04d}" for i in range(n_symbols)]).take(
        pa.array(np.tile(np.arange(n_symbols), n_sessions))
    )
    session_ids = pa.array(["XNYS:" + d.strftime("%Y-%m-%d") for d in days]).take(pa.array(day_idx))
    cols = {
        "date": pa.array(days.values.astype("datetime64[D]")[day_idx]),
        "symbol": symbols,
        **_ohlc(rng, n),
        "volume": rng.integers(1_000, 5_000_000, n),
        "nbbo_spread": rng.uniform(0.01, 0.05, n),
        "trades": rng.integers(10, 50_000, n),
        "session_id": session_ids,
        **_metadata(n),
    }
    return pa.table(cols).select(table_spec("raw/equities_bars").schema.names)


def minute_bars(n_symbols: int, session: str = "2024-06-03", seed: int = 1) -> pa.Table:
    """Synthetic raw/equities_minute rows: every regular-hours minute of `session` x n_symbols."""
    minutes = calendar.session_minutes(session)
    rng = np.random.default_rng(seed)
    n = len(minutes) * n_symbols
    ts = np.tile(minutes.tz_convert("UTC").tz_localize(None).values.astype("datetime64[us]"), n_symbols)
    sym = pa.array([f"S{i:04d}" for i in range(n_symbols)]).take(
        pa.array(np.repeat(np.arange(n_symbols), len(minutes)))
    )
    cols = {
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "date": pa.array(np.full(n, np.datetime64(session, "D"))),
        "symbol": sym,
        **_ohlc(rng, n),
        "volume": rng.integers(0, 50_000, n),
        "trades": rng.integers(0, 500, n),
        "session_id": pa.array(np.full(n, "XNYS:" + session, dtype=object), pa.string()),
        **_metadata(n),
    }
    return pa.table(cols).select(table_spec("raw/equities_minute").schema.names)


def run_case(case: str, root: str, n_sessions: int, n_symbols: int) -> dict:
    """Time one case in this process; returns rows, wall seconds and peak RSS."""
    lake = Lake(root)
    if case in ("daily_write", "daily_noop"):
        data = daily_bars(n_sessions, n_symbols)
        t0 = time.perf_counter()
        results = lake.write_partitions("raw/equities_bars", data)
        wall = time.perf_counter() - t0
        rows, note = data.num_rows, f"{len(results)} partitions, {sum(r.changed for r in results)} changed"
    elif case == "daily_read":
        t0 = time.perf_counter()
        rows = lake.read("raw/equities_bars").num_rows
        wall, note = time.perf_counter() - t0, "all partitions, all columns"
    elif case == "daily_read_f":
        parts = lake.partitions("raw/equities_bars")
        t0 = time.perf_counter()
        got = lake.read(
            "raw/equities_bars",
            start=parts[-252],
            end=parts[-1],
            symbols=[f"S{i:04d}" for i in range(0, n_symbols, 10)],
            columns=["date", "symbol", "close", "volume"],
        )
        wall, rows, note = time.perf_counter() - t0, got.num_rows, "252 sessions, 1 in 10 symbols, 4 columns"
    elif case == "minute_write":
        data = minute_bars(n_symbols)
        t0 = time.perf_counter()
        result = lake.write_partition("raw/equities_minute", "2024-06-03", data)
        wall, rows = time.perf_counter() - t0, data.num_rows
        note = f"one partition, {os.path.getsize(result.path) / 1e6:.1f} MB file"
    elif case == "minute_read":
        t0 = time.perf_counter()
        rows = lake.read_partition("raw/equities_minute", "2024-06-03").num_rows
        wall, note = time.perf_counter() - t0, "read_partition"
    else:
        raise ValueError(f"unknown case {case!r}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "case": case,
        "rows": rows,
        "wall_s": wall,
        "rows_per_s": rows / wall,
        "peak_rss_mb": peak_mb,
        "note": note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", help="lake root to use (default: a fresh temporary directory, removed after)"
    )
    parser.add_argument("--sessions", type=int, default=1260)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.root, args.sessions, args.symbols)))
        return
    root = args.root or tempfile.mkdtemp(prefix="bench_lake_")
    cases = ["daily_write", "daily_noop", "daily_read", "daily_read_f", "minute_write", "minute_read"]
    print(f"lake root {root}; {args.sessions} sessions x {args.symbols} symbols")
    print(f"{'case':<14}{'rows':>10}{'wall s':>9}{'rows/s':>12}{'peak RSS MB':>13}  note")
    try:
        for case in cases:
            cmd = [
                sys.executable,
                __file__,
                "--case",
                case,
                "--root",
                root,
                "--sessions",
                str(args.sessions),
                "--symbols",
                str(args.symbols),
            ]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{r['case']:<14}{r['rows']:>10,}{r['wall_s']:>9.2f}{r['rows_per_s']:>12,.0f}{r['peak_rss_mb']:>13.0f}  {r['note']}"
            )
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

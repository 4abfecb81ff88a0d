"""Vendor path throughput: Alpaca minute-bar JSON pages -> validated Arrow -> lake, and edge scheduling overhead.

Cases (the process is pinned to one CPU core and Arrow to one thread):
  parse         Alpaca /v2/stocks/bars pages (10,000 bars per page) -> Arrow columns (alpaca_page scanner)
  normalise     UTC/session normalisation, regular-hours filter, session_id, metadata columns
  validate      trademl.schemas.conform (types, nulls, OHLC, duplicate keys)
  lake_write    Lake.write_partitions(conformed=True): split by session, content hash, zstd Parquet, atomic rename
  end_to_end    all of the above for every page and session
  http_e2e      the same pages served by a local HTTP server through AlpacaConnector.fetch (+ lake write)
  edge_unit     EdgeScheduler overhead per work unit (trivial run(), 4 vendors, no budget / with budget)

usage: .venv/bin/python benchmarks/bench_vendors.py [--symbols 500] [--sessions 2] [--units 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.data.connectors.alpaca import PAGE_LIMIT, AlpacaConnector, _concat, parse_bars_page
from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.normalize import add_metadata, bars_table
from trademl.data.edge import EdgeScheduler, VendorBudget, WorkUnit
from trademl.data.http import VendorLimits
from trademl.data.lake import Lake
from trademl.schemas import conform

SESSIONS = ("2024-03-08", "2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14")


def alpaca_pages(symbols: list[str], sessions: list[str]) -> list[bytes]:
    """Alpaca bars pages (sorted by symbol then time, 10,000 bars each) for the regular sessions given."""
    parts = [calendar.session_minutes(s) for s in sessions]
    minutes = parts[0].append(parts[1:]).tz_convert("UTC")
    t = minutes.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    n = len(t)
    rng = np.random.default_rng(0)
    frames = []
    for i, sym in enumerate(symbols):
        c = np.round(50 + i + np.cumsum(rng.normal(0, 0.02, n)), 4)
        frames.append(pd.DataFrame({"symbol": sym, "t": t, "o": c, "h": np.round(c + 0.03, 4), "l": np.round(c - 0.03, 4),
                                    "c": c, "v": rng.integers(100, 10_000, n), "n": rng.integers(1, 90, n), "vw": c}))
    bars = pd.concat(frames, ignore_index=True)
    pages = []
    for start in range(0, len(bars), PAGE_LIMIT):
        page = bars.iloc[start : start + PAGE_LIMIT]
        body = {s: g.drop(columns="symbol").to_dict("records") for s, g in page.groupby("symbol", sort=True)}
        token = f"tok{start + PAGE_LIMIT}" if start + PAGE_LIMIT < len(bars) else None
        pages.append(json.dumps({"bars": body, "next_page_token": token}, separators=(",", ":")).encode())
    return pages


def run_pipeline(pages: list[bytes], lake: Lake, timings: dict[str, float]) -> int:
    t0 = time.perf_counter()
    parts = [parse_bars_page(p)[0] for p in pages]
    t1 = time.perf_counter()
    norm = bars_table(_concat(parts), minute=True)
    table = add_metadata(norm.table, source_name="alpaca", source_uri="https://data.alpaca.markets/v2/stocks/bars", api_version="v2")
    t2 = time.perf_counter()
    conformed = conform("equities_minute", table, vendor="alpaca")
    t3 = time.perf_counter()
    # As trademl.data.ingest does: the validated table is split by session and written without a second conform.
    lake.write_partitions("raw/equities_minute", conformed, vendor="alpaca", conformed=True)
    t4 = time.perf_counter()
    for k, v in (("parse", t1 - t0), ("normalise", t2 - t1), ("validate", t3 - t2), ("lake_write", t4 - t3), ("end_to_end", t4 - t0)):
        timings[k] = min(timings.get(k, float("inf")), v)
    return table.num_rows


def http_case(pages: list[bytes], symbols: list[str], sessions: list[str], lake: Lake) -> tuple[int, float]:
    """The pages served by a local HTTP server, fetched through AlpacaConnector, then written to the lake."""
    by_token = {None: pages[0]} | {f"tok{(i + 1) * PAGE_LIMIT}": p for i, p in enumerate(pages[1:])}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            from urllib.parse import parse_qs, urlsplit

            token = parse_qs(urlsplit(self.path).query).get("page_token", [None])[0]
            body = by_token[token]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    os.environ["ALPACA_API_KEY_ID"], os.environ["ALPACA_API_SECRET_KEY"] = "bench", "bench"
    conn = AlpacaConnector(base_url=f"http://127.0.0.1:{server.server_port}",
                           limits=VendorLimits(1e9, 10_000, None, 0, 1))
    conn.symbols_per_request = len(symbols)
    t0 = time.perf_counter()
    frame = conn.fetch(FetchRequest("equities_minute", pd.Timestamp(sessions[0]).date(), pd.Timestamp(sessions[-1]).date(),
                                    symbols=tuple(symbols))).frame
    lake.write_partitions("raw/equities_minute", frame, vendor="alpaca")
    elapsed = time.perf_counter() - t0
    server.shutdown()
    return len(frame), elapsed


def edge_overhead(n_units: int, budgeted: bool) -> float:
    """Seconds per work unit for n_units trivial units over 4 vendors (submit -> outcome)."""
    vendors = ["alpaca", "massive", "finnhub", "fred"]
    budgets = {v: (VendorBudget(1e12, 1e12, None) if budgeted else None) for v in vendors}
    units = [WorkUnit(vendors[i % 4], f"u{i}", 1, int) for i in range(n_units)]
    with EdgeScheduler(pools={v: 1 for v in vendors}, budgets=budgets) as sched:
        sched.run(units[:200])  # warm the executors
        t0 = time.perf_counter()
        report = sched.run(units)
        elapsed = time.perf_counter() - t0
    assert all(o.ok for o in report.outcomes)
    return elapsed / n_units


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=2)
    ap.add_argument("--units", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    symbols = [f"S{i:04d}" for i in range(args.symbols)]
    sessions = list(SESSIONS[: args.sessions])
    pages = alpaca_pages(symbols, sessions)
    rows_expected = len(symbols) * sum(len(calendar.session_minutes(s)) for s in sessions)
    mb = sum(len(p) for p in pages) / 1e6
    print(f"{len(pages)} Alpaca pages, {rows_expected:,} minute bars ({mb:.1f} MB JSON), {args.symbols} symbols x {args.sessions} sessions, 1 core")
    timings: dict[str, float] = {}
    root = tempfile.mkdtemp(prefix="bench_vendors_")
    try:
        for r in range(args.repeat):
            shutil.rmtree(root, ignore_errors=True)
            rows = run_pipeline(pages, Lake(os.path.join(root, "lake")), timings)
            assert rows == rows_expected, (rows, rows_expected)
        print(f"\n{'stage':<12} {'seconds':>9} {'rows/s':>14}")
        for k in ("parse", "normalise", "validate", "lake_write", "end_to_end"):
            print(f"{k:<12} {timings[k]:>9.3f} {rows_expected / timings[k]:>14,.0f}")
        shutil.rmtree(root, ignore_errors=True)
        n, sec = http_case(pages, symbols, sessions, Lake(os.path.join(root, "lake_http")))
        print(f"{'http_e2e':<12} {sec:>9.3f} {n / sec:>14,.0f}   (local HTTP server + AlpacaConnector.fetch + write_partitions)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'edge case':<22} {'units':>8} {'us/unit':>10}")
    for budgeted in (False, True):
        per = edge_overhead(args.units, budgeted)
        print(f"{'edge_unit budget=' + str(budgeted):<22} {args.units:>8} {per * 1e6:>10.1f}")


if __name__ == "__main__":
    main()

"""Speed of the embedded synthetic market (trademl.data.connectors.synthetic), each case in its own child process.

Cases (wall time includes building the connector and simulating the daily history it needs):
  daily_500x1260     equities_eod, 500 symbols x 1,258 sessions (2020-01-02..2024-12-31), fresh connector
  daily_500x1260_hot the same request again on the same connector (simulation cached)
  minute_1x500       equities_minute, one session for 500 symbols (~195k rows), daily panel warm
  minute_100x1y      equities_minute, 100 symbols x 2024, requested month by month (~9.8M rows)
  options_1x3        options_chains, one session, 3 underliers

Peak memory is the child's ru_maxrss. usage: .venv/bin/python benchmarks/bench_synthetic.py
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time

import pandas as pd

from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

CASES = ("daily_500x1260", "daily_500x1260_hot", "minute_1x500", "minute_100x1y", "options_1x3")
TARGETS = {"daily_500x1260": 3.0, "minute_1x500": 1.0, "minute_100x1y": 180.0}


def _connector(n: int) -> SyntheticConnector:
    return SyntheticConnector(SyntheticConfig(n_symbols=n, outages=()))


def _req(dataset: str, start: str, end: str) -> FetchRequest:
    return FetchRequest(dataset, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def run_case(name: str) -> dict[str, object]:
    """Run one case in this process: {case, seconds, rows}."""
    if name in ("daily_500x1260", "daily_500x1260_hot"):
        t0 = time.perf_counter()
        conn = _connector(500)
        req = _req("equities_eod", "2020-01-02", "2024-12-31")
        rows = len(conn.fetch(req).frame)
        if name.endswith("_hot"):
            t0 = time.perf_counter()
            rows = len(conn.fetch(req).frame)
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    if name == "minute_1x500":
        conn = _connector(500)
        conn.panel(len(conn.timeline))  # the daily history is simulated once per connector
        t0 = time.perf_counter()
        rows = len(conn.fetch(_req("equities_minute", "2024-06-12", "2024-06-12")).frame)
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    if name == "minute_100x1y":
        t0 = time.perf_counter()
        conn = _connector(100)
        rows = 0
        for month in pd.date_range("2024-01-01", "2024-12-01", freq="MS"):
            end = month + pd.offsets.MonthEnd(0)
            rows += len(conn.fetch(_req("equities_minute", f"{month:%Y-%m-%d}", f"{end:%Y-%m-%d}")).frame)
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    if name == "options_1x3":
        conn = _connector(100)
        conn.panel(len(conn.timeline))
        t0 = time.perf_counter()
        rows = len(conn.fetch(_req("options_chains", "2024-06-12", "2024-06-12")).frame)
        return {"seconds": time.perf_counter() - t0, "rows": rows}
    raise ValueError(f"unknown case {name!r}; cases: {', '.join(CASES)}")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        out = run_case(sys.argv[2])
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(json.dumps(out))
        return 0
    print(f"{'case':<20} {'rows':>11} {'seconds':>9} {'target':>8} {'peak MB':>9}")
    for case in CASES:
        proc = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True, check=True)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        target = f"<= {TARGETS[case]:g}s" if case in TARGETS else "-"
        print(f"{case:<20} {res['rows']:>11,} {res['seconds']:>9.2f} {target:>8} {res['peak_mb']:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

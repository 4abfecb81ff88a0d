"""Issue 2 speed: raw ingest + QC of the synthetic market, our code alone vs one Dagster run.

Each case runs in a fresh subprocess with its own lake, control db and Dagster home, and
reports wall time and the process's peak RSS. Cases:
  daily-direct / daily-dagster     5 years (1,260 sessions) x 500 symbols of daily bars
  minute1-direct / minute1-dagster one session of minute bars for 500 symbols (~195k rows)
  minuteyear-direct / -dagster     one year of minute bars for 100 symbols (~10M rows), one run
The reference universe is ingested first (untimed) so QC judges against the PIT universe.

    .venv/bin/python benchmarks/bench_ingest.py            # all cases
    .venv/bin/python benchmarks/bench_ingest.py --quick    # skip the 10M-row year
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = {
    # name: (dataset, first, last, n_symbols, through_dagster)
    "daily-direct": ("equities_eod", "2020-07-01", "2025-06-30", 500, False),
    "daily-dagster": ("equities_eod", "2020-07-01", "2025-06-30", 500, True),
    "minute1-direct": ("equities_minute", "2025-06-27", "2025-06-27", 500, False),
    "minute1-dagster": ("equities_minute", "2025-06-27", "2025-06-27", 500, True),
    "minuteyear-direct": ("equities_minute", "2024-07-01", "2025-06-30", 100, False),
    "minuteyear-dagster": ("equities_minute", "2024-07-01", "2025-06-30", 100, True),
}


def run_case(name: str) -> dict:
    """Executed inside the child process: ingest universe (untimed), then time the case."""
    from trademl.data import control
    from trademl.config import settings
    from trademl.data.connectors.registry import connector_for
    from trademl.data.ingest import ingest
    from trademl.data.lake import Lake

    dataset, first, last, _, dagster = CASES[name]
    s = settings()
    lake, engine = Lake(s.data_root), control.make_engine(s.db_uri)
    connector = connector_for("synthetic", data_root=s.data_root)
    ingest("universe", first, last, connector=connector, lake=lake, engine=engine)
    if dagster:  # imports and instance set-up are not part of the run being measured
        from trademl_jobs.runner import dagster_instance, materialize_range

        instance = dagster_instance()
    t0 = time.perf_counter()
    if dagster:
        run = materialize_range(instance, [dataset], first, last)
        ok = run.success
        rows = None
    else:
        report = ingest(dataset, first, last, connector=connector, lake=lake, engine=engine)
        ok, rows = report.colour_counts["RED"] == 0, report.rows_fetched
    seconds = time.perf_counter() - t0
    counts = control.status_counts(engine).get(control_table(dataset), {})
    return {
        "case": name,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ok": ok,
        "rows": rows,
        "status": counts,
    }


def control_table(dataset: str) -> str:
    from trademl.schemas import DATASET_TABLES

    return DATASET_TABLES[dataset]


def spawn(name: str) -> dict:
    _, _, _, n_symbols, _ = CASES[name]
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        env = dict(os.environ)
        env.update(
            TRADEML_DATA_ROOT=f"{tmp}/data_layer",
            DAGSTER_HOME=f"{tmp}/dagster_home",
            TRADEML_VENDOR="synthetic",
            TRADEML_SYNTHETIC_N_SYMBOLS=str(n_symbols),
            TRADEML_SYNTHETIC_OUTAGES="off",
        )
        env.pop("DB_URI", None)
        out = subprocess.run(
            [sys.executable, __file__, "--case", name], env=env, cwd=REPO, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise SystemExit(f"case {name} failed:\n{out.stderr[-4000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=sorted(CASES))
    p.add_argument("--quick", action="store_true", help="skip the one-year minute-bar cases")
    args = p.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return 0
    names = [n for n in CASES if not (args.quick and n.startswith("minuteyear"))]
    print("| case | sessions x symbols | wall s | peak RSS MB | status counts |")
    print("|---|---|---:|---:|---|")
    for name in names:
        dataset, first, last, n_symbols, _ = CASES[name]
        r = spawn(name)
        print(f"| {name} | {first}..{last} x {n_symbols} | {r['seconds']} | {r['peak_rss_mb']} | {r['status']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

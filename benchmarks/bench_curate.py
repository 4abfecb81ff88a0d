"""Curated layer throughput: session_factors, read_adjusted over 500 symbols x 15 years, curate_range.

Cases (each timed once, wall clock; the machine's load is printed with the results):
  session_factors     the curated rows of 500 symbols x 3,780 sessions (1.89M bars, ~1 split/symbol/4y,
                      quarterly dividends), in memory
  write_curated       those rows written as 3,780 curated partitions (write_partitions; the set-up)
  read_adjusted_all   read_adjusted of the whole table (all symbols, 15 years), as of the last session (twice:
                      the first call pays DuckDB's and the page cache's warm-up)
  read_adjusted_asof  read_adjusted of the first half for all symbols as of the last session (factors read
                      from the later partitions)
  read_adjusted_50x1y read_adjusted of one year for 50 symbols
  curate_range        raw bars + corp actions for the last `--curate-sessions` sessions written to a second
                      lake, then curate_range over them (factors seeded by the stored curated row)
  curate_range_noop   the same call again (every partition unchanged)
  late_events         late_events over the whole table after one late split
  curate_incremental  rebuild of that one symbol from the split's ex-date

usage: .venv/bin/python benchmarks/bench_curate.py [--symbols 500] [--years 15] [--curate-sessions 250] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.curate import CuratorSettings, curate_incremental, curate_range, late_events, read_adjusted, session_factors
from trademl.data.control import make_engine
from trademl.data.lake import Lake
from trademl.schemas.base import session_id, with_metadata

META = {"source_name": "bench", "source_uri": "bench://curate", "api_version": "1", "ingested_at": pd.Timestamp("2024-01-01", tz="UTC")}


def synthetic_market(n_symbols: int, sessions: pd.DatetimeIndex, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """As-traded bars (random walks that drop by each split ratio) and their splits and quarterly dividends."""
    rng = np.random.default_rng(seed)
    n_t = len(sessions)
    symbols = np.array([f"S{i:04d}" for i in range(n_symbols)])
    split_mask = rng.random((n_t, n_symbols)) < 1 / 1000
    split_mask[0] = False
    ratio = np.where(split_mask, rng.choice([2.0, 3.0, 1.5, 0.5], size=(n_t, n_symbols)), 1.0)
    div_mask = (np.arange(n_t)[:, None] % 63 == (np.arange(n_symbols) % 63)[None, :]) & (np.arange(n_t)[:, None] > 0)
    logret = rng.normal(0.0003, 0.02, (n_t, n_symbols))
    close = 50.0 * np.exp(np.cumsum(logret, axis=0)) / np.cumprod(ratio, axis=0)
    dividend = np.where(div_mask, close * 0.005, 0.0)
    volume = rng.integers(10_000, 5_000_000, (n_t, n_symbols))
    dates = np.repeat(sessions.to_numpy(), n_symbols)
    sym = np.tile(symbols, n_t)
    c = close.ravel()
    bars = pd.DataFrame({"symbol": sym, "date": dates, "open": c * 0.995, "high": c * 1.01, "low": c * 0.99, "close": c,
                         "volume": volume.ravel().astype("int64")})
    t, s = np.nonzero(split_mask)
    td, sd = np.nonzero(div_mask)
    events = pd.concat([
        pd.DataFrame({"symbol": symbols[s], "event_type": "SPLIT", "ex_date": sessions[t], "ratio": ratio[t, s], "amount": np.nan}),
        pd.DataFrame({"symbol": symbols[sd], "event_type": "DIVIDEND", "ex_date": sessions[td], "ratio": np.nan, "amount": dividend[td, sd]}),
    ], ignore_index=True)
    return bars, events


def timed(label: str, fn, rows: int | None = None):
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    rate = f"{rows / wall:,.0f} rows/s" if rows else ""
    print(f"| {label} | {rows or '':,} | {wall:.2f} | {rate} |" if rows else f"| {label} | | {wall:.2f} | |", flush=True)
    return out


def raw_rows(bars: pd.DataFrame) -> pd.DataFrame:
    rows = bars.assign(date=pd.to_datetime(bars["date"]).dt.date, vwap=bars["close"], nbbo_spread=np.nan,
                       trades=pd.array([None] * len(bars), dtype="Int64"), session_id=session_id(bars["date"]).to_numpy())
    return with_metadata(rows, **META)


def event_rows(events: pd.DataFrame) -> pd.DataFrame:
    ex = pd.to_datetime(events["ex_date"]).dt.date
    return with_metadata(events.assign(ex_date=ex, date=ex, record_date=None, pay_date=None, source_priority=np.int32(1)), **META)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--curate-sessions", type=int, default=250)
    ap.add_argument("--root", default=None)
    args = ap.parse_args()
    root = args.root or tempfile.mkdtemp(prefix="bench_curate_")
    all_sessions = calendar.sessions("2005-01-03", "2024-12-31")
    sessions = all_sessions[-252 * args.years:]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; {args.symbols} symbols x {len(sessions)} sessions")
    bars, events = synthetic_market(args.symbols, sessions)
    n = len(bars)
    print("| case | rows | wall s | throughput |\n|---|---:|---:|---:|")
    history, recent = sessions[: -args.curate_sessions], sessions[-args.curate_sessions:]
    stored = timed("session_factors", lambda: session_factors(bars, events), n)
    lake = Lake(os.path.join(root, "lake"))
    in_history = pd.to_datetime(stored["date"]) <= history[-1]
    timed("write_curated (history)", lambda: lake.write_partitions("curated/equities_ohlcv_adj", stored[in_history]), int(in_history.sum()))
    recent_bars = bars[pd.to_datetime(bars["date"]) >= recent[0] - pd.Timedelta(days=45)]
    recent_events = events[pd.to_datetime(events["ex_date"]) >= recent[0] - pd.Timedelta(days=45)]
    timed("write raw bars + corp actions (recent)", lambda: (lake.write_partitions("raw/equities_bars", raw_rows(recent_bars)),
                                                            lake.write_partitions("reference/corp_actions", event_rows(recent_events))))
    engine = make_engine(f"sqlite:///{os.path.join(root, 'control.sqlite')}")
    cfg = CuratorSettings(delisting_returns={}, seed_lookback_sessions=20)
    n_recent = int((~in_history).sum())
    report = timed(f"curate_range ({len(recent)} sessions)", lambda: curate_range(recent[0], recent[-1], lake=lake, engine=engine, settings=cfg), n_recent)
    print(f"<!-- written {len(report.sessions_written)}, unchanged {len(report.sessions_unchanged)}, problems {report.problems['qc_code'].value_counts().to_dict()} -->")
    got = lake.read("curated/equities_ohlcv_adj", recent[0], recent[-1], columns=["split_factor", "div_factor_crsp"]).to_pandas()
    want = stored[~in_history].sort_values(["date", "symbol"])
    assert np.allclose(got.to_numpy(float), want[["split_factor", "div_factor_crsp"]].to_numpy(float), rtol=1e-12, atol=0)
    print("<!-- curate_range's seeded factors equal the in-memory factors of the whole history (rtol 1e-12) -->")
    report = timed("curate_range_noop", lambda: curate_range(recent[0], recent[-1], lake=lake, engine=engine, settings=cfg), n_recent)
    print(f"<!-- written {len(report.sessions_written)}, unchanged {len(report.sessions_unchanged)} -->")
    stored_all = lake.read("curated/equities_ohlcv_adj", columns=["split_factor"]).num_rows
    assert stored_all == n, (stored_all, n)
    full = timed("read_adjusted_all (first call)", lambda: read_adjusted(lake, sessions[0], sessions[-1]), n)
    timed("read_adjusted_all (again)", lambda: read_adjusted(lake, sessions[0], sessions[-1]), n)
    half = sessions[len(sessions) // 2]
    mid = pd.to_datetime(full["date"]) <= half
    timed("read_adjusted_asof (first half, as of the last session)", lambda: read_adjusted(lake, sessions[0], half, asof=sessions[-1]), int(mid.sum()))
    some = sorted(bars["symbol"].unique())[:50]
    timed("read_adjusted_50x1y", lambda: read_adjusted(lake, sessions[-252], sessions[-1], symbols=some), 50 * 252)
    ex = recent[len(recent) // 2].date()
    lake.write_partitions("reference/corp_actions", event_rows(pd.DataFrame(
        {"symbol": [some[0]], "event_type": ["SPLIT"], "ex_date": [ex], "ratio": [2.0], "amount": [np.nan]})), mode="merge")
    late = timed("late_events", lambda: late_events(lake))
    print(f"<!-- late events: {len(late)} -->")
    rep = timed("curate_incremental (1 symbol)", lambda: curate_incremental(lake=lake, engine=engine))
    print(f"<!-- rewritten sessions: {sum(len(v) for v in rep.sessions_rewritten.values())} -->")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.root is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

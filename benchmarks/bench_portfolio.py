"""Wall time and memory of the portfolio constructor: `build` per session, `build_targets` over a year.

Run: .venv/bin/python benchmarks/bench_portfolio.py [--symbols 500] [--sessions 250] [--lookback 60]

Inputs: a synthetic wide panel of daily simple returns (one market factor at 1 % daily vol, 11
sector factors at 0.7 %, name-specific noise at 1-3 %) over `lookback + sessions` XNYS sessions,
and persistent scores (AR(1), phi 0.9) so consecutive books overlap like a real signal's. Each
session's `build` is timed on its own (with the previous session's targets, returns of the
covariance window): the median and p95 per session are reported. `build_targets` over all
sessions is timed once, then run again under tracemalloc for its allocation peak (inputs excluded).
configs/portfolio.yml as in the repository (per-name cap 5 %, gross 1.0, vol 10 %, 60 sessions,
constant-correlation Ledoit-Wolf, Kelly 0.25 x IC 0.02 x 0.5, turnover 0.5).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trademl import calendar  # noqa: E402
from trademl.portfolio import build, build_targets, risk_config  # noqa: E402

TARGET_MS = 50.0


def returns_panel(n_symbols: int, n_sessions: int, seed: int = 0) -> pd.DataFrame:
    """Wide daily simple returns: market + sector factors + name noise, columns S0000.., index session dates."""
    days = [d.date() for d in calendar.sessions("2022-01-03", "2026-06-30")][:n_sessions]
    rng = np.random.default_rng(seed)
    sector = rng.integers(0, 11, n_symbols)
    market = rng.normal(0.0, 0.01, (len(days), 1))
    sectors = rng.normal(0.0, 0.007, (len(days), 11))[:, sector]
    noise = rng.normal(0.0, 1.0, (len(days), n_symbols)) * rng.uniform(0.01, 0.03, n_symbols)
    return pd.DataFrame(market + sectors + noise, index=days, columns=[f"S{i:04d}" for i in range(n_symbols)])


def score_frame(days: list, symbols: pd.Index, seed: int = 1) -> pd.DataFrame:
    """Long `date, symbol, score` with AR(1) scores (phi 0.9) per name."""
    rng = np.random.default_rng(seed)
    values = np.empty((len(days), len(symbols)))
    values[0] = rng.normal(size=len(symbols))
    for t in range(1, len(days)):  # a loop over sessions to build the fixture, not over rows
        values[t] = 0.9 * values[t - 1] + np.sqrt(1 - 0.81) * rng.normal(size=len(symbols))
    return pd.DataFrame(
        {"date": np.repeat(days, len(symbols)), "symbol": np.tile(symbols, len(days)), "score": values.ravel()}
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=250)
    ap.add_argument("--lookback", type=int, default=60)
    args = ap.parse_args()

    cfg = risk_config()
    panel = returns_panel(args.symbols, args.lookback + args.sessions)
    days = list(panel.index[args.lookback :])
    scores = score_frame(days, panel.columns)
    by_day = dict(tuple(scores.groupby("date", sort=True)))

    build(by_day[days[0]], cfg, returns=panel.loc[: days[0]])  # warm-up (imports, calendar cache)
    per_session, previous, results = [], None, []
    for day in days:
        window = panel.loc[:day].iloc[-cfg.cov_lookback :]
        start = time.perf_counter()
        result = build(by_day[day], cfg, returns=window, previous=previous)
        per_session.append(time.perf_counter() - start)
        previous = result["weights"]
        results.append(result)
    ms = np.asarray(per_session) * 1e3

    start = time.perf_counter()
    targets = build_targets(scores, panel, cfg)
    whole = time.perf_counter() - start
    tracemalloc.start()
    tracemalloc.reset_peak()
    build_targets(scores, panel, cfg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    binding = pd.DataFrame([r["binding"] for r in results]).mean()
    print(f"build, {args.symbols} names, {len(days)} sessions, {cfg.cov_lookback}-session covariance:")
    print("| case | median ms | p95 ms | max ms | target |\n|---|---:|---:|---:|---:|")
    print(
        f"| build per session | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} | {ms.max():.1f} | < {TARGET_MS:.0f} ms |"
    )
    print(
        f"\nbuild_targets over {len(days)} sessions: {whole:.2f} s ({whole / len(days) * 1e3:.1f} ms per session), "
        f"{len(targets):,} target rows, tracemalloc peak {peak / 2**20:.1f} MiB"
    )
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    print(
        "books: gross mean {:.3f}, ex-ante vol mean {:.3f}, turnover mean {:.3f}, Ledoit-Wolf shrinkage mean {:.2f}".format(
            np.mean([r["gross"] for r in results]),
            np.mean([r["ex_ante_vol"] for r in results]),
            np.mean([r["turnover"] for r in results[1:]]),
            np.mean([r["shrinkage"] for r in results]),
        )
    )
    print("share of sessions where each limit binds: " + ", ".join(f"{k} {v:.2f}" for k, v in binding.items()))


if __name__ == "__main__":
    main()

"""equities_xs v1 from the lake: 800 synthetic symbols x 14 years of curated daily bars.

Writes the panel to a temporary lake as `curated/equities_ohlcv_adj` partitions (factors 1.0, so
adjusted = as traded), then in fresh child processes times:
  cold     read the adjusted prices + build_features(standardize=True) in a new process (imports
           outside the timer but reported as the process wall time)
  warm     the same read + build again in that process (best of 2)
  pandas   a plain pandas groupby().rolling() build of the same features on the same frame, and the
           largest difference from build_features (the synthetic panel has no gaps, so rows and
           sessions coincide and both must agree)
Prices come from trademl.curate.read_adjusted (--reader curate, the default) or from the script's own
direct lake read that applies the stored factors the same way (--reader direct).

usage: .venv/bin/python benchmarks/bench_equities_xs.py [--symbols 800] [--years 14] [--root DIR] [--skip-pandas] [--reader curate|direct]
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
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trademl import calendar
from trademl.data.lake import Lake
from trademl.features.equities_xs import EquitiesXsConfig, build_features
from trademl.schemas import table_spec

TABLE = "curated/equities_ohlcv_adj"
FIRST = "2011-01-03"


def bench_sessions(years: int) -> pd.DatetimeIndex:
    """The XNYS sessions of `years` calendar years from 2011-01-03."""
    return calendar.sessions(FIRST, pd.Timestamp(FIRST) + pd.DateOffset(years=years) - pd.Timedelta(days=1))


def curated_panel(n_symbols: int, years: int, seed: int = 0) -> pa.Table:
    """Random-walk as-traded bars for every session x symbol, cumulative factors 1.0 (numpy-built)."""
    days = bench_sessions(years)
    rng = np.random.default_rng(seed)
    n_t = len(days)
    r = rng.normal(0.0003, 0.02, (n_t, n_symbols))
    close = 30.0 * np.exp(rng.normal(0.0, 0.5, n_symbols)) * np.exp(np.cumsum(r, axis=0))
    open_ = close * np.exp(rng.normal(0.0, 0.01, close.shape))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, close.shape))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, close.shape))
    n = n_t * n_symbols
    ones = np.ones(n)
    cols = {
        "date": pa.array(np.repeat(days.values.astype("datetime64[D]"), n_symbols)),
        "symbol": pa.array([f"S{i:04d}" for i in range(n_symbols)]).take(pa.array(np.tile(np.arange(n_symbols), n_t))),
        "open": open_.ravel(),
        "high": high.ravel(),
        "low": low.ravel(),
        "close": close.ravel(),
        "volume": rng.integers(1_000, 5_000_000, n),
        "split_factor": ones,
        "div_factor_crsp": ones,
        "div_factor_alpha_vantage": ones,
        "delisting_return": pa.nulls(n, pa.float64()),
    }
    return pa.table(cols).select(table_spec(TABLE).schema.names)


def _lake_read_adjusted(lake: Lake, start, end, *, asof=None, symbols=None, convention: str = "crsp") -> pd.DataFrame:
    """Fallback for trademl.curate.read_adjusted: prices back-adjusted as of `asof` (default `end`)
    with the stored cumulative factors, price x factor_t / factor_asof (volume by the split factor only)."""
    div = f"div_factor_{convention}"
    cols = ["symbol", "date", "open", "high", "low", "close", "volume", "split_factor", div]
    table = lake.read(TABLE, start=start, end=end, symbols=symbols, columns=cols)
    table = table.set_column(0, "symbol", pc.dictionary_encode(table["symbol"]))
    frame = table.to_pandas(date_as_object=False)
    at = lake.read(TABLE, start=asof or end, end=asof or end, columns=["symbol", "split_factor", div]).to_pandas()
    codes = frame["symbol"].cat.categories.get_indexer(at["symbol"])
    split_asof = np.ones(len(frame["symbol"].cat.categories))
    price_asof = np.ones(len(split_asof))
    split_asof[codes[codes >= 0]] = at["split_factor"].to_numpy()[codes >= 0]
    price_asof[codes[codes >= 0]] = (at["split_factor"] * at[div]).to_numpy()[codes >= 0]
    row = frame["symbol"].cat.codes.to_numpy()
    price = (frame["split_factor"] * frame[div]).to_numpy() / price_asof[row]
    split = frame["split_factor"].to_numpy() / split_asof[row]
    out = {"symbol": frame["symbol"], "date": frame["date"]}
    for c in ("open", "high", "low", "close"):
        out[f"adj_{c}"] = frame[c].to_numpy() * price
    out["adj_volume"] = frame["volume"].to_numpy() / split
    return pd.DataFrame(out, copy=False)


def read_prices_fn(reader: str):
    if reader == "curate":
        from trademl.curate import read_adjusted

        return read_adjusted, "trademl.curate.read_adjusted"
    return _lake_read_adjusted, "direct lake read (Lake.read, symbols dictionary-encoded, factors applied in numpy)"


def read_panel(root: str, years: int, reader: str = "curate") -> tuple[pd.DataFrame, str]:
    reader, name = read_prices_fn(reader)
    days = bench_sessions(years)
    prices = reader(Lake(root), days[0].date(), days[-1].date(), asof=days[-1].date())
    columns = {"symbol": prices["symbol"], "date": prices["date"], **{c: prices[f"adj_{c}"] for c in ("open", "high", "low", "close", "volume")}}
    return pd.DataFrame(columns, copy=False), name


def pandas_reference(panel: pd.DataFrame, cfg: EquitiesXsConfig) -> pd.DataFrame:
    """The same standardised features with plain pandas groupby().rolling() over rows (no session grid)."""
    df = panel.sort_values(["symbol", "date"]).reset_index(drop=True)
    g = df.groupby("symbol", sort=False)
    close = df["close"]
    prev = g["close"].shift(1)
    r = np.log(close / prev)
    mp = cfg.min_periods

    def roll(values: pd.Series, k: int, how: str, min_periods: int) -> pd.Series:
        rolling = values.groupby(df["symbol"], sort=False).rolling(k, min_periods=min_periods)
        return getattr(rolling, how)().reset_index(level=0, drop=True)

    out = df[["symbol", "date"]].copy()
    for k in cfg.momentum_windows:
        out[f"mom_{k}"] = np.log(close / g["close"].shift(k))
    w = cfg.gap_window
    out[f"gap_overnight_{w}"] = roll(np.log(df["open"] / prev), w, "mean", mp(w))
    out[f"gap_intraday_{w}"] = roll(np.log(close / df["open"]), w, "mean", mp(w))
    for k in cfg.drawdown_windows:
        out[f"drawdown_{k}"] = close / roll(close, k, "max", mp(k)) - 1.0
    for k in cfg.rv_windows:
        out[f"rv_{k}"] = np.sqrt(cfg.annualization) * roll(r, k, "std", mp(k, 2))
    w = cfg.downside_vol_window
    out[f"downside_vol_{w}"] = np.sqrt(cfg.annualization * roll(np.minimum(r, 0.0) ** 2, w, "mean", mp(w)))
    w = cfg.liquidity_window
    dollar = close * df["volume"]
    out[f"adv_{w}"] = roll(dollar, w, "mean", mp(w))
    out[f"turnover_{w}"] = np.nan
    out[f"amihud_{w}"] = 1e6 * roll((r.abs() / dollar).where(dollar > 0), w, "mean", mp(w))
    out["days_to_earnings"] = np.nan
    out["log_mcap"] = np.nan
    continuous = list(cfg.continuous_features())
    by_date = out.groupby("date")[continuous]
    z = (out[continuous] - by_date.transform("mean")) / by_date.transform("std", ddof=0)
    z = z.where(out[continuous].isna() | z.notna(), 0.0).clip(-cfg.clip, cfg.clip)
    result = out[["symbol", "date"]].copy()
    for c in continuous:
        result[f"feat_{c}"] = z[c]
    dow = out["date"].dt.dayofweek
    moy = out["date"].dt.month - 1
    result["feat_dow_sin"], result["feat_dow_cos"] = np.sin(2 * np.pi * dow / 5), np.cos(2 * np.pi * dow / 5)
    result["feat_moy_sin"], result["feat_moy_cos"] = np.sin(2 * np.pi * moy / 12), np.cos(2 * np.pi * moy / 12)
    return result.sort_values(["date", "symbol"]).reset_index(drop=True)


def run_case(case: str, root: str, years: int, reader: str) -> dict:
    cfg = EquitiesXsConfig()
    if case == "cold":
        t0 = time.perf_counter()
        panel, name = read_panel(root, years, reader)
        t1 = time.perf_counter()
        out = build_features(panel, cfg)
        t2 = time.perf_counter()
        timings = []
        for _ in range(2):
            a = time.perf_counter()
            build_features(read_panel(root, years, reader)[0], cfg)
            timings.append(time.perf_counter() - a)
        result = {"rows": len(out), "read_s": t1 - t0, "build_s": t2 - t1, "total_s": t2 - t0, "warm_s": min(timings), "reader": name}
    elif case == "pandas":
        panel, name = read_panel(root, years, reader)
        panel["date"] = pd.to_datetime(panel["date"])  # read_adjusted returns date objects
        t0 = time.perf_counter()
        ref = pandas_reference(panel, cfg)
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        ours = build_features(panel, cfg)
        ours_s = time.perf_counter() - t1
        cols = [c for c in ref.columns if c.startswith("feat_")]
        a, b = ours[cols].to_numpy(), ref[cols].to_numpy()
        same_nan = bool((np.isnan(a) == np.isnan(b)).all())
        diff = float(np.nanmax(np.abs(a - b)))
        result = {"rows": len(ref), "pandas_s": wall, "ours_same_process_s": ours_s, "max_abs_diff": diff, "same_nan": same_nan, "reader": name}
    else:
        raise ValueError(f"unknown case {case!r}")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return result


def _child(case: str, root: str, years: int, reader: str, hugepage: str = "1") -> tuple[dict, float]:
    """Run one case in a fresh interpreter; NUMPY_MADVISE_HUGEPAGE=0 stops numpy from asking for
    transparent huge pages, which on this VM makes first-touch page faults ~6x slower (see the section)."""
    t0 = time.perf_counter()
    cmd = [sys.executable, __file__, "--case", case, "--root", root, "--years", str(years), "--reader", reader]
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": hugepage}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1]), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", help="lake root (default: a fresh temporary directory, removed after)")
    parser.add_argument("--symbols", type=int, default=800)
    parser.add_argument("--years", type=int, default=14)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--reader", choices=("curate", "direct"), default="curate",
                        help="curate: trademl.curate.read_adjusted (default); direct: the script's own Lake.read + numpy adjustment")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.root, args.years, args.reader)))
        return
    root = args.root or tempfile.mkdtemp(prefix="bench_xs_")
    try:
        print(f"load before: {os.getloadavg()}")
        t0 = time.perf_counter()
        if not Lake(root).partitions(TABLE):
            table = curated_panel(args.symbols, args.years)
            Lake(root).write_partitions(TABLE, table)
            print(f"wrote {table.num_rows:,} rows in {len(Lake(root).partitions(TABLE)):,} partitions of {TABLE} in {time.perf_counter() - t0:.1f} s")
        print(f"{'case':<44}{'rows':>11}{'wall s':>9}{'peak RSS MB':>13}")
        cold = None
        for hugepage in ("1", "0"):
            run, process_s = _child("cold", root, args.years, args.reader, hugepage)
            cold = cold or run
            tag = "numpy default" if hugepage == "1" else "NUMPY_MADVISE_HUGEPAGE=0"
            print(f"{'[' + tag + ']':<44} reader: {run['reader']}")
            print(f"{'cold: read':<44}{run['rows']:>11,}{run['read_s']:>9.2f}")
            print(f"{'cold: build_features':<44}{run['rows']:>11,}{run['build_s']:>9.2f}")
            print(f"{'cold: read + build':<44}{run['rows']:>11,}{run['total_s']:>9.2f}{run['peak_rss_mb']:>13.0f}")
            print(f"{'warm: read + build (best of 2)':<44}{run['rows']:>11,}{run['warm_s']:>9.2f}")
            print(f"{'process incl. imports (3 read + build)':<44}{'':>11}{process_s:>9.2f}")
        if not args.skip_pandas:
            ref, _ = _child("pandas", root, args.years, args.reader)
            print(f"{'[numpy default] pandas groupby().rolling() build':<44}{ref['rows']:>11,}{ref['pandas_s']:>9.2f}{ref['peak_rss_mb']:>13.0f}")
            print(f"{'[numpy default] build_features, same process':<44}{ref['rows']:>11,}{ref['ours_same_process_s']:>9.2f}")
            print(f"speed-up over pandas: same process {ref['pandas_s'] / ref['ours_same_process_s']:.1f}x; "
                  f"vs our cold build {ref['pandas_s'] / cold['build_s']:.1f}x; "
                  f"(our read + build): {ref['pandas_s'] / cold['total_s']:.1f}x; "
                  f"max |difference| {ref['max_abs_diff']:.2e}, same NaNs: {ref['same_nan']}")  # fmt: skip
        print(f"load after: {os.getloadavg()}")
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

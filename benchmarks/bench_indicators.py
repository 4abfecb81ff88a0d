"""Speed and memory of the full built-in indicator set on a 500-symbol x 15-year daily panel.

Three ways to get the same 36 columns (``configs/indicator_sets/default.yml``) on ~1.9M rows:

* ``trademl``: ``compute_indicator_set(panel, load_indicator_set("default"))`` (one validated pass
  over cache-sized blocks of whole symbols);
* ``TA-Lib loop``: a Python loop over the 500 symbols calling TA-Lib (C) for the 15 TA-Lib
  indicators and TA-Lib primitives / numpy for the spec 003 features, then concatenating;
* ``naive pandas``: ``groupby("symbol")`` + ``rolling``/``ewm``/``transform`` per indicator, the way
  such features are usually written (rolling ``apply`` for CCI's mean absolute deviation).

The TA-Lib-only subset (15 indicators, 20 columns) is timed as well, to compare like with like.
Run: ``.venv/bin/python benchmarks/bench_indicators.py [--symbols N] [--years Y] [--skip-naive]``.
Prints a markdown table: wall time (best of ``--repeats`` runs; the naive pandas version runs once)
and the tracemalloc peak of one run of each method (Python-visible allocations, inputs excluded).
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import talib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

from trademl.features.indicators import (  # noqa: E402
    IndicatorSet,
    compute_indicator_set,
    load_indicator_set,
)

TALIB_NAMES = ("sma", "ema", "wma", "rsi", "macd", "roc", "stoch", "williams_r", "cci", "bbands", "atr", "natr", "adx", "mfi", "obv")
SESSIONS_PER_YEAR = 252


def make_panel(n_symbols: int, n_years: int, seed: int = 7) -> pd.DataFrame:
    """Synthetic daily OHLCV panel: geometric random walks with lognormal ranges and volumes.

    Sorted by symbol then ``ts`` (the 16:00 New York close, stored in UTC). One symbol in ten is listed
    later (up to a third of the history missing) so the panel is ragged, as a real universe is.
    """
    rng = np.random.default_rng(seed)
    n_sessions = n_years * SESSIONS_PER_YEAR
    sessions = pd.bdate_range("2009-01-02", periods=n_sessions)
    closes_utc = (sessions + pd.Timedelta(hours=16)).tz_localize("America/New_York").tz_convert("UTC")
    late = rng.random(n_symbols) < 0.1
    lengths = n_sessions - np.where(late, rng.integers(1, n_sessions // 3, n_symbols), 0)
    starts = n_sessions - lengths
    rows = int(lengths.sum())
    symbol_of_row = np.repeat(np.arange(n_symbols), lengths)
    offsets = np.arange(rows) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    session_of_row = np.repeat(starts, lengths) + offsets

    sigma = np.repeat(rng.uniform(0.01, 0.03, n_symbols), lengths)
    log_return = rng.normal(0.0002, 1.0, rows) * sigma
    log_return[offsets == 0] = 0.0
    level = np.repeat(np.log(rng.uniform(10, 500, n_symbols)), lengths)
    cumulative = np.cumsum(log_return)
    cumulative -= np.repeat(cumulative[np.cumsum(lengths) - lengths], lengths)
    close = np.exp(level + cumulative)
    open_ = close * np.exp(rng.normal(0, 0.3, rows) * sigma)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.5, rows)) * sigma)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.5, rows)) * sigma)
    volume = np.round(np.exp(rng.normal(13, 0.8, rows)))
    return pd.DataFrame(
        {
            "symbol": np.array([f"S{i:04d}" for i in range(n_symbols)])[symbol_of_row],
            "ts": closes_utc[session_of_row],
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )


# --------------------------------------------------------------------------- TA-Lib per-symbol loop
def _shift(values: np.ndarray, periods: int) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    out[periods:] = values[:-periods]
    return out


def _talib_symbol(h: np.ndarray, l: np.ndarray, c: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:  # noqa: E741
    out: dict[str, np.ndarray] = {
        "sma_20": talib.SMA(c, 20),
        "ema_20": talib.EMA(c, 20),
        "wma_20": talib.WMA(c, 20),
        "rsi_14": talib.RSI(c, 14),
    }
    out["macd"], out["macd_signal"], out["macd_hist"] = talib.MACD(c, 12, 26, 9)
    out["roc_10"] = talib.ROC(c, 10)
    out["stoch_k"], out["stoch_d"] = talib.STOCH(h, l, c, 5, 3, 0, 3, 0)
    out["williams_r_14"] = talib.WILLR(h, l, c, 14)
    out["cci_14"] = talib.CCI(h, l, c, 14)
    out["bb_upper_20"], out["bb_middle_20"], out["bb_lower_20"] = talib.BBANDS(c, 20, 2.0, 2.0)
    out["atr_14"] = talib.ATR(h, l, c, 14)
    out["natr_14"] = talib.NATR(h, l, c, 14)
    out["adx_14"] = talib.ADX(h, l, c, 14)
    out["mfi_14"] = talib.MFI(h, l, c, v, 14)
    out["obv"] = talib.OBV(c, v)
    return out


def _spec003_symbol(h: np.ndarray, l: np.ndarray, c: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:  # noqa: E741
    r = np.log(c / _shift(c, 1))
    sample_std_20 = talib.STDDEV(r, 20, 1.0) * math.sqrt(20 / 19)
    typical = (h + l + c) / 3.0
    rng_ = h - l
    position = np.divide(2 * c - h - l, rng_, out=np.zeros_like(c), where=rng_ != 0)
    dv = c * v
    return {
        "log_return_1": r,
        "volume_change_1": v / _shift(v, 1) - 1.0,
        "return_z_score_20": (r - talib.SMA(r, 20)) / sample_std_20,
        "vol_ratio_60": v / talib.SMA(v, 60),
        "atr_ratio_15": talib.TRANGE(h, l, c) / talib.ATR(h, l, c, 15),
        "amihud_illiquidity_20": talib.SMA(np.abs(c / _shift(c, 1) - 1.0) / dv, 20) * 1e6,
        "ibs": np.divide(c - l, rng_, out=np.full_like(c, 0.5), where=rng_ != 0),
        "parkinson_vol_20": np.sqrt(talib.SMA(np.log(h / l) ** 2, 20) / (4 * math.log(2))),
        "efficiency_ratio_10": np.abs(c - _shift(c, 10)) / talib.SUM(np.abs(c - _shift(c, 1)), 10),
        "dist_vwap_20": c / (talib.SUM(typical * v, 20) / talib.SUM(v, 20)) - 1.0,
        "intraday_intensity_20": talib.SUM(position * v, 20) / talib.SUM(v, 20),
        "vol_adj_mom_20": np.log(c / _shift(c, 20)) / (sample_std_20 * math.sqrt(20)),
    }


def talib_loop(panel: pd.DataFrame, with_spec003: bool) -> pd.DataFrame:
    """Per-symbol Python loop over TA-Lib calls; results concatenated back in panel order."""
    h_all, l_all, c_all, v_all = (panel[c].to_numpy(np.float64) for c in ("high", "low", "close", "volume"))
    codes = panel["symbol"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    pieces: dict[str, list[np.ndarray]] = {}
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        h, l, c, v = h_all[a:b], l_all[a:b], c_all[a:b], v_all[a:b]  # noqa: E741
        columns = _talib_symbol(h, l, c, v)
        if with_spec003:
            columns.update(_spec003_symbol(h, l, c, v))
        for name, values in columns.items():
            pieces.setdefault(name, []).append(values)
    frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in pieces.items()}, index=panel.index)
    if with_spec003:
        wall = pd.DatetimeIndex(panel["ts"]).tz_convert("America/New_York")
        minute = (wall.hour * 60 + wall.minute).to_numpy(np.float64) * (2 * np.pi / 1440)
        weekday = wall.dayofweek.to_numpy(np.float64) * (2 * np.pi / 7)
        frame["time_sin"], frame["time_cos"] = np.sin(minute), np.cos(minute)
        frame["day_of_week_sin"], frame["day_of_week_cos"] = np.sin(weekday), np.cos(weekday)
    return frame


# --------------------------------------------------------------------------- naive pandas groupby
def naive_pandas(panel: pd.DataFrame, with_spec003: bool) -> pd.DataFrame:
    """The usual pandas idiom: groupby('symbol') then rolling/ewm/transform per indicator.

    EMA-type recursions use ``ewm(adjust=False)`` (not TA-Lib's SMA seed) - it is the timing baseline
    of the common idiom, not a reference for values.
    """
    g = panel.groupby("symbol", sort=False)
    c, h, l, v = panel["close"], panel["high"], panel["low"], panel["volume"]  # noqa: E741
    gc = g["close"]
    out = pd.DataFrame(index=panel.index)
    out["sma_20"] = gc.rolling(20).mean().reset_index(level=0, drop=True)
    out["ema_20"] = gc.transform(lambda s: s.ewm(span=20, adjust=False).mean())
    weights = np.arange(1, 21, dtype=float)
    out["wma_20"] = gc.rolling(20).apply(lambda x: np.dot(x, weights) / weights.sum(), raw=True).reset_index(level=0, drop=True)
    delta = gc.diff()
    gain = delta.clip(lower=0).groupby(panel["symbol"], sort=False).transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    loss = (-delta).clip(lower=0).groupby(panel["symbol"], sort=False).transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    out["rsi_14"] = 100 * gain / (gain + loss)
    fast = gc.transform(lambda s: s.ewm(span=12, adjust=False).mean())
    slow = gc.transform(lambda s: s.ewm(span=26, adjust=False).mean())
    out["macd"] = fast - slow
    out["macd_signal"] = out["macd"].groupby(panel["symbol"], sort=False).transform(lambda s: s.ewm(span=9, adjust=False).mean())
    out["macd_hist"] = out["macd"] - out["macd_signal"]
    out["roc_10"] = 100 * gc.pct_change(10)
    hh5 = g["high"].rolling(5).max().reset_index(level=0, drop=True)
    ll5 = g["low"].rolling(5).min().reset_index(level=0, drop=True)
    fast_k = 100 * (c - ll5) / (hh5 - ll5)
    out["stoch_k"] = fast_k.groupby(panel["symbol"], sort=False).rolling(3).mean().reset_index(level=0, drop=True)
    out["stoch_d"] = out["stoch_k"].groupby(panel["symbol"], sort=False).rolling(3).mean().reset_index(level=0, drop=True)
    hh14 = g["high"].rolling(14).max().reset_index(level=0, drop=True)
    ll14 = g["low"].rolling(14).min().reset_index(level=0, drop=True)
    out["williams_r_14"] = -100 * (hh14 - c) / (hh14 - ll14)
    tp = (h + l + c) / 3
    gtp = tp.groupby(panel["symbol"], sort=False)
    tp_mean = gtp.rolling(14).mean().reset_index(level=0, drop=True)
    mad = gtp.rolling(14).apply(lambda x: np.abs(x - x.mean()).mean(), raw=True).reset_index(level=0, drop=True)
    out["cci_14"] = (tp - tp_mean) / (0.015 * mad)
    mid = gc.rolling(20).mean().reset_index(level=0, drop=True)
    sd = gc.rolling(20).std(ddof=0).reset_index(level=0, drop=True)
    out["bb_upper_20"], out["bb_middle_20"], out["bb_lower_20"] = mid + 2 * sd, mid, mid - 2 * sd
    prev_close = gc.shift(1)
    tr = pd.concat([h - l, (h - prev_close).abs(), (l - prev_close).abs()], axis=1).max(axis=1, skipna=False)
    gtr = tr.groupby(panel["symbol"], sort=False)
    out["atr_14"] = gtr.transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    out["natr_14"] = 100 * out["atr_14"] / c
    up = g["high"].diff()
    down = -g["low"].diff()
    plus_dm = up.where((up > down) & (up > 0), 0.0)
    minus_dm = down.where((down > up) & (down > 0), 0.0)
    sym = panel["symbol"]
    plus = plus_dm.groupby(sym, sort=False).transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    minus = minus_dm.groupby(sym, sort=False).transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    plus_di, minus_di = 100 * plus / out["atr_14"], 100 * minus / out["atr_14"]
    dx = 100 * (plus_di - minus_di).abs() / (plus_di + minus_di)
    out["adx_14"] = dx.groupby(sym, sort=False).transform(lambda s: s.ewm(alpha=1 / 14, adjust=False).mean())
    flow = tp * v
    tp_change = gtp.diff()
    pos = flow.where(tp_change > 0, 0.0).groupby(sym, sort=False).rolling(14).sum().reset_index(level=0, drop=True)
    neg = flow.where(tp_change < 0, 0.0).groupby(sym, sort=False).rolling(14).sum().reset_index(level=0, drop=True)
    out["mfi_14"] = 100 * pos / (pos + neg)
    signed = np.sign(gc.diff()).fillna(1.0) * v
    out["obv"] = signed.groupby(sym, sort=False).cumsum()
    if not with_spec003:
        return out
    r = np.log(c / prev_close)
    gr = r.groupby(sym, sort=False)
    r_mean = gr.rolling(20).mean().reset_index(level=0, drop=True)
    r_std = gr.rolling(20).std().reset_index(level=0, drop=True)
    out["log_return_1"] = r
    out["volume_change_1"] = g["volume"].pct_change()
    out["return_z_score_20"] = (r - r_mean) / r_std
    out["vol_ratio_60"] = v / g["volume"].rolling(60).mean().reset_index(level=0, drop=True)
    out["atr_ratio_15"] = tr / gtr.transform(lambda s: s.ewm(alpha=1 / 15, adjust=False).mean())
    impact = (c / prev_close - 1).abs() / (c * v)
    out["amihud_illiquidity_20"] = 1e6 * impact.groupby(sym, sort=False).rolling(20).mean().reset_index(level=0, drop=True)
    out["ibs"] = (c - l) / (h - l)
    out["parkinson_vol_20"] = np.sqrt(
        (np.log(h / l) ** 2).groupby(sym, sort=False).rolling(20).mean().reset_index(level=0, drop=True) / (4 * np.log(2))
    )
    path = gc.diff().abs().groupby(sym, sort=False).rolling(10).sum().reset_index(level=0, drop=True)
    out["efficiency_ratio_10"] = gc.diff(10).abs() / path
    pv = (tp * v).groupby(sym, sort=False).rolling(20).sum().reset_index(level=0, drop=True)
    vv = g["volume"].rolling(20).sum().reset_index(level=0, drop=True)
    out["dist_vwap_20"] = c / (pv / vv) - 1
    ii = ((2 * c - h - l) / (h - l) * v).groupby(sym, sort=False).rolling(20).sum().reset_index(level=0, drop=True)
    out["intraday_intensity_20"] = ii / vv
    out["vol_adj_mom_20"] = np.log(c / gc.shift(20)) / (r_std * np.sqrt(20))
    wall = pd.DatetimeIndex(panel["ts"]).tz_convert("America/New_York")
    minute = (wall.hour * 60 + wall.minute).to_numpy(np.float64) * (2 * np.pi / 1440)
    weekday = wall.dayofweek.to_numpy(np.float64) * (2 * np.pi / 7)
    out["time_sin"], out["time_cos"] = np.sin(minute), np.cos(minute)
    out["day_of_week_sin"], out["day_of_week_cos"] = np.sin(weekday), np.cos(weekday)
    return out


# --------------------------------------------------------------------------- measurement


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--years", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true", help="skip the (slow) naive pandas baseline")
    args = parser.parse_args()

    panel = make_panel(args.symbols, args.years)
    full_set = load_indicator_set("default")
    talib_set = IndicatorSet(
        name="talib_subset",
        version=1,
        indicators=[spec for spec in full_set.indicators if spec.name in TALIB_NAMES],
    )
    print(
        f"panel: {args.symbols} symbols x {args.years} years = {len(panel):,} rows; "
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"TA-Lib {talib.__version__}"
    )

    # Sanity: the trademl and TA-Lib loop outputs agree on the TA-Lib subset before anything is timed.
    ours = compute_indicator_set(panel, talib_set)
    reference = talib_loop(panel, with_spec003=False)
    worst = max(
        float(np.nanmax(np.abs(ours[col].to_numpy() - reference[col].to_numpy()) / (1.0 + np.abs(reference[col].to_numpy()))))
        for col in ours.columns
    )
    print(f"max relative difference trademl vs TA-Lib on the subset: {worst:.1e}")
    if worst > 1e-9:
        print("trademl and TA-Lib disagree; not timing")
        return 1

    cases: list[tuple[str, str, Callable[[], object], int]] = [
        ("TA-Lib subset (15 ind., 20 cols)", "trademl", lambda: compute_indicator_set(panel, talib_set), args.repeats),
        ("TA-Lib subset (15 ind., 20 cols)", "TA-Lib loop", lambda: talib_loop(panel, False), args.repeats),
        ("full set (29 ind., 36 cols)", "trademl", lambda: compute_indicator_set(panel, full_set), args.repeats),
        ("full set (29 ind., 36 cols)", "TA-Lib loop", lambda: talib_loop(panel, True), args.repeats),
    ]
    if not args.skip_naive:
        cases.append(("full set (29 ind., 36 cols)", "naive pandas", lambda: naive_pandas(panel, True), 1))

    results: dict[tuple[str, str], tuple[float, float]] = {}
    for case, method, fn, repeats in cases:
        results[(case, method)] = measure(fn, repeats)

    print()
    print("| set | method | wall time (s) | vs trademl | tracemalloc peak (MiB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for case, method, _, _ in cases:
        wall, peak = results[(case, method)]
        ratio = wall / results[(case, "trademl")][0]
        print(f"| {case} | {method} | {wall:.3f} | {ratio:.2f}x | {peak:.0f} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time and peak memory of the label builders on a synthetic daily panel and minute panel.

Run: .venv/bin/python benchmarks/bench_labels.py [--symbols 500] [--years 15]
     [--minute-symbols 20] [--minute-sessions 250]

Each case is timed once without tracing, then run again under tracemalloc for the peak of memory
allocated during the call (numpy and pandas buffers included; the inputs are allocated before).
The plain-loop triple-barrier reference is timed on a sample of events and extrapolated.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

from trademl.calendar import all_sessions_index, session_table  # noqa: E402
from trademl.labels import (  # noqa: E402
    daily_volatility,
    forward_return_labels,
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
    triple_barrier_labels,
)




def daily_panel(n_symbols: int, years: int, seed: int = 0) -> pd.DataFrame:
    """Wide adjusted-close panel: XNYS sessions x symbols, lognormal walks with ~1.5% daily vol."""
    sessions = all_sessions_index()
    idx = sessions[(sessions >= "2006-01-03")][: 252 * years]
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0003, 0.015, size=(len(idx), n_symbols))
    return pd.DataFrame(
        50.0 * np.exp(np.cumsum(steps, axis=0)), index=idx, columns=[f"S{i:04d}" for i in range(n_symbols)]
    )


def minute_panel(n_symbols: int, n_sessions: int, seed: int = 1) -> pd.DataFrame:
    """Regular-hours minute bars from the calendar (half days included) for n_symbols."""
    table = session_table("2023-01-03", "2024-12-31").iloc[:n_sessions]
    ts = pd.DatetimeIndex(
        np.concatenate(
            [
                pd.date_range(o, c, freq="1min", inclusive="left").asi8
                for o, c in zip(table["open_utc"], table["close_utc"], strict=True)
            ]
        ),
        tz="UTC",
    )
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_symbols):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0007, len(ts))))
        frames.append(
            pd.DataFrame(
                {
                    "symbol": f"M{i:03d}",
                    "ts": ts,
                    "open": close * (1 + rng.normal(0, 0.0002, len(ts))),
                    "high": close * 1.0004,
                    "low": close * 0.9996,
                    "close": close,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def reference_loop(close: np.ndarray, rows: np.ndarray, cols: np.ndarray, target: np.ndarray, h: int) -> None:
    """AFML-style per-event loop (the unvectorised baseline)."""
    for r, c, t in zip(rows, cols, target, strict=True):
        p0 = close[r, c]
        for j in range(1, h + 1):
            if r + j >= close.shape[0]:
                break
            ret = close[r + j, c] / p0 - 1
            if ret >= t or ret <= -t:
                break


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--minute-symbols", type=int, default=20)
    ap.add_argument("--minute-sessions", type=int, default=250)
    args = ap.parse_args()

    rows: list[tuple[str, str, float, float]] = []
    wide = daily_panel(args.symbols, args.years)
    long = wide.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    n_cells = wide.size
    daily_desc = f"{args.symbols} sym x {len(wide)} sessions ({n_cells / 1e6:.2f}M rows)"

    s, m = measure(lambda: forward_return_labels(long, (1, 5, 20), kind="both"), repeats=1)
    rows.append(("forward_return_labels k=1,5,20 simple+log", daily_desc, s, m))
    s, m = measure(lambda: daily_volatility(wide, span=100), repeats=1)
    rows.append(("daily_volatility span=100 (wide)", daily_desc, s, m))

    vol = daily_volatility(wide, span=100)
    t_idx, s_idx = np.nonzero(np.isfinite(vol.to_numpy()))
    events = pd.DataFrame({"t0": wide.index[t_idx], "symbol": wide.columns[s_idx]})
    target = vol.to_numpy()[t_idx, s_idx]
    ev_desc = f"{len(events) / 1e6:.2f}M events on {args.symbols} sym"
    for h, chunk in [(10, None), (20, None), (60, None), (20, 2_000), (20, len(events))]:
        label = f"triple_barrier_labels h={h} chunk={'default' if chunk is None else chunk}"
        s, m = measure(
            lambda h=h, chunk=chunk: triple_barrier_labels(
                wide, events, (1.0, 1.0), target=target, max_holding=h, chunk_size=chunk
            ),
            repeats=1,
        )
        rows.append((label, ev_desc, s, m))

    sample = 20_000
    pick = np.random.default_rng(2).choice(len(events), sample, replace=False)
    t0 = time.perf_counter()
    reference_loop(wide.to_numpy(), t_idx[pick], s_idx[pick], target[pick], 20)
    per_event = (time.perf_counter() - t0) / sample
    rows.append(
        (
            "reference per-event Python loop h=20 (extrapolated)",
            ev_desc,
            per_event * len(events),
            float("nan"),
        )
    )

    minutes = minute_panel(args.minute_symbols, args.minute_sessions)
    min_desc = f"{args.minute_symbols} sym x {args.minute_sessions} sessions ({len(minutes) / 1e6:.2f}M bars)"
    cases = [
        ("label_next_hour_direction k_sigma=0.3", lambda: label_next_hour_direction(minutes)),
        ("label_close_to_open_direction", lambda: label_close_to_open_direction(minutes)),
        ("label_forward_return_days days=5", lambda: label_forward_return_days(minutes, days=5)),
        ("label_headfake_reversal (fallback ATR)", lambda: label_headfake_reversal(minutes)),
        ("label_pin_drift (grid strike, fallback ATR)", lambda: label_pin_drift(minutes)),
    ]
    for name, fn in cases:
        s, m = measure(fn, repeats=1)
        rows.append((name, min_desc, s, m))

    print("| case | input | wall s | peak alloc MiB |\n|---|---|---:|---:|")
    for name, desc, s, m in rows:
        mem = "n/a" if np.isnan(m) else f"{m:,.0f}"
        print(f"| {name} | {desc} | {s:.2f} | {mem} |")
    print(f"\nprocess max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()

"""Speed and memory of the validation primitives on production-sized inputs.

CombinatorialPurgedKFold(8, 2, embargo=10) on a 500-symbol x 3,800-session panel (1.9M samples,
label horizons 1-10 sessions), the assembly of its 7 backtest paths, and CSCV/PBO on strategy
return matrices. Run: ``.venv/bin/python benchmarks/bench_cpcv.py``. Prints a markdown table of
wall time (best of 3), the tracemalloc peak of the measured call, and the process
peak RSS at the end.
"""

from __future__ import annotations

import platform
import resource
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

from trademl.validation.cpcv import CombinatorialPurgedKFold  # noqa: E402
from trademl.validation.pbo import probability_of_backtest_overfitting  # noqa: E402

N_SYMBOLS = 500
N_SESSIONS = 3_800
MAX_HORIZON = 10


def make_panel(tz: str | None) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """Date-major panel: every symbol on every session; symbol s has a (s % 10 + 1)-session label."""
    sessions = pd.bdate_range("2010-01-04", periods=N_SESSIONS + MAX_HORIZON, tz=tz)
    day = np.repeat(np.arange(N_SESSIONS), N_SYMBOLS)
    horizon = np.tile(np.arange(N_SYMBOLS) % MAX_HORIZON + 1, N_SESSIONS)
    times = pd.Series(sessions[day])
    t1 = pd.Series(sessions[day + horizon])
    X = np.empty((day.size, 0))
    return X, times, t1




def main() -> None:
    rows: list[tuple[str, str, float, float]] = []
    cv = CombinatorialPurgedKFold(8, 2, embargo=10)

    for label, tz in (("naive datetime64", None), ("tz-aware UTC", "UTC")):
        X, times, t1 = make_panel(tz)

        def all_splits(X=X, times=times, t1=t1) -> int:
            return sum(train.size + test.size for train, test in cv.split(X, times=times, t1=t1))

        seconds, peak = measure(all_splits)
        rows.append(
            (f"CPCV(8, 2, embargo=10): all 28 splits, {label}", f"{times.size:,} samples", seconds, peak)
        )

    X, times, t1 = make_panel(None)
    tests = [test for _, test in cv.split(X, times=times, t1=t1)]
    predictions = [np.asarray(test, dtype=np.float64) for test in tests]
    seconds, peak = measure(lambda: cv.backtest_paths(predictions, times=times))
    rows.append(("CPCV backtest_paths: 7 paths", f"{times.size:,} samples", seconds, peak))

    rng = np.random.default_rng(0)
    for n_periods, n_strategies in ((2_500, 100), (2_500, 1_000)):
        returns = rng.normal(0.0, 0.01, size=(n_periods, n_strategies))
        seconds, peak = measure(lambda r=returns: probability_of_backtest_overfitting(r, n_partitions=16))
        rows.append(
            (
                "PBO (CSCV, S=16, 12,870 combinations, Sharpe)",
                f"{n_periods:,} x {n_strategies:,}",
                seconds,
                peak,
            )
        )

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}\n")
    print("| case | size | wall time (s) | tracemalloc peak (MiB) |")
    print("| --- | --- | ---: | ---: |")
    for case, size, seconds, peak in rows:
        print(f"| {case} | {size} | {seconds:.3f} | {peak:.0f} |")
    print(f"\nProcess peak RSS (whole script, inputs included): {peak_rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()

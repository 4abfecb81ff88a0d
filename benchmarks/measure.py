"""The one timing helper of the benchmark scripts: best wall time of a few runs and peak memory of one more."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable


def measure(fn: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """Best wall time over ``repeats`` runs (seconds) and the tracemalloc peak of one further run (MiB)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20

"""Recursive smoothers (EMA, Wilder) along axis 1 of a ``(symbols x bars)`` block, seeded as TA-Lib does.

A seeded first-order recursion is

    y[q] = seed = mean (or sum) of the first ``seed_length`` finite inputs (after ``skip`` of them)
    y[t] = decay * y[t-1] + gain * x[t]            for t > q

with NaN before ``q``. It is linear and time-invariant after the seed, so each block is filtered in
one ``scipy.signal.lfilter`` call along axis 1 with a per-row initial state ``zi = decay * seed``:
rows (symbols) never exchange state and no Python loop touches individual bars.

* TA-Lib EMA(n): seed = SMA of the first n values, decay = 1 - 2/(n+1), gain = 2/(n+1).
* Wilder average (RSI, ATR, ADX's final smoothing): seed = mean of the first n values,
  decay = (n-1)/n, gain = 1/n.
* Wilder running sum (ADX's +DM, -DM, TR): seed = sum of the first n-1 values, decay = 1 - 1/n, gain = 1.

A NaN inside the recursion propagates to every later value of that row, as in TA-Lib; leading NaNs
only delay the seed (TA-Lib's Python wrapper starts each series at its first finite bar).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def first_finite_column(values: np.ndarray) -> np.ndarray:
    """Column of each row's first finite value (the row width when it has none)."""
    finite = np.isfinite(values)
    first = finite.argmax(axis=1)
    first[~finite[np.arange(values.shape[0]), first]] = values.shape[1]
    return first


def seeded_recursion(
    values: np.ndarray,
    *,
    seed_length: int,
    decay: float,
    gain: float,
    seed: str = "mean",
    skip: int = 0,
    hold: np.ndarray | None = None,
) -> np.ndarray:
    """Run ``y[t] = decay*y[t-1] + gain*x[t]`` per row from a seed over the row's first finite inputs.

    ``skip`` finite inputs are passed over before the seed window (TA-Lib's MACD seeds its fast EMA
    on the bars that end where the slow EMA's seed ends). ``hold`` marks cells where the state is
    carried over unchanged instead of updated (TA-Lib's ADX when DX is undefined).
    """
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D (symbols x bars) array, got {values.ndim}-D")
    if seed_length < 1:
        raise ValueError(f"seed_length must be a positive integer, got {seed_length}")
    if seed not in ("mean", "sum"):
        raise ValueError(f"seed must be 'mean' or 'sum', got {seed!r}")
    rows, width = values.shape
    if hold is not None and not hold.any():
        hold = None
    out = np.full((rows, width), np.nan)
    start = first_finite_column(values) + skip
    seed_col = start + seed_length - 1
    seeded = np.flatnonzero(seed_col < width)
    if seeded.size == 0:
        return out
    window_cols = start[seeded, None] + np.arange(seed_length)[None, :]
    seeds = values[seeded[:, None], window_cols].sum(axis=1)
    if seed == "mean":
        seeds = seeds / seed_length
    out[seeded, seed_col[seeded]] = seeds

    denominator = [1.0, -decay]
    numerator = [gain]
    first_update = seed_col[seeded] + 1
    same_start = bool(np.all(first_update == first_update[0]))
    if hold is None and same_start and seeded.size == rows:
        begin = int(first_update[0])
        if begin < width:
            initial = (decay * seeds)[:, None]
            out[:, begin:], _ = lfilter(numerator, denominator, values[:, begin:], axis=1, zi=initial)
        return out
    _recurse_ragged(values, out, seeded, seed_col[seeded], seeds, numerator, denominator, decay, hold)
    return out


def _recurse_ragged(
    values: np.ndarray,
    out: np.ndarray,
    rows: np.ndarray,
    seed_col: np.ndarray,
    seeds: np.ndarray,
    numerator: list[float],
    denominator: list[float],
    decay: float,
    hold: np.ndarray | None,
) -> None:
    """Recursion for rows whose seeds sit in different columns or that have held cells.

    Each row's update cells are compacted to the left (a stable argsort of a boolean mask keeps
    their order), filtered in one lfilter call, written back, and held cells copy the last state.
    """
    width = values.shape[1]
    cols = np.arange(width)[None, :]
    update = cols > seed_col[:, None]
    if hold is not None:
        held = hold[rows] & update
        update &= ~held
    counts = update.sum(axis=1)
    longest = int(counts.max())
    if longest > 0:
        order = np.argsort(~update, axis=1, kind="stable")[:, :longest]
        live = np.arange(longest)[None, :] < counts[:, None]
        compact = np.where(live, np.take_along_axis(values[rows], order, axis=1), 0.0)
        filtered, _ = lfilter(numerator, denominator, compact, axis=1, zi=(decay * seeds)[:, None])
        row_index = np.broadcast_to(rows[:, None], order.shape)
        out[row_index[live], order[live]] = filtered[live]
    if hold is not None and held.any():
        written = update | (cols == seed_col[:, None])
        last = np.maximum.accumulate(np.where(written, cols, 0), axis=1)
        held_rows, held_cols = np.nonzero(held)
        out[rows[held_rows], held_cols] = out[rows[held_rows], last[held_rows, held_cols]]


def ema(values: np.ndarray, period: int, *, skip: int = 0) -> np.ndarray:
    """TA-Lib EMA: seeded with the SMA of the first ``period`` finite values, k = 2/(period+1)."""
    k = 2.0 / (period + 1)
    return seeded_recursion(values, seed_length=period, decay=1.0 - k, gain=k, skip=skip)


def wilder_average(values: np.ndarray, period: int, *, hold: np.ndarray | None = None) -> np.ndarray:
    """Wilder's smoothed average: seeded with the mean of the first ``period`` values, alpha = 1/period."""
    return seeded_recursion(
        values, seed_length=period, decay=(period - 1) / period, gain=1.0 / period, hold=hold
    )


def wilder_sum(values: np.ndarray, period: int) -> np.ndarray:
    """Wilder's running sum S = S - S/period + x, seeded with the sum of the first ``period - 1`` values."""
    return seeded_recursion(values, seed_length=period - 1, decay=1.0 - 1.0 / period, gain=1.0, seed="sum")


def running_total(values: np.ndarray) -> np.ndarray:
    """Cumulative sum along each row from its first finite value (NaN before it and after any NaN)."""
    return seeded_recursion(values, seed_length=1, decay=1.0, gain=1.0, seed="sum")

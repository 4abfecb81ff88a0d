"""Trailing-window statistics along axis 1 of a ``(symbols x bars)`` block.

Every function takes a 2-D float array whose rows are independent series (one symbol each, column 0
= first bar) and returns an array of the same shape whose column ``t`` uses columns ``t-window+1..t``
only. Columns before the first full window are NaN, and a NaN anywhere inside a window makes that
window NaN, so leading NaNs simply delay the first value (as the TA-Lib wrapper does).

Sums and extremes over windows up to ``LAG_LOOP_MAX_WINDOW`` bars fold the window's lags with one
contiguous vectorised pass per lag (each window's value is computed from its own ``window`` inputs,
so there is no running-sum drift and an all-zero window is exactly 0). Longer windows, and all
variances, use the van Herk / Gil-Werman block decomposition: each row is cut into
blocks of ``window`` bars anchored at column 0; a window is the suffix of one block plus the prefix of
the next, so with one prefix and one suffix scan per block every window costs O(1) and is computed
from at most ``2*window`` values (no long running sums, hence no drift and no dependence on other
rows or later bars). Statistics without such a decomposition (mean absolute deviation, weighted
sums) loop over the ``window`` lags, each lag being one vectorised pass over the block.
"""

from __future__ import annotations

import numpy as np


# Up to this window a sum/extreme is folded lag by lag (window-1 contiguous SIMD passes); longer
# windows use the van Herk / Gil-Werman blocks, whose cost does not grow with the window but whose
# short-axis scans cost about as much as ~50 contiguous passes (measured on 8 x 3,780 blocks).
LAG_LOOP_MAX_WINDOW = 48


def _check(values: np.ndarray, window: int) -> None:
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D (symbols x bars) array, got {values.ndim}-D")
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")


def _blocked(values: np.ndarray, window: int, fill: float) -> tuple[np.ndarray, int]:
    """``values`` padded on the right to a multiple of ``window`` and viewed as (rows, blocks, window)."""
    rows, width = values.shape
    n_blocks = -(-width // window)
    padded_width = n_blocks * window
    if padded_width == width and values.flags.c_contiguous:
        return values.reshape(rows, n_blocks, window), padded_width
    padded = np.full((rows, padded_width), fill, dtype=np.float64)
    padded[:, :width] = values
    return padded.reshape(rows, n_blocks, window), padded_width


def _prefix_suffix(blocks: np.ndarray, ufunc: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """Within-block running ``ufunc`` from the block start (prefix) and from the block end (suffix)."""
    rows, n_blocks, window = blocks.shape
    prefix = ufunc.accumulate(blocks, axis=2).reshape(rows, n_blocks * window)
    suffix = np.ascontiguousarray(ufunc.accumulate(blocks[:, :, ::-1], axis=2)[:, :, ::-1])
    return prefix, suffix.reshape(rows, n_blocks * window)


def _over_lags(values: np.ndarray, window: int, ufunc: np.ufunc) -> np.ndarray:
    """``ufunc`` folded over the ``window`` lags, one contiguous vectorised pass per lag (short windows)."""
    rows, width = values.shape
    out = np.empty((rows, width), dtype=np.float64)
    out[:, : window - 1] = np.nan
    if width < window:
        return out
    n_out = width - window + 1
    acc = out[:, window - 1 :]
    np.copyto(acc, values[:, window - 1 :])
    for lag in range(window - 1):  # loop over the window's lags, each one a vectorised pass
        ufunc(acc, values[:, lag : lag + n_out], out=acc)
    return out


def _combine(values: np.ndarray, window: int, ufunc: np.ufunc, fill: float) -> np.ndarray:
    rows, width = values.shape
    if window <= LAG_LOOP_MAX_WINDOW:
        return _over_lags(values, window, ufunc)
    out = np.full((rows, width), np.nan)
    if width < window:
        return out
    blocks, padded_width = _blocked(values, window, fill)
    prefix, suffix = _prefix_suffix(blocks, ufunc)
    if ufunc is np.add:
        # The window ending at t starts at s = t - window + 1. When s opens a block the window is
        # exactly that block, already counted by prefix[t]: its suffix term must add nothing.
        suffix[:, ::window] = 0.0
    # (maximum/minimum are idempotent: a block-aligned window just takes the block extreme twice.)
    combined = ufunc(prefix[:, window - 1 : width], suffix[:, : width - window + 1])
    out[:, window - 1 :] = combined
    return out


def rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the last ``window`` values (NaN until the window is full or when it holds a NaN)."""
    _check(values, window)
    if window == 1:
        return values.astype(np.float64, copy=True)
    return _combine(values, window, np.add, 0.0)


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average over the last ``window`` values."""
    return rolling_sum(values, window) / window


def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Highest of the last ``window`` values (exact; NaN propagates)."""
    _check(values, window)
    if window == 1:
        return values.astype(np.float64, copy=True)
    return _combine(values, window, np.maximum, np.nan)


def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    """Lowest of the last ``window`` values (exact; NaN propagates)."""
    _check(values, window)
    if window == 1:
        return values.astype(np.float64, copy=True)
    return _combine(values, window, np.minimum, np.nan)


def _reverse_cumsum(blocks: np.ndarray) -> np.ndarray:
    """Within-block running sum from the block end backwards, as a contiguous array."""
    return np.ascontiguousarray(np.cumsum(blocks[:, :, ::-1], axis=2)[:, :, ::-1])


def rolling_var(values: np.ndarray, window: int, ddof: int = 0) -> np.ndarray:
    """Variance of the last ``window`` values with divisor ``window - ddof`` (ddof=0: population).

    Each window is split into a block suffix and a block prefix; each part's sum of squares is taken
    around one of its own values (no E[x^2]-E[x]^2 cancellation at price level) and the parts are
    merged with Chan et al.'s pairwise update, so a flat window gives exactly 0.
    """
    _check(values, window)
    if ddof < 0 or ddof >= window:
        raise ValueError(f"ddof must be in [0, window), got ddof={ddof} for window={window}")
    rows, width = values.shape
    out = np.full((rows, width), np.nan)
    if width < window:
        return out
    if window == 1:
        out[:] = np.where(np.isfinite(values), 0.0, np.nan)
        return out
    blocks, padded_width = _blocked(values, window, np.nan)
    # Prefix part of a window (block start .. t), centred on the block's first value.
    dev = blocks - blocks[:, :, :1]
    prefix_sum = np.cumsum(dev, axis=2).reshape(rows, padded_width)
    np.square(dev, out=dev)
    prefix_sq = np.cumsum(dev, axis=2).reshape(rows, padded_width)
    first_value = np.repeat(blocks[:, :, 0], window, axis=1)
    # Suffix part (s .. block end), centred on the block's last value, which lies inside the window
    # whenever the part is non-empty.
    dev = blocks - blocks[:, :, -1:]
    suffix_sum = _reverse_cumsum(dev).reshape(rows, padded_width)
    np.square(dev, out=dev)
    suffix_sq = _reverse_cumsum(dev).reshape(rows, padded_width)
    last_value = np.repeat(blocks[:, :, -1], window, axis=1)
    # A block-aligned window is one block: its suffix part is empty and must contribute nothing.
    suffix_sum[:, ::window] = 0.0
    suffix_sq[:, ::window] = 0.0

    n_out = width - window + 1
    t = np.arange(window - 1, width)
    n_prefix = (t % window + 1).astype(np.float64)  # bars of the window inside t's block
    n_suffix = window - n_prefix  # bars inside the previous block (0 when the window is one block)
    n_suffix_safe = np.where(n_suffix > 0, n_suffix, 1.0)

    sum_p = prefix_sum[:, window - 1 : width]
    sum_s = suffix_sum[:, :n_out]
    mean_p = first_value[:, window - 1 : width] + sum_p / n_prefix
    mean_s = last_value[:, :n_out] + sum_s / n_suffix_safe
    delta = mean_p - mean_s
    m2 = prefix_sq[:, window - 1 : width] - sum_p * sum_p / n_prefix
    m2 += suffix_sq[:, :n_out] - sum_s * sum_s / n_suffix_safe
    m2 += delta * delta * (n_suffix * n_prefix / window)
    np.maximum(m2, 0.0, out=m2)
    out[:, window - 1 :] = m2 / (window - ddof)
    return out


def rolling_std(values: np.ndarray, window: int, ddof: int = 0) -> np.ndarray:
    """Standard deviation of the last ``window`` values (see :func:`rolling_var`)."""
    return np.sqrt(rolling_var(values, window, ddof))


def rolling_weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] * values[t - window + 1 + j]`` (weights[-1] applies to the newest bar)."""
    weights = np.asarray(weights, dtype=np.float64)
    window = int(weights.size)
    _check(values, window)
    rows, width = values.shape
    out = np.full((rows, width), np.nan)
    if width < window:
        return out
    n_out = width - window + 1
    acc = np.zeros((rows, n_out))
    term = np.empty((rows, n_out))
    for j in range(window):  # loop over the window's lags, each one a vectorised pass
        np.multiply(values[:, j : j + n_out], weights[j], out=term)
        acc += term
    out[:, window - 1 :] = acc
    return out


def rolling_mean_abs_deviation(values: np.ndarray, window: int, centre: np.ndarray) -> np.ndarray:
    """``mean_j |values[t-j] - centre[t]|`` over the last ``window`` values (CCI's mean deviation).

    ``centre`` is usually the rolling mean of the same window; the loop runs over the window's lags.
    """
    _check(values, window)
    rows, width = values.shape
    out = np.full((rows, width), np.nan)
    if width < window:
        return out
    n_out = width - window + 1
    target = centre[:, window - 1 :]
    acc = np.zeros((rows, n_out))
    term = np.empty((rows, n_out))
    for j in range(window):  # loop over the window's lags, each one a vectorised pass
        np.subtract(values[:, j : j + n_out], target, out=term)
        np.abs(term, out=term)
        acc += term
    out[:, window - 1 :] = acc / window
    return out


def shift(values: np.ndarray, periods: int) -> np.ndarray:
    """``values`` delayed by ``periods`` bars along each row (first ``periods`` columns NaN)."""
    if periods < 0:
        raise ValueError(f"periods must be non-negative, got {periods}")
    out = np.empty(values.shape, dtype=np.float64)
    out[:, :periods] = np.nan  # (a slice past the width just covers every column)
    if periods < values.shape[1]:
        out[:, periods:] = values[:, : values.shape[1] - periods]
    return out


def difference(values: np.ndarray, periods: int = 1) -> np.ndarray:
    """``values[t] - values[t - periods]`` along each row (first ``periods`` columns NaN)."""
    if periods < 1:
        raise ValueError(f"periods must be positive, got {periods}")
    out = np.empty(values.shape, dtype=np.float64)
    out[:, :periods] = np.nan
    if periods < values.shape[1]:
        np.subtract(values[:, periods:], values[:, :-periods], out=out[:, periods:])
    return out

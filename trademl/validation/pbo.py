"""Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting", Journal of
Computational Finance 20(4), 2017 (SSRN 2326253, 2014). The T x N matrix of returns of N strategy
configurations is cut into S equal row blocks; every choice of S/2 blocks is an in-sample set and
its complement the out-of-sample set. For each of the C(S, S/2) choices the best in-sample
configuration is located in the out-of-sample ranking; PBO is the share of choices in which it
lands at or below the median (logit of its relative rank <= 0).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_COMBINATIONS = 1_000_000
_CHUNK = 2048
_SHARPE_EPS = 1e-9


@dataclass(frozen=True)
class PBOResult:
    """Outcome of CSCV; every array has one entry per in-sample/out-of-sample combination.

    ``pbo`` – share of combinations whose in-sample winner ranks at or below the OOS median.
    ``logits`` – ``ln(w / (1 - w))`` of the winner's OOS relative rank ``w = rank / (N + 1)``.
    ``selected`` – column of the in-sample winner; ``is_performance`` / ``oos_performance`` – its
    metric in and out of sample. ``degradation_slope``, ``degradation_intercept`` and
    ``degradation_r2`` – least-squares fit ``oos = intercept + slope * is`` (performance
    degradation); ``prob_oos_loss`` – share of combinations with ``oos_performance < 0``.
    """

    pbo: float
    logits: np.ndarray
    oos_relative_rank: np.ndarray
    selected: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    degradation_r2: float
    prob_oos_loss: float
    n_partitions: int
    rows_used: int

    @property
    def n_combinations(self) -> int:
        """Number of in-sample/out-of-sample combinations, ``C(S, S/2)``."""
        return int(self.logits.size)


def _returns_matrix(returns: Any) -> np.ndarray:
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"returns must be a 2-D (periods x strategies) matrix, got shape {matrix.shape}")
    if matrix.shape[1] < 2:
        raise ValueError(f"returns needs at least 2 strategy columns to rank, got {matrix.shape[1]}")
    if not np.isfinite(matrix).all():
        raise ValueError("returns contains NaN or infinite values; CSCV needs a complete, aligned matrix")
    return matrix


def _block_moments(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means and per-block sums / sums of squares of the returns centred on those means.

    Centring first keeps the sum-of-squares variance free of cancellation error.
    """
    column_mean = blocks.mean(axis=(0, 1))
    centred = blocks - column_mean
    return column_mean, centred.sum(axis=1), (centred**2).sum(axis=1)


def _block_sharpes(
    moments: tuple[np.ndarray, np.ndarray, np.ndarray], rows_per_block: int, combos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-period Sharpe (ddof=1) of every strategy on each combination's rows and on the complement.

    Works from the per-block moments, so each combination costs two small matrix products instead
    of a pass over the data.
    """
    column_mean, block_sum, block_sq = moments
    n_blocks = block_sum.shape[0]
    membership = np.zeros((combos.shape[0], n_blocks))
    np.put_along_axis(membership, combos, 1.0, axis=1)
    n_rows = rows_per_block * (n_blocks // 2)
    out = []
    for member in (membership, 1.0 - membership):
        mean = (member @ block_sum) / n_rows
        variance = np.maximum(member @ block_sq - n_rows * mean**2, 0.0) / (n_rows - 1)
        out.append((column_mean + mean) / np.maximum(np.sqrt(variance), _SHARPE_EPS))
    return out[0], out[1]


def _metric_on_rows(metric: Callable[[np.ndarray], Any], rows: np.ndarray, n_strategies: int) -> np.ndarray:
    values = np.asarray(metric(rows), dtype=np.float64)
    if values.shape != (n_strategies,):
        raise ValueError(
            f"metric must return one value per strategy, shape ({n_strategies},); got {values.shape}"
        )
    if np.isnan(values).any():
        raise ValueError("metric returned NaN for some strategy")
    return values


def probability_of_backtest_overfitting(
    returns: Any, n_partitions: int = 16, metric: Callable[[np.ndarray], Any] | None = None
) -> PBOResult:
    """PBO of selecting the best of N strategies by ``metric``, estimated by CSCV.

    ``returns``: T x N per-period returns (ndarray or DataFrame, rows in time order, no NaN).
    ``n_partitions`` (S, even): row blocks; the ``T mod S`` oldest rows are dropped so blocks are
    equal. ``metric``: maps a (rows x N) array to N performance values, higher is better; default
    the per-period Sharpe ratio (ddof=1, std floored at 1e-9). A custom metric is called twice per
    combination (a loop over C(S, S/2) combinations); the default is fully vectorised.
    """
    matrix = _returns_matrix(returns)
    if isinstance(n_partitions, bool) or not isinstance(n_partitions, numbers.Integral):
        raise ValueError(f"n_partitions must be an integer, got {n_partitions!r}")
    if n_partitions < 2 or n_partitions % 2:
        raise ValueError(f"n_partitions must be an even integer >= 2, got {n_partitions}")
    n_partitions = int(n_partitions)
    if math.comb(n_partitions, n_partitions // 2) > MAX_COMBINATIONS:
        raise ValueError(f"n_partitions={n_partitions} gives more than {MAX_COMBINATIONS:,} combinations")
    n_periods, n_strategies = matrix.shape
    rows_per_block = n_periods // n_partitions
    if rows_per_block < 2:
        raise ValueError(
            f"returns has {n_periods} rows; need at least 2 per partition "
            f"({2 * n_partitions} for S={n_partitions})"
        )
    rows_used = rows_per_block * n_partitions
    blocks = matrix[n_periods - rows_used :].reshape(n_partitions, rows_per_block, n_strategies)
    combos = np.array(list(itertools.combinations(range(n_partitions), n_partitions // 2)), dtype=np.intp)
    moments = _block_moments(blocks) if metric is None else None

    selected_parts, is_parts, oos_parts, rank_parts = [], [], [], []
    for start in range(0, combos.shape[0], _CHUNK):
        chunk = combos[start : start + _CHUNK]
        if metric is None:
            perf_is, perf_oos = _block_sharpes(moments, rows_per_block, chunk)
        else:
            complement = np.array([np.setdiff1d(np.arange(n_partitions), c) for c in chunk])
            perf_is = np.stack(
                [_metric_on_rows(metric, blocks[c].reshape(-1, n_strategies), n_strategies) for c in chunk]
            )
            perf_oos = np.stack(
                [
                    _metric_on_rows(metric, blocks[c].reshape(-1, n_strategies), n_strategies)
                    for c in complement
                ]
            )
        best = np.argmax(perf_is, axis=1)
        rows = np.arange(chunk.shape[0])
        best_oos = perf_oos[rows, best]
        below = (perf_oos < best_oos[:, None]).sum(axis=1)
        tied = (perf_oos == best_oos[:, None]).sum(axis=1)
        rank_parts.append(below + (tied + 1) / 2.0)  # 1-based average rank among N
        selected_parts.append(best)
        is_parts.append(perf_is[rows, best])
        oos_parts.append(best_oos)

    relative_rank = np.concatenate(rank_parts) / (n_strategies + 1)
    logits = np.log(relative_rank / (1.0 - relative_rank))
    is_perf = np.concatenate(is_parts)
    oos_perf = np.concatenate(oos_parts)
    slope, intercept, r2 = _degradation_fit(is_perf, oos_perf)
    return PBOResult(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        oos_relative_rank=relative_rank,
        selected=np.concatenate(selected_parts),
        is_performance=is_perf,
        oos_performance=oos_perf,
        degradation_slope=slope,
        degradation_intercept=intercept,
        degradation_r2=r2,
        prob_oos_loss=float(np.mean(oos_perf < 0)),
        n_partitions=n_partitions,
        rows_used=rows_used,
    )


def _degradation_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line ``y = intercept + slope * x`` and its R^2 (NaN when x has no spread)."""
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if sxx == 0.0:
        return math.nan, math.nan, math.nan
    dy = y - y.mean()
    slope = float(dx @ dy) / sxx
    syy = float(dy @ dy)
    r2 = (float(dx @ dy) ** 2 / (sxx * syy)) if syy > 0 else math.nan
    return slope, float(y.mean() - slope * x.mean()), r2

"""Purged, embargoed walk-forward (expanding window) cross-validation (spec 000, "CV Module").

The time axis is cut into ``n_splits + 1`` contiguous blocks of near-equal size. Split ``i`` tests
on block ``i + 1`` and trains on everything before it, except a gap of
``ceil(embargo * test size)`` units immediately before the test block. Training never uses data
after the test block, so the only leak left is training labels that look forward into the test
window; that gap purges them. Without ``times`` the rows of ``X`` are the time axis (they must be
in time order); with ``times`` the blocks are built over unique timestamps, so all symbols of one
session share a block.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from trademl.validation._timeline import Timeline, fold_bounds, n_samples_of


class PurgedEmbargoedWalkForwardSplit:
    """Expanding-window walk-forward splitter with a purge/embargo gap before each test block.

    ``embargo`` is a fraction of the test block size (spec 000); the gap is rounded up so any
    positive embargo removes at least one unit (row, or unique timestamp when ``times`` is given).
    """

    def __init__(self, n_splits: int = 5, embargo: float = 0.0) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(f"n_splits must be an integer, got {n_splits!r}")
        if n_splits < 1:
            raise ValueError(f"n_splits must be at least 1, got {n_splits}")
        if isinstance(embargo, bool) or not isinstance(embargo, numbers.Real):
            raise ValueError(f"embargo must be a real number (fraction of the test size), got {embargo!r}")
        if not math.isfinite(embargo) or embargo < 0:
            raise ValueError(
                f"embargo must be a finite, non-negative fraction of the test size, got {embargo}"
            )
        self.n_splits = int(n_splits)
        self.embargo = float(embargo)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_splits={self.n_splits}, embargo={self.embargo})"

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits (scikit-learn protocol); the arguments are ignored."""
        return self.n_splits

    def gap_size(self, test_size: int) -> int:
        """Units dropped before a test block of ``test_size`` units: ``ceil(embargo * test_size)``."""
        # Round first so 0.1 * 30 counts as 3, not 4 after floating-point noise.
        return math.ceil(round(self.embargo * test_size, 9))

    def split(
        self, X: Any, y: Any = None, groups: Any = None, *, times: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` positional int arrays, oldest test block first.

        ``times`` (optional, aligned with the rows of ``X``) switches the time axis from row order
        to unique timestamps. ``y`` and ``groups`` are ignored (scikit-learn compatibility). Raises
        ValueError when there are fewer units than blocks or a gap leaves no training data.
        """
        n_samples = n_samples_of(X)
        if times is None:
            if n_samples == 0:
                raise ValueError("X is empty: there are no samples to split")
            position = None
            n_units = n_samples
        else:
            timeline = Timeline.from_times(times, X=X)
            position = timeline.position
            n_units = timeline.n_units
        n_blocks = self.n_splits + 1
        if n_units < n_blocks:
            unit = "rows" if times is None else "unique timestamps"
            raise ValueError(
                f"need at least {n_blocks} {unit} for {self.n_splits} walk-forward splits, got {n_units}"
            )
        bounds = fold_bounds(n_units, n_blocks)
        for block in range(1, n_blocks):
            start, stop = int(bounds[block]), int(bounds[block + 1])
            train_stop = start - self.gap_size(stop - start)
            if train_stop <= 0:
                raise ValueError(
                    f"split {block - 1}: embargo={self.embargo} removes all {start} training units "
                    "before the test block; lower the embargo or the number of splits"
                )
            if position is None:
                yield np.arange(train_stop, dtype=np.intp), np.arange(start, stop, dtype=np.intp)
            else:
                yield (
                    np.flatnonzero(position < train_stop),
                    np.flatnonzero((position >= start) & (position < stop)),
                )

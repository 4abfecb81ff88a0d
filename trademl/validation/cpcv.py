"""Combinatorial purged cross-validation (CPCV) over a multi-symbol panel.

López de Prado, *Advances in Financial Machine Learning* (2018), ch. 7 and 12. The sorted unique
sample timestamps are cut into ``n_splits`` contiguous folds, so all symbols of one session share a
fold (SSOT 6.2). Every combination of ``n_test_splits`` folds is a test set; the rest is training,
minus

* **purge** – every training sample whose label interval ``[time, t1]`` overlaps a test fold's
  span ``[first test time, last test label end]``, and
* **embargo** – every training sample that starts within the ``embargo`` unique timestamps that
  follow a test fold's span (AFML snippet 7.2: the embargo extends the test span's end).

Purging is across all symbols: cross-sectional labels of one period share market moves, so another
symbol's overlapping label leaks just as much as the same symbol's. The ``C(N, k)`` test sets
recombine into ``C(N, k) * k / N`` full out-of-sample backtest paths.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from trademl.validation._timeline import Timeline, fold_bounds


class CombinatorialPurgedKFold:
    """CPCV splitter: ``C(n_splits, n_test_splits)`` purged and embargoed train/test splits.

    ``embargo`` is counted in unique timestamps (sessions for daily data; SSOT default 10).
    Splits are yielded in the lexicographic order of their test-fold combinations
    (``itertools.combinations``).
    """

    def __init__(self, n_splits: int = 8, n_test_splits: int = 2, embargo: int = 10) -> None:
        for name, value in (("n_splits", n_splits), ("n_test_splits", n_test_splits), ("embargo", embargo)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}")
        if not 1 <= n_test_splits < n_splits:
            raise ValueError(
                f"n_test_splits must be in [1, n_splits - 1] = [1, {n_splits - 1}], got {n_test_splits}"
            )
        if embargo < 0:
            raise ValueError(f"embargo must be a non-negative number of timestamps, got {embargo}")
        self.n_splits = int(n_splits)
        self.n_test_splits = int(n_test_splits)
        self.embargo = int(embargo)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_splits={self.n_splits}, n_test_splits={self.n_test_splits}, "
            f"embargo={self.embargo})"
        )

    @property
    def n_combinations(self) -> int:
        """Number of train/test splits, ``C(n_splits, n_test_splits)``."""
        return math.comb(self.n_splits, self.n_test_splits)

    @property
    def n_paths(self) -> int:
        """Number of full backtest paths, ``C(N, k) * k / N`` (each fold is tested that many times)."""
        return self.n_combinations * self.n_test_splits // self.n_splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits (scikit-learn protocol); the arguments are ignored."""
        return self.n_combinations

    @property
    def test_fold_combinations(self) -> np.ndarray:
        """Test folds of each split, shape ``(n_combinations, n_test_splits)``, in split order."""
        combos = itertools.combinations(range(self.n_splits), self.n_test_splits)
        return np.array(list(combos), dtype=np.intp).reshape(-1, self.n_test_splits)

    def path_ids(self) -> np.ndarray:
        """Backtest path of each test fold in each split, shape ``(n_combinations, n_test_splits)``.

        Fold ``j`` is tested in ``n_paths`` splits; the ``p``-th of those (in split order) feeds
        path ``p``. Each path therefore covers every fold exactly once.
        """
        combos = self.test_fold_combinations
        flat = combos.ravel()
        order = np.argsort(flat, kind="stable")
        occurrence = np.empty_like(flat)
        occurrence[order] = np.tile(np.arange(self.n_paths), self.n_splits)
        return occurrence.reshape(combos.shape)

    def fold_ids(self, times: Any) -> np.ndarray:
        """Fold of each sample, from its start timestamp (all samples of a timestamp share a fold)."""
        timeline = Timeline.from_times(times, X=times)
        return self._fold_of_unit(timeline)[timeline.position]

    def _fold_of_unit(self, timeline: Timeline) -> np.ndarray:
        bounds = fold_bounds(timeline.n_units, self.n_splits)
        return np.repeat(np.arange(self.n_splits), np.diff(bounds))

    def split(
        self, X: Any, y: Any = None, groups: Any = None, *, times: Any, t1: Any
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, test_idx)`` positional int arrays for every test-fold combination.

        ``times`` is each sample's start timestamp and ``t1`` its label end (Series or arrays
        aligned with the rows of ``X``; any row order). ``y`` and ``groups`` are accepted for
        scikit-learn compatibility and ignored. Raises ValueError when purge and embargo leave a
        split without training samples.
        """
        timeline = Timeline.from_times(times, X=X)
        label_end = timeline.label_end_positions(t1, X=X)
        position = timeline.position
        n_units = timeline.n_units
        bounds = fold_bounds(n_units, self.n_splits)
        # Per unit: the last and the first unique timestamp reached by its samples' labels.
        unit_label_end = np.full(n_units, -1, dtype=np.intp)
        np.maximum.at(unit_label_end, position, label_end)
        unit_label_min = np.full(n_units, n_units, dtype=np.intp)
        np.minimum.at(unit_label_min, position, label_end)
        fold_label_end = np.maximum.reduceat(unit_label_end, bounds[:-1])
        # Everything is decided on the unit axis first (a loop over the C(N, k) combinations,
        # 28 for the default), so an impossible configuration fails before any split is yielded.
        plans = [self._unit_plan(combo, bounds, fold_label_end) for combo in self.test_fold_combinations]
        for split_no, (combo, (_, threshold)) in enumerate(
            zip(self.test_fold_combinations, plans, strict=True)
        ):
            if not (unit_label_min < threshold).any():
                raise ValueError(
                    f"split {split_no} (test folds {tuple(int(f) for f in combo)}) has no training samples "
                    f"left after purge and embargo={self.embargo}; use fewer test folds, a shorter embargo "
                    "or shorter label horizons"
                )
        for test_unit, threshold in plans:
            yield np.flatnonzero(label_end < threshold[position]), np.flatnonzero(test_unit[position])

    def _unit_plan(
        self, combo: np.ndarray, bounds: np.ndarray, fold_label_end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Test mask and training threshold per unique timestamp for one test-fold combination.

        A sample at unit ``p`` trains iff its label-end position is below ``threshold[p]``:
        ``-1`` for test, purged-after and embargoed units; otherwise the next test unit after
        ``p``, so a label reaching into a later test fold is purged.
        """
        n_units = int(bounds[-1])
        test_unit = np.zeros(n_units, dtype=bool)
        blocked = np.zeros(n_units, dtype=bool)
        for fold in combo:
            start, stop = bounds[fold], bounds[fold + 1]
            test_unit[start:stop] = True
            # Units starting inside the test span after the fold are purged, the next ones embargoed.
            blocked[stop : min(n_units, fold_label_end[fold] + self.embargo + 1)] = True
        blocked |= test_unit
        unit_index = np.arange(n_units, dtype=np.intp)
        next_test = np.minimum.accumulate(np.where(test_unit, unit_index, n_units)[::-1])[::-1]
        return test_unit, np.where(blocked, -1, next_test)

    def backtest_paths(self, test_predictions: Sequence[Any], *, times: Any) -> np.ndarray:
        """Assemble per-split out-of-sample predictions into the ``n_paths`` full backtest paths.

        ``test_predictions[s]`` holds split ``s``'s predictions in the order of its ``test_idx``
        (as yielded by :meth:`split` with the same ``times``). Returns a float array of shape
        ``(n_samples, n_paths)``: column ``p`` is path ``p``, a prediction for every sample.
        """
        if isinstance(test_predictions, np.ndarray) and test_predictions.dtype != object:
            raise ValueError("test_predictions must be a sequence with one 1-D array per split")
        if len(test_predictions) != self.n_combinations:
            raise ValueError(
                f"expected {self.n_combinations} prediction arrays (one per split), "
                f"got {len(test_predictions)}"
            )
        timeline = Timeline.from_times(times, X=times)
        fold_of_sample = self._fold_of_unit(timeline)[timeline.position]
        paths = np.full((fold_of_sample.size, self.n_paths), np.nan)
        slot_of_fold = np.full(self.n_splits, -1, dtype=np.intp)
        # Loop over the C(N, k) splits; each scatter is vectorised.
        for split_no, (combo, path_row) in enumerate(
            zip(self.test_fold_combinations, self.path_ids(), strict=True)
        ):
            slot_of_fold[:] = -1
            slot_of_fold[combo] = np.arange(self.n_test_splits)
            slot = slot_of_fold[fold_of_sample]
            test_idx = np.flatnonzero(slot >= 0)
            preds = np.asarray(test_predictions[split_no], dtype=np.float64)
            if preds.ndim != 1 or preds.size != test_idx.size:
                raise ValueError(
                    f"test_predictions[{split_no}] must be 1-D with {test_idx.size} entries "
                    f"(the split's test samples), got shape {preds.shape}"
                )
            paths[test_idx, path_row[slot[test_idx]]] = preds
        return paths

"""The unique-timestamp axis shared by the cross-validation splitters.

Both splitters assign folds to *timestamps*, not rows, so every symbol of one session lands in
the same fold (SSOT 6.2). Purge and embargo are computed on that axis of sorted unique
timestamps and then gathered back to rows, which keeps every step a vectorised numpy call.
Timestamps may be numbers, naive datetimes or tz-aware datetimes (compared in UTC); rows may
come in any order (for example symbol-major).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def n_samples_of(X: Any) -> int:
    """Number of rows of a feature matrix (ndarray, DataFrame or anything with ``shape``/``len``)."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError as exc:
        raise ValueError(f"X must be array-like with one row per sample; got {type(X).__name__}") from exc


def _time_values(values: Any, *, name: str, n_samples: int) -> tuple[np.ndarray, str]:
    """Convert per-sample timestamps to comparable numbers: int64 ns (UTC if tz-aware) or float64.

    Returns the values and their kind ("utc", "naive" or "numeric") so two series can be checked
    for compatibility.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if len(series) != n_samples:
        raise ValueError(f"{name} has {len(series)} entries but X has {n_samples} samples")
    if n_samples == 0:
        raise ValueError(f"{name} is empty: there are no samples to split")
    if bool(series.isna().any()):
        raise ValueError(f"{name} contains missing values (NaN/NaT); every sample needs a timestamp")
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype):
        try:
            series = pd.to_datetime(series)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must hold timestamps or numbers; could not parse {dtype} values"
            ) from exc
        dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive_utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return naive_utc.to_numpy(dtype="datetime64[ns]").view(np.int64), "utc"
    if pd.api.types.is_datetime64_dtype(dtype):
        return series.to_numpy(dtype="datetime64[ns]").view(np.int64), "naive"
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        raise ValueError(f"{name} must hold timestamps or numbers, got dtype {dtype}")
    numeric = series.to_numpy(dtype=np.float64)
    if not np.isfinite(numeric).all():
        raise ValueError(f"{name} contains infinite values")
    return numeric, "numeric"


def _check_index_alignment(X: Any, values: Any, name: str) -> None:
    """When both X and a timestamp Series carry an index, they must be the same rows."""
    x_index = getattr(X, "index", None)
    if isinstance(values, pd.Series) and isinstance(x_index, pd.Index) and not values.index.equals(x_index):
        raise ValueError(f"{name} is not aligned with X: its index differs from X.index")


@dataclass(frozen=True)
class Timeline:
    """Samples placed on the axis of sorted unique timestamps.

    ``unique_times`` holds the sorted unique timestamps (as comparable numbers), ``position`` the
    index of each sample's timestamp in it, and ``kind`` the timestamp flavour ("utc", "naive",
    "numeric").
    """

    unique_times: np.ndarray
    position: np.ndarray
    kind: str

    @classmethod
    def from_times(cls, times: Any, *, X: Any, name: str = "times") -> Timeline:
        """Build the axis from per-sample start timestamps aligned with the rows of ``X``."""
        n = n_samples_of(X)
        _check_index_alignment(X, times, name)
        values, kind = _time_values(times, name=name, n_samples=n)
        unique_times, position = np.unique(values, return_inverse=True)
        return cls(unique_times=unique_times, position=position.astype(np.intp, copy=False), kind=kind)

    @property
    def n_units(self) -> int:
        """Number of unique timestamps."""
        return int(self.unique_times.size)

    def label_end_positions(self, t1: Any, *, X: Any, name: str = "t1") -> np.ndarray:
        """Per sample, the index of the last unique timestamp at or before its label end ``t1``.

        A label end ``t1`` overlaps unique timestamp ``u[p]`` exactly when ``p <= result``, so
        interval-overlap tests become integer comparisons. ``t1`` before the sample's own start
        is rejected.
        """
        n = self.position.size
        _check_index_alignment(X, t1, name)
        values, kind = _time_values(t1, name=name, n_samples=n)
        if kind != self.kind:
            raise ValueError(
                f"{name} and times must be the same kind of timestamp "
                f"(got {name}={kind}, times={self.kind}); make both tz-aware, both naive, or both numeric"
            )
        end = np.searchsorted(self.unique_times, values, side="right") - 1
        if bool((end < self.position).any()):
            bad = int(np.flatnonzero(end < self.position)[0])
            raise ValueError(
                f"{name} ends before its sample starts (first offending row {bad}); need t1 >= times"
            )
        return end.astype(np.intp, copy=False)


def fold_bounds(n_units: int, n_folds: int) -> np.ndarray:
    """Boundaries of ``n_folds`` contiguous folds over ``n_units`` ordered units.

    Sizes differ by at most one; the first ``n_units % n_folds`` folds get the extra unit (the
    ``numpy.array_split`` / scikit-learn ``KFold`` convention). Fold ``j`` covers
    ``[bounds[j], bounds[j + 1])``.
    """
    if n_units < n_folds:
        raise ValueError(f"need at least {n_folds} unique timestamps for {n_folds} folds, got {n_units}")
    sizes = np.full(n_folds, n_units // n_folds, dtype=np.intp)
    sizes[: n_units % n_folds] += 1
    return np.concatenate(([0], np.cumsum(sizes)))

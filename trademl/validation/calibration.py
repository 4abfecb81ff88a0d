"""Calibration of binary probability forecasts: Brier score, log loss, reliability curve (SSOT 6.5).

``y_true`` holds outcomes coded 0/1 (or booleans), ``prob`` the forecast probability of outcome 1,
both 1-D of equal length without NaN. Multi-class forecasts are scored one class at a time.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd


def _binary_forecasts(y_true: Any, prob: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(prob, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1:
        raise ValueError(f"y_true and prob must be one-dimensional, got shapes {y.shape} and {p.shape}")
    if y.size != p.size:
        raise ValueError(f"y_true has {y.size} entries but prob has {p.size}")
    if y.size == 0:
        raise ValueError("y_true and prob are empty")
    if np.isnan(y).any() or np.isnan(p).any():
        raise ValueError("y_true and prob must not contain NaN")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must contain only binary outcomes 0/1")
    if (p < 0).any() or (p > 1).any():
        raise ValueError("prob must lie in [0, 1]")
    return y, p


def brier_score(y_true: Any, prob: Any) -> float:
    """Mean squared error of probability forecasts, ``mean((prob - y)^2)``, in [0, 1]; lower is better."""
    y, p = _binary_forecasts(y_true, prob)
    return float(np.mean((p - y) ** 2))


def log_loss(y_true: Any, prob: Any, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood (natural log) of binary outcomes; lower is better.

    Probabilities are clipped to ``[eps, 1 - eps]`` so a confident miss costs ``-ln(eps)``
    instead of infinity.
    """
    y, p = _binary_forecasts(y_true, prob)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps!r}")
    p = np.clip(p, eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def _bin_edges(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
    raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")


def reliability_curve(
    y_true: Any, prob: Any, n_bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
) -> pd.DataFrame:
    """Reliability-diagram bins: mean forecast vs observed frequency of outcome 1 per bin.

    ``strategy="uniform"`` uses equal-width bins on [0, 1]; ``"quantile"`` uses forecast quantiles
    (equal counts). Bins are ``[lower, upper)`` except the last, which includes its upper edge.
    Returns one row per bin with columns ``lower``, ``upper``, ``count``, ``mean_predicted`` and
    ``observed_frequency`` (NaN for empty bins).
    """
    y, p = _binary_forecasts(y_true, prob)
    edges = _bin_edges(p, n_bins, strategy)
    bin_of = np.searchsorted(edges[1:-1], p, side="right")
    count = np.bincount(bin_of, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(bin_of, weights=p, minlength=n_bins) / count
        observed = np.bincount(bin_of, weights=y, minlength=n_bins) / count
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count.astype(np.int64),
            "mean_predicted": np.where(count > 0, mean_predicted, np.nan),
            "observed_frequency": np.where(count > 0, observed, np.nan),
        },
        index=pd.RangeIndex(n_bins, name="bin"),
    )


def expected_calibration_error(
    y_true: Any, prob: Any, n_bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
) -> float:
    """Count-weighted mean gap ``|observed frequency - mean forecast|`` over the reliability bins."""
    curve = reliability_curve(y_true, prob, n_bins=n_bins, strategy=strategy)
    filled = curve[curve["count"] > 0]
    gap = (filled["observed_frequency"] - filled["mean_predicted"]).abs()
    return float((gap * filled["count"]).sum() / filled["count"].sum())

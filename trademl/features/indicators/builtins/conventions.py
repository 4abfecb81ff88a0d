"""Numerical conventions shared by the built-ins, following TA-Lib where a built-in reproduces it."""

from __future__ import annotations

import numpy as np

# TA-Lib's TA_EPSILON: a difference of two comparable quantities within this fraction of their
# magnitude is treated as zero (TA_IS_ZERO_SCALED), e.g. a flat high-low range in %R or STOCH.
RELATIVE_EPSILON = 1e-14


def negligible(difference: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """True where ``|difference| <= RELATIVE_EPSILON * scale`` (False where either is NaN)."""
    return np.abs(difference) <= RELATIVE_EPSILON * scale


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray, *, zero_value: float) -> np.ndarray:
    """``numerator / denominator`` with ``zero_value`` where the denominator is exactly 0 (NaN kept)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    ratio[(denominator == 0) & ~np.isnan(numerator)] = zero_value
    return ratio

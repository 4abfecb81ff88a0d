"""Dividend adjustment conventions: the price factor one cash dividend applies to the closes before its ex-date.

A factor f < 1 multiplies every price before the ex-date (prices on and after it are unchanged):

- ``crsp``: f = 1 - D / C_prev, C_prev the as-traded close of the session before the ex-date (in
  post-split shares when a split goes ex the same day). CRSP's and Yahoo's convention: the total
  return across the ex-date equals the price return plus the dividend yield on the previous close.
- ``alpha_vantage``: f = C_ex / (C_ex + D), C_ex the as-traded close ON the ex-date. Found from Alpha
  Vantage's ``adjusted_close`` (it reproduces 267 of 270 S&P 500 tickers to 1e-4 over 1999-2021;
  see tests/curate/test_real_alpha_vantage.py).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Convention = Literal["crsp", "alpha_vantage"]
CONVENTIONS: tuple[str, ...] = ("crsp", "alpha_vantage")


def div_factor_column(convention: str) -> str:
    """The curated column holding the cumulative dividend factor of `convention` (``div_factor_crsp`` ...)."""
    check_convention(convention)
    return f"div_factor_{convention}"


def check_convention(convention: str) -> None:
    """Raise ValueError naming the known conventions when `convention` is not one of them."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown adjustment convention {convention!r}; known: {', '.join(CONVENTIONS)}")


def crsp_dividend_factor(amount: np.ndarray, previous_close: np.ndarray) -> np.ndarray:
    """1 - D / C_prev per event (1.0 where the previous close is unknown: no price before the event to adjust)."""
    f = 1.0 - np.asarray(amount, float) / np.asarray(previous_close, float)
    return np.where(np.isfinite(f), f, 1.0)


def alpha_vantage_dividend_factor(amount: np.ndarray, ex_close: np.ndarray) -> np.ndarray:
    """C_ex / (C_ex + D) per event (1.0 where the ex-date close is unknown)."""
    c = np.asarray(ex_close, float)
    f = c / (c + np.asarray(amount, float))
    return np.where(np.isfinite(f), f, 1.0)

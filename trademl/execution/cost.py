"""Pre-trade transaction cost model: fee + half effective spread + square-root market impact (SSOT 4.7).

Per share, in the instrument's currency, for an order of |Q| shares at reference price P:

- fee       = fee_per_share + fee_bps * 1e-4 * P
- spread    = effective_spread / 2        (effective spread = 2 |fill - mid|, currency per share)
- impact    = Y * sigma_daily * sqrt(|Q| / ADV) * P

sigma_daily is the daily return volatility as a decimal (0.02 = 2 % per day, not annualised), ADV the average
daily volume in shares over the same horizon, Y the dimensionless impact coefficient (of order 1; the
square-root law of Almgren et al. 2005 and Tóth et al. 2011). Costs are always positive whatever the side:
the sign of Q only says buy (+) or sell (-). Basis points are relative to P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["CostModel", "estimate_costs"]


def _column(name: str, value: ArrayLike, n: int | None) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.size not in (1, n):
        raise ValueError(f"{name} has {arr.size} values for {n} orders")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def estimate_costs(
    qty: ArrayLike,
    price: ArrayLike,
    adv: ArrayLike,
    sigma_daily: ArrayLike,
    effective_spread: ArrayLike,
    *,
    fee_per_share: float = 0.0,
    fee_bps: float = 0.0,
    impact_coef: float = 1.0,
) -> pd.DataFrame:
    """Expected cost of each order, split into fee, half spread and square-root impact.

    qty: signed shares per order; price: reference (arrival mid) price; adv: average daily volume in shares;
    sigma_daily: daily return volatility (decimal); effective_spread: full effective spread in currency per
    share. Scalars broadcast to every order. Returns one row per order with per-share costs (fee, spread,
    impact, total; currency per share), the same in basis points of price (fee_bps, spread_bps,
    impact_bps, total_bps) and cost (total currency cost of the order = total * |qty|).
    """
    q = _column("qty", qty, None)
    n = q.size
    p = _column("price", price, n)
    v = _column("adv", adv, n)
    s = _column("sigma_daily", sigma_daily, n)
    spr = _column("effective_spread", effective_spread, n)
    for name, value in (("fee_per_share", fee_per_share), ("fee_bps", fee_bps), ("impact_coef", impact_coef)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and non-negative, got {value}")
    if (p <= 0).any():
        raise ValueError("price must be positive")
    if (v <= 0).any():
        raise ValueError("adv must be positive (shares per day)")
    if (s < 0).any():
        raise ValueError("sigma_daily must be non-negative")
    if (spr < 0).any():
        raise ValueError("effective_spread must be non-negative")

    size = np.abs(q)
    p, v, s, spr = (np.broadcast_to(a, (n,)) for a in (p, v, s, spr))
    fee = fee_per_share + fee_bps * 1e-4 * p
    half_spread = 0.5 * spr
    impact = impact_coef * s * np.sqrt(size / v) * p
    total = fee + half_spread + impact
    to_bps = 1e4 / p
    return pd.DataFrame(
        {
            "fee": fee,
            "spread": half_spread,
            "impact": impact,
            "total": total,
            "fee_bps": fee * to_bps,
            "spread_bps": half_spread * to_bps,
            "impact_bps": impact * to_bps,
            "total_bps": total * to_bps,
            "cost": total * size,
        }
    )


@dataclass(frozen=True)
class CostModel:
    """Parameters of the fee + spread + square-root impact model, for simulators (SSOT 4.7, 7).

    fee_per_share in currency per share, fee_bps in basis points of price, impact_coef the dimensionless Y.
    """

    fee_per_share: float = 0.0
    fee_bps: float = 0.0
    impact_coef: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fee_per_share", "fee_bps", "impact_coef"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and non-negative, got {value}")

    def estimate(
        self,
        qty: ArrayLike,
        price: ArrayLike,
        adv: ArrayLike,
        sigma_daily: ArrayLike,
        effective_spread: ArrayLike,
    ) -> pd.DataFrame:
        """Per-order cost breakdown under this model's parameters (see estimate_costs for units)."""
        return estimate_costs(
            qty,
            price,
            adv,
            sigma_daily,
            effective_spread,
            fee_per_share=self.fee_per_share,
            fee_bps=self.fee_bps,
            impact_coef=self.impact_coef,
        )

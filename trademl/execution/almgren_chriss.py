"""Almgren–Chriss optimal liquidation schedules and the cost of any schedule (SSOT 4.7).

Almgren, R. and Chriss, N. (2000), "Optimal execution of portfolio transactions", J. Risk 3(2).
A holding of X shares is sold over [0, T] in N intervals of length tau = T/N; x_k is the holding after
interval k (x_0 = X, x_N = 0) and n_k = x_{k-1} - x_k the shares sold in interval k. The price is an
arithmetic random walk with volatility sigma, linear permanent impact g(v) = gamma v and linear temporary
impact h(v) = epsilon sgn(v) + eta v on the trading rate v = n_k / tau.

Units: X and x_k in shares; T and tau in any time unit (e.g. days); sigma in currency per share per
sqrt(time unit); gamma in currency per share per share; eta in currency per share per (share per time unit);
epsilon in currency per share; lam (risk aversion) per currency. Costs are implementation shortfall in
currency: X S_0 minus the expected proceeds. A negative X (a buy programme) works symmetrically.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["kappa", "optimal_trajectory", "expected_cost", "cost_variance"]


def _check_horizon(T: float, N: int) -> float:
    if isinstance(N, bool) or not isinstance(N, int | np.integer):
        raise ValueError(f"N must be an integer number of intervals, got {N!r}")
    if N < 1:
        raise ValueError(f"N must be >= 1, got {N}")
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be positive, got {T}")
    return float(T) / int(N)


def _eta_tilde(eta: float, gamma: float, tau: float) -> float:
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta must be positive, got {eta}")
    if not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gamma must be non-negative, got {gamma}")
    eta_t = eta - 0.5 * gamma * tau
    if eta_t <= 0:
        raise ValueError(f"eta - gamma*tau/2 must be positive (got {eta_t}); use more intervals or smaller gamma")
    return eta_t


def kappa(T: float, N: int, sigma: float, eta: float, gamma: float, lam: float) -> float:
    """Urgency kappa (per time unit) of the optimal schedule: cosh(kappa tau) = 1 + tau^2 lam sigma^2 / (2 eta~).

    eta~ = eta - gamma tau / 2. 1/kappa is the half-life of the liquidation; kappa = 0 is TWAP.
    """
    tau = _check_horizon(T, N)
    eta_t = _eta_tilde(eta, gamma, tau)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam (risk aversion) must be non-negative, got {lam}")
    # arccosh(1 + y) = log1p(y + sqrt(y (y + 2))) keeps precision for small y
    y = 0.5 * tau * tau * lam * sigma * sigma / eta_t
    return float(np.log1p(y + np.sqrt(y * (y + 2.0))) / tau)


def optimal_trajectory(
    X: float, T: float, N: int, sigma: float, eta: float, gamma: float, lam: float
) -> np.ndarray:
    """Holdings x_0 = X, ..., x_N = 0 minimising E + lam V: x_j = sinh(kappa (T - t_j)) / sinh(kappa T) X.

    t_j = j T / N. lam = 0 gives the straight-line (TWAP) schedule x_j = (1 - j/N) X; larger lam sells
    faster early. Evaluated as e^{-kappa t_j} (1 - e^{-2 kappa (T - t_j)}) / (1 - e^{-2 kappa T}), which
    neither overflows for large kappa T nor loses precision as kappa -> 0.
    """
    if not np.isfinite(X):
        raise ValueError(f"X must be finite, got {X}")
    k = kappa(T, N, sigma, eta, gamma, lam)
    t = np.arange(N + 1) * (float(T) / N)
    if k == 0.0:  # lam = 0 or sigma = 0: the straight-line (TWAP) limit
        x = (1.0 - t / T) * X
    else:
        remaining = T - t
        x = np.exp(-k * t) * np.expm1(-2.0 * k * remaining) / np.expm1(-2.0 * k * T) * X
    x[0], x[-1] = X, 0.0
    return x


def _check_trajectory(trajectory: ArrayLike) -> np.ndarray:
    x = np.asarray(trajectory, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError("trajectory must be a 1-d array of N+1 >= 2 holdings")
    if not np.isfinite(x).all():
        raise ValueError("trajectory contains NaN or infinite holdings")
    scale = np.max(np.abs(x))
    if abs(x[-1]) > 1e-12 * scale:
        raise ValueError(f"trajectory must end fully liquidated (x_N = 0), got x_N = {x[-1]}")
    return x


def expected_cost(
    trajectory: ArrayLike, T: float, eta: float, gamma: float, epsilon: float = 0.0
) -> float:
    """Expected implementation shortfall E[x] of a liquidation schedule (currency).

    E = gamma X^2 / 2 + epsilon sum |n_k| + (eta~ / tau) sum n_k^2 with eta~ = eta - gamma tau/2
    (Almgren & Chriss 2000, eq. 3 rewritten for linear impact), N = len(trajectory) - 1.
    """
    x = _check_trajectory(trajectory)
    tau = _check_horizon(T, x.size - 1)
    eta_t = _eta_tilde(eta, gamma, tau)
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be non-negative, got {epsilon}")
    n = -np.diff(x)
    return float(0.5 * gamma * x[0] ** 2 + epsilon * np.sum(np.abs(n)) + eta_t / tau * np.sum(n * n))


def cost_variance(trajectory: ArrayLike, T: float, sigma: float) -> float:
    """Variance of the implementation shortfall V[x] = sigma^2 tau sum_{k=1}^{N} x_k^2 (currency squared)."""
    x = _check_trajectory(trajectory)
    tau = _check_horizon(T, x.size - 1)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    return float(sigma * sigma * tau * np.sum(x[1:] ** 2))

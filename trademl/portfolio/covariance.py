"""Shrunk covariance of daily returns for the portfolio's risk model (Ledoit & Wolf 2003/2004).

With 60 sessions and 500 names the sample covariance is singular, so it is shrunk towards a
structured target with the Ledoit-Wolf optimal intensity. The default target is the constant
correlation model (each name keeps its own sample variance; every pair gets the average sample
correlation): unlike sklearn's `ledoit_wolf` (scaled identity, every name gets the average
variance), it keeps each name's own vol, which the risk scaling and the vol target rely on, and it
keeps the market-wide co-movement equities share. `diagonal` shrinks towards the sample variances
with zero correlation. Everything is per session (daily) and uses the 1/T (ddof 0) sample moments
of the Ledoit-Wolf estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RiskModel:
    """A daily covariance over a list of names and how it was estimated.

    `has_history[i]` is False for a name whose variance is the cross-sectional median (fewer than
    `min_history` finite returns); `shrinkage` is the Ledoit-Wolf intensity in [0, 1] (NaN when no
    sample was used) and `mean_correlation` the target's average correlation (0 for `diagonal`).
    """

    cov: np.ndarray
    has_history: np.ndarray
    shrinkage: float
    mean_correlation: float

    @property
    def vol(self) -> np.ndarray:
        """Daily vol of each name (square root of the covariance's diagonal)."""
        return np.sqrt(np.diag(self.cov))


def ledoit_wolf_shrunk(x: np.ndarray, target: str = "constant_correlation") -> tuple[np.ndarray, float, float]:
    """Ledoit-Wolf shrunk covariance of demeaned observations `x` (T x N, no NaN), intensity and target r-bar.

    `target` is "constant_correlation" (Ledoit & Wolf 2004, "Honey, I shrunk the sample covariance
    matrix", their covCor estimator) or "diagonal" (the same estimator with the target's correlation
    fixed at 0). The intensity's sums over N x N entries are taken as products of T-vectors and the
    T x T Gram matrix, so only the returned matrix itself is N x N (500 names: a few ms).
    """
    t, n = x.shape
    sample = x.T @ x / t
    var = np.einsum("ti,ti->i", x, x) / t
    if n < 2:
        return sample, 0.0, 0.0
    sd = np.sqrt(var)
    positive = sd > 0
    inv_sd = np.where(positive, 1.0 / np.where(positive, sd, 1.0), 0.0)
    if target == "constant_correlation":
        scaled = x @ inv_sd  # sum_ij s_ij / (sd_i sd_j) = |x inv_sd|^2 / t
        rbar = float((scaled @ scaled / t - positive.sum()) / (n * (n - 1)))
    elif target == "diagonal":
        rbar = 0.0
    else:
        raise ValueError(f"unknown shrinkage target {target!r} (expected constant_correlation or diagonal)")
    gram = x @ x.T
    sample_sq = float((gram * gram).sum()) / t**2  # |S|_F^2 = |X X'|_F^2 / t^2
    var_sq = float(var @ var)
    fourth = np.einsum("ti,ti->i", x * x, x * x) / t  # mean of x^4 per name
    row_sq = (x * x).sum(axis=1)
    # pi-hat: sum_ij mean((x_i x_j - s_ij)^2) = sum_t (sum_i x_ti^2)^2 / t - |S|_F^2
    phi = float(row_sq @ row_sq) / t - sample_sq
    # rho-hat: the diagonal of pi plus, for r-bar != 0, r-bar x sum_{i != j} (sd_j / sd_i) theta_ij
    theta_diag = fourth - var * var
    rho = float(theta_diag.sum())
    if rbar != 0.0:
        by_sd = x @ sd
        total = float(((x**3) @ inv_sd) @ by_sd) / t - float(by_sd @ by_sd) / t
        rho += rbar * (total - float(theta_diag[positive].sum()))
    # gamma-hat: |S - prior|_F^2 over the off-diagonal entries (the diagonals agree)
    s_weighted = float((x @ sd) @ (x @ sd)) / t  # sd' S sd
    off_prior_sq = float(var.sum()) ** 2 - var_sq  # sum_{i != j} var_i var_j
    gamma = (sample_sq - var_sq) - 2.0 * rbar * (s_weighted - var_sq) + rbar**2 * off_prior_sq
    shrinkage = 0.0 if gamma <= 0.0 else float(np.clip((phi - rho) / gamma / t, 0.0, 1.0))
    shrunk = sample * (1.0 - shrinkage)
    if rbar != 0.0 and shrinkage > 0.0:
        shrunk += (shrinkage * rbar) * np.outer(sd, sd)
    np.fill_diagonal(shrunk, var)
    return shrunk, shrinkage, rbar


def shrunk_covariance(
    returns: np.ndarray,
    *,
    target: str = "constant_correlation",
    min_history: int = 20,
    fallback_vol: float = 0.30,
) -> RiskModel:
    """Daily covariance of the N columns of `returns` (T x N daily simple returns, NaN = missing).

    Names with at least `min_history` finite returns are estimated together: each is demeaned over
    its own observations, gaps become 0 and its deviations are scaled by sqrt(T / n_obs) so its
    variance is that of the sessions it has (the matrix stays positive semi-definite), then
    Ledoit-Wolf shrunk. A name with less history (or whose returns are all equal) gets the median
    variance of the others and the target's average correlation with everyone; when no name has
    history every name gets `fallback_vol` (annualised, /sqrt(252) per session) and zero correlation.
    """
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"returns must be a T x N matrix, got shape {x.shape}")
    t, n = x.shape
    finite = np.isfinite(x)
    n_obs = finite.sum(axis=0)
    observed = np.where(finite, x, 0.0)
    spread = np.where(finite, x, -np.inf).max(axis=0, initial=-np.inf) - np.where(finite, x, np.inf).min(
        axis=0, initial=np.inf
    )
    # a name needs min_history returns that are not all equal (a halted name's stale zeros have no vol)
    ok = (n_obs >= max(min_history, 2)) & (spread > 0.0)
    if not ok.any():
        cov = np.diag(np.full(n, (fallback_vol**2) / 252.0))
        return RiskModel(cov, ok, float("nan"), 0.0)
    xa = observed[:, ok]
    mean = xa.sum(axis=0) / n_obs[ok]
    dev = np.where(finite[:, ok], xa - mean, 0.0) * np.sqrt(t / n_obs[ok])
    shrunk, intensity, rbar = ledoit_wolf_shrunk(dev, target)
    if ok.all():
        return RiskModel(shrunk, ok, intensity, rbar)
    var = np.full(n, float(np.median(np.diag(shrunk))))
    var[ok] = np.diag(shrunk)
    sd = np.sqrt(var)
    cov = rbar * np.outer(sd, sd)
    np.fill_diagonal(cov, var)
    cov[np.ix_(ok, ok)] = shrunk
    return RiskModel(cov, ok, intensity, rbar)

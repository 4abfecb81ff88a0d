"""Probabilistic and Deflated Sharpe ratios (Bailey & López de Prado).

* PSR – "The Sharpe Ratio Efficient Frontier", Journal of Risk 15(2), 2012: the probability that
  the true Sharpe ratio exceeds a benchmark, given the estimate from ``n_obs`` returns with the
  observed skewness and kurtosis.
* DSR – "The Deflated Sharpe Ratio", Journal of Portfolio Management 40(5), 2014: the PSR against
  the Sharpe ratio expected from the best of ``n_trials`` skill-less strategies.

Conventions: every Sharpe ratio here is **per period** (not annualised) in the sampling frequency
of the returns; ``kurtosis`` is **non-excess** (3 for normal returns); ``sr_variance`` is the
variance of the per-period Sharpe ratios across the trials.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.stats import norm

EULER_MASCHERONI = 0.5772156649015329


def _finite(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _count(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def sharpe_ratio_standard_error(sr: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """Standard error of a per-period Sharpe estimate under non-normal iid returns.

    ``sqrt((1 - skew*SR + (kurtosis - 1)/4 * SR^2) / (n_obs - 1))`` (Mertens 2002, as used in
    the 2012 paper); with skew 0 and kurtosis 3 this is Lo's (2002) ``sqrt((1 + SR^2/2)/(n-1))``.
    """
    sr = _finite(sr, "sr")
    n_obs = _count(n_obs, "n_obs", 2)
    skew = _finite(skew, "skew")
    kurtosis = _finite(kurtosis, "kurtosis")
    if kurtosis < 1.0 + skew**2:
        raise ValueError(
            f"kurtosis={kurtosis} is impossible with skew={skew} (need kurtosis >= 1 + skew^2); "
            "pass NON-excess kurtosis (normal = 3), not excess kurtosis"
        )
    variance_term = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if variance_term <= 0:
        raise ValueError(
            f"skew={skew}, kurtosis={kurtosis} and sr={sr} give a non-positive Sharpe variance; "
            "check that sr is per period (not annualised)"
        )
    return math.sqrt(variance_term / (n_obs - 1))


def probabilistic_sharpe_ratio(
    sr: float, sr_benchmark: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """PSR: probability that the true per-period Sharpe exceeds ``sr_benchmark``.

    ``Phi((SR - SR*) / se(SR))`` with the non-normal standard error of
    :func:`sharpe_ratio_standard_error`; ``sr``, ``sr_benchmark`` per period, ``kurtosis``
    non-excess, ``n_obs`` the number of returns behind ``sr``.
    """
    sr_benchmark = _finite(sr_benchmark, "sr_benchmark")
    se = sharpe_ratio_standard_error(sr, n_obs, skew, kurtosis)
    return float(norm.cdf((float(sr) - sr_benchmark) / se))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """Expected maximum per-period Sharpe of ``n_trials`` independent skill-less strategies.

    ``sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))`` with ``g`` the
    Euler–Mascheroni constant (DSR paper, eq. for SR_0; an extreme-value approximation of
    ``E[max]`` of N normal draws with mean 0 and variance ``sr_variance``). One trial has no
    selection bias, so it returns 0.
    """
    n_trials = _count(n_trials, "n_trials", 1)
    sr_variance = _finite(sr_variance, "sr_variance")
    if sr_variance < 0:
        raise ValueError(f"sr_variance must be non-negative, got {sr_variance}")
    if n_trials == 1:
        return 0.0
    z_1 = norm.ppf(1.0 - 1.0 / n_trials)
    z_2 = norm.ppf(1.0 - 1.0 / (n_trials * np.e))
    return float(math.sqrt(sr_variance) * ((1.0 - EULER_MASCHERONI) * z_1 + EULER_MASCHERONI * z_2))


def deflated_sharpe_ratio(
    sr: float, n_obs: int, skew: float, kurtosis: float, n_trials: int, sr_variance: float
) -> float:
    """DSR: PSR of the selected strategy against the expected best Sharpe of ``n_trials`` trials.

    ``PSR(SR_0)`` with ``SR_0 = expected_max_sharpe(n_trials, sr_variance)``; all Sharpe inputs
    per period, ``kurtosis`` non-excess. A value near 1 means the Sharpe survives the selection
    out of ``n_trials`` attempts; near 0 means it is what luck alone would produce.
    """
    sr_zero = expected_max_sharpe(n_trials, sr_variance)
    return probabilistic_sharpe_ratio(sr, sr_zero, n_obs, skew, kurtosis)

"""Raw SVI smiles (Gatheral 2004), their calibration, and static no-arbitrage checks (SSOT 3.2, 7).

Raw SVI gives total implied variance w = iv^2 t (variance x years) at log-moneyness k = ln(K/F):

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))

with b >= 0, |rho| < 1, sigma > 0 and a + b sigma sqrt(1 - rho^2) >= 0 (minimum variance non-negative).
Calibration also keeps the wings inside b (1 + |rho|) <= 4, the Rogers–Tehranchi bound on |dw/dk|.

Calibration is deterministic and two-stage:

1. Quasi-explicit (Zeliade 2009): for fixed (m, sigma), with y = (k - m)/sigma and z = sqrt(y^2 + 1), the
   smile is linear in (a, u, v): w = a + u (z + y) + v (z - y), where u = b sigma (1 + rho)/2 and
   v = b sigma (1 - rho)/2. The constraints become the box 0 <= u, v <= 2 sigma, so the inner problem is a
   3-variable box-constrained least squares solved exactly by enumerating active sets. The outer
   problem over (m, sigma) starts from the best point of a fixed grid and is refined by Nelder–Mead.
2. Polish: scipy least_squares over all five parameters in the box parameterisation
   (a', P, Q, m, sigma) with a = a' - 4 sigma P Q, b = 2(P^2 + Q^2), rho = (P^2 - Q^2)/(P^2 + Q^2),
   a' >= 0, P, Q in (0, 1], which enforces every constraint above exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import least_squares, minimize

from trademl.pricing.black_scholes import cp_sign, iv_from_quotes

__all__ = [
    "SVIParams",
    "svi_total_variance",
    "butterfly_g",
    "fit_svi_slice",
    "fit_rmse",
    "no_arb_flags",
    "fit_svi_surface",
]

_MIN_POINTS = 5
_PQ_FLOOR = 1e-6  # keeps |rho| < 1 strictly (P/Q >= 1e-6)
_SIGMA_FLOOR = 1e-4
_GRID_M = 25
_GRID_SIGMA = 20


class SVIParams(NamedTuple):
    """Raw SVI parameters of one expiry (total-variance units; k = ln(K/F))."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float


def _as_params(params: SVIParams | Sequence[float]) -> SVIParams:
    values = tuple(float(v) for v in params)
    if len(values) != 5:
        raise ValueError(f"SVI params need 5 values (a, b, rho, m, sigma), got {len(values)}")
    p = SVIParams(*values)
    if not all(np.isfinite(values)):
        raise ValueError(f"SVI params must be finite, got {p}")
    if p.b < 0 or not abs(p.rho) < 1 or not p.sigma > 0:
        raise ValueError(f"SVI params need b >= 0, |rho| < 1, sigma > 0, got {p}")
    return p


def _as_k(k: ArrayLike) -> np.ndarray:
    arr = np.asarray(k, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("log-moneyness k must be finite")
    return arr


def svi_total_variance(k: ArrayLike, params: SVIParams | Sequence[float]) -> np.ndarray:
    """Raw SVI total implied variance w(k) (variance x years) at log-moneyness k = ln(K/F)."""
    a, b, rho, m, sigma = _as_params(params)
    km = _as_k(k) - m
    return a + b * (rho * km + np.sqrt(km * km + sigma * sigma))


def butterfly_g(k: ArrayLike, params: SVIParams | Sequence[float]) -> np.ndarray:
    """Gatheral's density factor g(k); the smile is free of butterfly arbitrage where g(k) >= 0.

    g(k) = (1 - k w'/(2w))^2 - (w'^2/4)(1/w + 1/4) + w''/2 (Gatheral & Jacquier 2014, eq. 2.1); the
    risk-neutral density is g(k)/sqrt(2 pi w) exp(-d2^2/2). Where w <= 0 g is -inf (no valid smile).
    """
    a, b, rho, m, sigma = _as_params(params)
    kk = _as_k(k)
    km = kk - m
    root = np.sqrt(km * km + sigma * sigma)
    w = a + b * (rho * km + root)
    w1 = b * (rho + km / root)
    w2 = b * sigma * sigma / root**3
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1.0 - kk * w1 / (2.0 * w)) ** 2 - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    return np.where(w > 0, g, -np.inf)


def _check_slice(k: ArrayLike, w: ArrayLike, weights: ArrayLike | None) -> tuple[np.ndarray, ...]:
    kk = np.asarray(k, dtype=np.float64).ravel()
    ww = np.asarray(w, dtype=np.float64).ravel()
    if kk.size != ww.size:
        raise ValueError(f"k and w have different lengths ({kk.size} vs {ww.size})")
    if kk.size < _MIN_POINTS:
        raise ValueError(f"an SVI slice needs at least {_MIN_POINTS} quotes, got {kk.size}")
    if not (np.isfinite(kk).all() and np.isfinite(ww).all()):
        raise ValueError("k and w must be finite (drop quotes without an implied vol first)")
    if (ww < 0).any():
        raise ValueError("total implied variance w must be non-negative")
    if np.ptp(kk) <= 0:
        raise ValueError("k must span more than one log-moneyness value")
    if weights is None:
        wt = np.ones_like(kk)
    else:
        wt = np.asarray(weights, dtype=np.float64).ravel()
        if wt.size != kk.size:
            raise ValueError(f"weights and k have different lengths ({wt.size} vs {kk.size})")
        if not np.isfinite(wt).all() or (wt < 0).any() or not (wt > 0).any():
            raise ValueError("weights must be finite, non-negative and not all zero")
    return kk, ww, wt / wt.mean()


def fit_rmse(
    k: ArrayLike, w: ArrayLike, params: SVIParams | Sequence[float], weights: ArrayLike | None = None
) -> float:
    """(Weighted) root-mean-square error of an SVI smile against total variances w, in variance x years."""
    kk, ww, wt = _check_slice(k, w, weights)
    resid = svi_total_variance(kk, params) - ww
    return float(np.sqrt(np.sum(wt * resid * resid) / np.sum(wt)))


# ----------------------------------------------------------------------------------------------------
# stage 1: quasi-explicit inner problem


_PATTERNS = list(itertools.product(("free", "lo", "hi"), repeat=2))


def _inner_fit(
    k: np.ndarray, w: np.ndarray, sw: np.ndarray, m: float, sigma: float
) -> tuple[float, np.ndarray]:
    """Exact weighted LS for (a, u, v) at fixed (m, sigma) with 0 <= u, v <= 2 sigma; returns (sse, x)."""
    y = (k - m) / sigma
    z = np.sqrt(y * y + 1.0)
    design = np.column_stack((np.ones_like(y), z + y, z - y)) * sw[:, None]
    target = w * sw
    sol, *_ = np.linalg.lstsq(design, target, rcond=None)
    upper = 2.0 * sigma
    if 0.0 <= sol[1] <= upper and 0.0 <= sol[2] <= upper:
        resid = design @ sol - target
        return float(resid @ resid), sol
    best_sse, best = np.inf, sol
    for pattern in _PATTERNS:  # nine active sets of the two bounded variables
        fixed = np.array([np.nan, np.nan, np.nan])
        for j, state in enumerate(pattern, start=1):
            if state == "lo":
                fixed[j] = 0.0
            elif state == "hi":
                fixed[j] = upper
        free = np.isnan(fixed)
        rhs = target - design[:, ~free] @ fixed[~free]
        part, *_ = np.linalg.lstsq(design[:, free], rhs, rcond=None)
        cand = fixed.copy()
        cand[free] = part
        if not (-1e-12 <= cand[1] <= upper + 1e-12 and -1e-12 <= cand[2] <= upper + 1e-12):
            continue
        cand[1:] = np.clip(cand[1:], 0.0, upper)
        resid = design @ cand - target
        sse = float(resid @ resid)
        if sse < best_sse:
            best_sse, best = sse, cand
    return best_sse, best


def _stage_one(k: np.ndarray, w: np.ndarray, wt: np.ndarray, bounds: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Best (m, sigma) by grid search then bounded Nelder–Mead, with the inner (a, u, v)."""
    sw = np.sqrt(wt)
    (m_lo, m_hi), (s_lo, s_hi) = bounds
    best = (np.inf, 0.0, 0.0)
    for m in np.linspace(m_lo, m_hi, _GRID_M):  # fixed grid: deterministic starting point
        for sigma in np.geomspace(max(s_lo, 1e-3), s_hi, _GRID_SIGMA):
            sse, _ = _inner_fit(k, w, sw, m, sigma)
            if sse < best[0]:
                best = (sse, m, sigma)

    def objective(theta: np.ndarray) -> float:
        return _inner_fit(k, w, sw, theta[0], theta[1])[0]

    res = minimize(
        objective,
        x0=np.array(best[1:]),
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-10, "fatol": 1e-18, "maxiter": 2000},
    )
    m, sigma = (res.x if res.fun <= best[0] else np.array(best[1:]))
    _, sol = _inner_fit(k, w, sw, m, sigma)
    return float(m), float(sigma), sol


# ----------------------------------------------------------------------------------------------------
# stage 2: polish all five parameters in the constraint-free box parameterisation


def _from_box(theta: np.ndarray) -> SVIParams:
    a_min, p, q, m, sigma = theta
    b = 2.0 * (p * p + q * q)
    rho = (p * p - q * q) / (p * p + q * q)
    return SVIParams(float(a_min - 4.0 * sigma * p * q), float(b), float(rho), float(m), float(sigma))


def _box_model(theta: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a_min, p, q, m, sigma = theta
    km = k - m
    root = np.sqrt(km * km + sigma * sigma)
    w = a_min - 4.0 * sigma * p * q + 2.0 * (p * p - q * q) * km + 2.0 * (p * p + q * q) * root
    jac = np.column_stack(
        (
            np.ones_like(k),
            -4.0 * sigma * q + 4.0 * p * km + 4.0 * p * root,
            -4.0 * sigma * p - 4.0 * q * km + 4.0 * q * root,
            -2.0 * (p * p - q * q) - 2.0 * (p * p + q * q) * km / root,
            -4.0 * p * q + 2.0 * (p * p + q * q) * sigma / root,
        )
    )
    return w, jac


def fit_svi_slice(k: ArrayLike, w: ArrayLike, weights: ArrayLike | None = None) -> SVIParams:
    """Calibrate raw SVI to one expiry's total implied variances w at log-moneyness k = ln(K/F).

    Minimises sum weights * (w_svi(k) - w)^2 under b >= 0, |rho| < 1, sigma > 0,
    a + b sigma sqrt(1 - rho^2) >= 0 and b (1 + |rho|) <= 4; deterministic (fixed grid, no random starts).
    Needs at least 5 finite quotes; weights default to equal.
    """
    kk, ww, wt = _check_slice(k, w, weights)
    span = float(np.ptp(kk))
    bounds = np.array(
        [
            [kk.min() - span, kk.max() + span],
            [_SIGMA_FLOOR, max(2.0 * span, 1.0)],
        ]
    )
    m, sigma, (a, u, v) = _stage_one(kk, ww, wt, bounds)
    p = np.sqrt(np.clip(u / (2.0 * sigma), _PQ_FLOOR**2, 1.0))
    q = np.sqrt(np.clip(v / (2.0 * sigma), _PQ_FLOOR**2, 1.0))
    a_min = max(a + 4.0 * sigma * p * q, 0.0)
    theta0 = np.array([a_min, p, q, m, sigma])
    lower = np.array([0.0, _PQ_FLOOR, _PQ_FLOOR, bounds[0, 0], _SIGMA_FLOOR])
    upper = np.array([np.inf, 1.0, 1.0, bounds[0, 1], bounds[1, 1]])
    theta0 = np.clip(theta0, lower, upper)
    sw = np.sqrt(wt)

    def residuals(theta: np.ndarray) -> np.ndarray:
        return sw * (_box_model(theta, kk)[0] - ww)

    def jacobian(theta: np.ndarray) -> np.ndarray:
        return sw[:, None] * _box_model(theta, kk)[1]

    res = least_squares(
        residuals,
        theta0,
        jac=jacobian,
        bounds=(lower, upper),
        method="trf",
        x_scale="jac",
        ftol=1e-15,
        xtol=1e-15,
        gtol=1e-15,
        max_nfev=1000,
    )
    theta = res.x if res.cost <= 0.5 * float(np.sum(residuals(theta0) ** 2)) else theta0
    return _from_box(theta)


# ----------------------------------------------------------------------------------------------------
# no-arbitrage flags


def no_arb_flags(
    params: Sequence[SVIParams | Sequence[float]],
    t: ArrayLike,
    k_grid: ArrayLike,
    tol: float = 1e-10,
    k_ranges: ArrayLike | None = None,
) -> pd.DataFrame:
    """Static-arbitrage checks of a set of SVI slices on a log-moneyness grid.

    Butterfly: Gatheral's g(k) >= -tol at every grid point. Calendar: total variance must not decrease
    with maturity, so slice i passes when w_i(k) >= max_{j<i} w_j(k) - tol at every grid point (the first
    slice always passes). `t` (years) must be strictly increasing, one per slice. Optional `k_ranges`
    (one (k_min, k_max) row per slice, e.g. the quoted range) restricts each slice to the grid points
    inside its range, so extrapolated wings are not judged; a comparison needs both slices in range.
    Returns one row per slice: t, min_g, butterfly_arb_free, calendar_gap (most negative
    w_i - max earlier w, 0 when nothing is compared) and calendar_arb_free.
    """
    slices = [_as_params(p) for p in params]
    tt = np.asarray(t, dtype=np.float64).ravel()
    n = len(slices)
    if n == 0:
        raise ValueError("no SVI slices given")
    if tt.size != n:
        raise ValueError(f"t has {tt.size} values for {n} slices")
    if not np.isfinite(tt).all() or (tt <= 0).any():
        raise ValueError("maturities t must be finite and positive (years)")
    if (np.diff(tt) <= 0).any():
        raise ValueError("maturities t must be strictly increasing")
    grid = _as_k(k_grid).ravel()
    if grid.size == 0:
        raise ValueError("k_grid is empty")
    if k_ranges is None:
        inside = np.ones((n, grid.size), dtype=bool)
    else:
        ranges = np.asarray(k_ranges, dtype=np.float64)
        if ranges.shape != (n, 2) or not np.isfinite(ranges).all() or (ranges[:, 1] < ranges[:, 0]).any():
            raise ValueError(f"k_ranges must be {n} finite (k_min, k_max) rows with k_min <= k_max")
        inside = (grid[None, :] >= ranges[:, :1]) & (grid[None, :] <= ranges[:, 1:])
    w = np.vstack([svi_total_variance(grid, p) for p in slices])  # one row per slice (few slices)
    g = np.vstack([butterfly_g(grid, p) for p in slices])
    min_g = np.where(inside.any(axis=1), np.min(np.where(inside, g, np.inf), axis=1), np.nan)
    prior_max = np.maximum.accumulate(np.where(inside, w, -np.inf), axis=0)
    gap = np.zeros(n)
    if n > 1:
        diff = w[1:] - prior_max[:-1]
        compared = inside[1:] & np.isfinite(prior_max[:-1])
        gap[1:] = np.min(np.where(compared, diff, np.inf), axis=1)
    gap = np.where(np.isfinite(gap), np.minimum(gap, 0.0), 0.0)
    return pd.DataFrame(
        {
            "t": tt,
            "min_g": min_g,
            "butterfly_arb_free": ~(min_g < -tol),
            "calendar_gap": gap,
            "calendar_arb_free": gap >= -tol,
        }
    )


# ----------------------------------------------------------------------------------------------------
# surface


def _log_moneyness_inputs(quotes: pd.DataFrame, rate: float, div_yield: float) -> pd.DataFrame:
    """Attach forward and k = ln(K/F); compute iv from bid/ask when absent."""
    df = quotes.copy()
    if "forward" not in df.columns:
        if "spot" not in df.columns:
            raise ValueError("quotes need a forward or a spot column")
        r = df["rate"] if "rate" in df.columns else rate
        q = df["div_yield"] if "div_yield" in df.columns else div_yield
        df["forward"] = df["spot"] * np.exp((r - q) * df["t"])
    if "iv" not in df.columns:
        if not {"bid", "ask", "cp_flag"} <= set(df.columns):
            raise ValueError("quotes need an iv column or bid, ask and cp_flag to compute one")
        df = iv_from_quotes(df, rate=rate, div_yield=div_yield)
    return df


def _spread_weights(df: pd.DataFrame) -> np.ndarray:
    """1 / (bid-ask band in total variance)^2; a missing bid-side vol is a zero-variance bid."""
    t = df["t"].to_numpy(dtype=np.float64)
    w_bid = np.nan_to_num(df["iv_bid"].to_numpy(dtype=np.float64), nan=0.0) ** 2 * t
    w_ask = df["iv_ask"].to_numpy(dtype=np.float64) ** 2 * t
    band = w_ask - w_bid
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(band > 0, 1.0 / (band * band), np.nan)


def fit_svi_surface(
    quotes: pd.DataFrame,
    *,
    rate: float = 0.0,
    div_yield: float = 0.0,
    otm_only: bool = True,
    max_abs_z: float | None = None,
    min_quotes: int = 8,
    weighting: str = "auto",
    weight_column: str | None = None,
    n_grid: int = 201,
) -> pd.DataFrame:
    """Fit one raw SVI slice per expiry of one underlier on one date, with no-arbitrage flags (SSOT 7).

    `quotes` needs expiry, t (years, ACT/365), strike, and either iv or bid/ask/cp_flag (implied vols are
    then computed from mids with iv_from_quotes), plus a forward column or spot (forward = spot e^{(r-q)t}
    with rate/div_yield columns or the scalar defaults). With otm_only, calls are used at K >= F and puts at
    K < F when cp_flag is present (the liquid side, least affected by early exercise). max_abs_z keeps
    quotes with standardised moneyness |k| / (iv_atm sqrt t) <= max_abs_z, iv_atm being the implied vol of
    the expiry's quote nearest the money (drops far wings, where raw SVI and one-tick quotes fit poorly).
    Weights of the least-squares fit in total variance: weight_column when given; otherwise weighting
    "spread" uses 1/(w_ask - w_bid)^2 from the iv_bid/iv_ask band (so the fit lives inside the quoted
    band; a side without implied vol counts as 0 variance on the bid and is skipped on the ask), "equal"
    uses equal weights, and "auto" picks "spread" when iv_bid and iv_ask columns exist. Expiries with fewer
    than min_quotes usable quotes (after filters) are skipped and listed in result.attrs["skipped_expiries"].

    Returns one row per fitted expiry, sorted by t: expiry, t, forward, n_quotes, k_min, k_max, a, b, rho,
    m, sigma, fit_rmse (total variance), fit_rmse_iv (implied vol, decimal), min_g, butterfly_arb_free,
    calendar_gap, calendar_arb_free. Arbitrage checks use a grid of n_grid points spanning every observed
    k = ln(K/F), each slice judged only inside its own quoted range [k_min, k_max].
    """
    required = {"expiry", "t", "strike"}
    missing = sorted(required - set(quotes.columns))
    if missing:
        raise ValueError(f"quotes are missing required columns: {missing}")
    if quotes.empty:
        raise ValueError("quotes are empty")
    if min_quotes < _MIN_POINTS:
        raise ValueError(f"min_quotes must be >= {_MIN_POINTS}, got {min_quotes}")
    if weight_column is not None and weight_column not in quotes.columns:
        raise ValueError(f"weight column {weight_column!r} not in quotes")
    if max_abs_z is not None and not max_abs_z > 0:
        raise ValueError(f"max_abs_z must be positive, got {max_abs_z}")
    if weighting not in ("auto", "spread", "equal"):
        raise ValueError(f"weighting must be 'auto', 'spread' or 'equal', got {weighting!r}")
    df = _log_moneyness_inputs(quotes, rate, div_yield)
    df = df[np.isfinite(df["iv"]) & (df["iv"] > 0) & (df["t"] > 0)]
    df = df.assign(k=np.log(df["strike"] / df["forward"]))
    if otm_only and "cp_flag" in df.columns:
        sign = cp_sign(df["cp_flag"].to_numpy())
        df = df[((sign > 0) & (df["k"] >= 0)) | ((sign < 0) & (df["k"] < 0))]
    if max_abs_z is not None:
        atm_iv = df.loc[df["k"].abs().groupby(df["expiry"]).idxmin()].set_index("expiry")["iv"]
        ref_std = df["expiry"].map(atm_iv).to_numpy(dtype=np.float64) * np.sqrt(df["t"].to_numpy())
        df = df[np.abs(df["k"].to_numpy()) <= max_abs_z * ref_std]
    df = df.assign(w=df["iv"] ** 2 * df["t"])
    has_band = {"iv_bid", "iv_ask"} <= set(df.columns)
    if weighting == "spread" and not has_band:
        raise ValueError("weighting='spread' needs iv_bid and iv_ask columns (or bid/ask to compute them)")
    if weight_column is not None:
        df = df.assign(_weight=df[weight_column].astype(float))
    elif weighting in ("spread", "auto") and has_band:
        df = df.assign(_weight=_spread_weights(df))
    else:
        df = df.assign(_weight=1.0)
    df = df[np.isfinite(df["_weight"]) & (df["_weight"] > 0)]

    rows = []
    for expiry, grp in df.groupby("expiry", sort=True):  # one calibration per expiry (tens at most)
        if len(grp) < min_quotes or grp["k"].nunique() < _MIN_POINTS:
            continue
        t_values = grp["t"].unique()
        if t_values.size != 1:
            raise ValueError(f"expiry {expiry!r} has several t values: {t_values[:3].tolist()}")
        weights = grp["_weight"].to_numpy()
        params = fit_svi_slice(grp["k"], grp["w"], weights)
        t = float(t_values[0])
        w_fit = svi_total_variance(grp["k"].to_numpy(), params)
        iv_fit = np.sqrt(np.maximum(w_fit, 0.0) / t)
        rows.append(
            {
                "expiry": expiry,
                "t": t,
                "forward": float(grp["forward"].median()),
                "n_quotes": len(grp),
                "k_min": float(grp["k"].min()),
                "k_max": float(grp["k"].max()),
                **params._asdict(),
                "fit_rmse": fit_rmse(grp["k"], grp["w"], params, weights),
                "fit_rmse_iv": float(np.sqrt(np.mean((iv_fit - grp["iv"].to_numpy()) ** 2))),
            }
        )
    if not rows:
        raise ValueError(f"no expiry has at least {min_quotes} usable quotes")
    out = pd.DataFrame(rows).sort_values("t", kind="mergesort").reset_index(drop=True)
    if out["t"].duplicated().any():
        raise ValueError("two expiries share the same t; give each expiry its own time to expiry")
    grid = np.linspace(df["k"].min(), df["k"].max(), n_grid)
    params_list = [SVIParams(*r) for r in out[list(SVIParams._fields)].itertuples(index=False)]
    flags = no_arb_flags(params_list, out["t"].to_numpy(), grid, k_ranges=out[["k_min", "k_max"]].to_numpy())
    out = pd.concat([out, flags.drop(columns="t")], axis=1)
    fitted = set(out["expiry"])
    out.attrs["skipped_expiries"] = [e for e in pd.unique(quotes["expiry"]) if e not in fitted]
    return out

"""Black–Scholes–Merton prices, greeks and implied volatility, vectorised over numpy arrays.

Conventions used throughout (SSOT 3.2):

- ``t`` is time to expiry in years, ACT/365 (calendar days / 365).
- ``rate`` and ``div_yield`` are continuously compounded annual rates (0.05 = 5 %).
- ``vol`` is the annualised Black–Scholes volatility as a decimal (0.20 = 20 %).
- ``cp_flag`` is ``'C'``/``'P'`` (case-insensitive, ``'CALL'``/``'PUT'`` accepted) or ``+1``/``-1``.
- Inputs broadcast against each other with numpy rules; all-scalar inputs return a float.

Internally every price is written in normalised Black form: forward ``F = S e^{(r-q)t}``, discount factor
``D = e^{-rt}``, log-moneyness ``x = ln(F/K)``, total standard deviation ``s = vol sqrt(t)`` and normalised
price ``b = price / (D sqrt(F K))``. An in-the-money option is priced as intrinsic value plus the price of the
out-of-the-money option of the other type (put–call parity), and the out-of-the-money price is evaluated
through the Mills ratio ``erfcx`` below the inflection point, so far-from-the-money prices keep full relative
precision instead of cancelling or underflowing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import erf, erfcx, erfinv, ndtr, ndtri

__all__ = [
    "bs_price",
    "bs_delta",
    "bs_gamma",
    "bs_vega",
    "bs_theta",
    "bs_rho",
    "bs_greeks",
    "implied_vol",
    "iv_from_quotes",
    "cp_sign",
]

_SQRT_2 = np.sqrt(2.0)
_SQRT_HALF_PI = np.sqrt(np.pi / 2.0)
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_MAX_ITER = 40
_REL_TOL = 1e-14
_ROUNDING_ULPS = 8.0

_CALL_NAMES = {"C", "CALL"}
_PUT_NAMES = {"P", "PUT"}


# ----------------------------------------------------------------------------------------------------
# input handling


def cp_sign(cp_flag: ArrayLike) -> np.ndarray:
    """Map option-type flags to +1.0 (call) / -1.0 (put); accepts 'C'/'P'/'CALL'/'PUT' (any case) or ±1."""
    arr = np.asarray(cp_flag)
    if arr.dtype.kind in "iuf":
        out = arr.astype(np.float64)
        bad = ~np.isin(out, (1.0, -1.0))
        if bad.any():
            raise ValueError(f"cp_flag must be 'C'/'P' or +1/-1, got {out[bad].ravel()[:3].tolist()}")
        return out
    if arr.dtype.kind == "b":
        raise ValueError("cp_flag must be 'C'/'P' or +1/-1, got booleans")
    flat = arr.ravel()
    codes, uniques = pd.factorize(flat, use_na_sentinel=False)
    lookup = np.empty(len(uniques), dtype=np.float64)
    for i, value in enumerate(uniques):  # a handful of distinct flags
        name = str(value).strip().upper() if isinstance(value, str | np.str_) else value
        if name in _CALL_NAMES:
            lookup[i] = 1.0
        elif name in _PUT_NAMES:
            lookup[i] = -1.0
        elif isinstance(name, int | float | np.integer | np.floating) and name in (1, -1):
            lookup[i] = float(name)
        else:
            raise ValueError(f"cp_flag must be 'C'/'P' or +1/-1, got {value!r}")
    return lookup[codes].reshape(arr.shape)


def _as_float(name: str, value: ArrayLike) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"input shapes do not match (cannot broadcast): {shapes}") from None


def _check_positive(name: str, arr: np.ndarray, allow_zero: bool = False) -> None:
    with np.errstate(invalid="ignore"):
        bad = (arr < 0) if allow_zero else (arr <= 0)
    if bad.any():
        what = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {what}, got {arr[bad].ravel()[:3].tolist()}")


def _prepare(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    cp_flag: ArrayLike,
    **extra: ArrayLike,
) -> tuple[list[np.ndarray], bool]:
    """Validate and broadcast the common inputs; returns arrays and whether every input was a scalar."""
    named = {
        "spot": _as_float("spot", spot),
        "strike": _as_float("strike", strike),
        "t": _as_float("t", t),
        "rate": _as_float("rate", rate),
        "div_yield": _as_float("div_yield", div_yield),
        "cp_flag": cp_sign(cp_flag),
    }
    named.update({k: _as_float(k, v) for k, v in extra.items()})
    scalar = all(np.ndim(v) == 0 for v in named.values())
    arrays = _broadcast(**named)
    _check_positive("spot", arrays[0])
    _check_positive("strike", arrays[1])
    return arrays, scalar


def _finish(values: np.ndarray, scalar: bool) -> np.ndarray | float:
    return float(values) if scalar else values


# ----------------------------------------------------------------------------------------------------
# normalised Black kernel


def _otm_log_price(x: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ln b and d(ln b)/ds of the normalised out-of-the-money call, for x <= 0 and s > 0.

    Below the inflection point (d1 < 0) the price is phi(x/s) e^{-s^2/8} (Y(-d1) - Y(-d2)) with the Mills
    ratio Y(z) = N(-z)/phi(z) = sqrt(pi/2) erfcx(z/sqrt2): no underflow and no loss of relative precision.
    Above it the price is e^{-x/2}(N(d1) - N(d2)) + 2 sinh(x/2) N(d1), where d1 >= 0 >= d2 so the erf
    difference does not cancel. The derivative uses b'(s) = phi(x/s) e^{-s^2/8}.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        h = x / s
        d1 = h + 0.5 * s
        d2 = h - 0.5 * s
        log_vega = -0.5 * h * h - 0.125 * s * s - _LOG_SQRT_2PI
        lower = d1 < 0
        log_b = np.empty_like(s)
        dlog_b = np.empty_like(s)
        if lower.any():
            dy = _SQRT_HALF_PI * (erfcx(-d1[lower] / _SQRT_2) - erfcx(-d2[lower] / _SQRT_2))
            log_b[lower] = log_vega[lower] + np.log(dy)
            dlog_b[lower] = 1.0 / dy
        upper = ~lower
        if upper.any():
            xu, d1u, d2u = x[upper], d1[upper], d2[upper]
            b = np.exp(-0.5 * xu) * 0.5 * (erf(d1u / _SQRT_2) - erf(d2u / _SQRT_2)) + 2.0 * np.sinh(
                0.5 * xu
            ) * ndtr(d1u)
            log_b[upper] = np.log(b)
            dlog_b[upper] = np.exp(log_vega[upper] - log_b[upper])
    return log_b, dlog_b


def _normalised_price(x: np.ndarray, s: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Normalised Black price b = price / (D sqrt(FK)) for log-moneyness x, total std s >= 0, type omega."""
    intrinsic = np.maximum(omega * (np.exp(0.5 * x) - np.exp(-0.5 * x)), 0.0)
    time_value = np.zeros_like(s)
    live = s > 0
    if live.any():
        log_b, _ = _otm_log_price(-np.abs(x[live]), s[live])
        time_value[live] = np.exp(log_b)
    return intrinsic + time_value


def _forward_terms(
    spot: np.ndarray, strike: np.ndarray, t: np.ndarray, rate: np.ndarray, div_yield: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward F, discount factor D and log-moneyness ln(F/K)."""
    forward = spot * np.exp((rate - div_yield) * t)
    discount = np.exp(-rate * t)
    x = np.log(spot / strike) + (rate - div_yield) * t
    return forward, discount, x


# ----------------------------------------------------------------------------------------------------
# prices and greeks


def bs_price(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    cp_flag: ArrayLike,
) -> np.ndarray | float:
    """Black–Scholes–Merton price of a European option with continuous dividend yield (currency units).

    t = 0 or vol = 0 gives the discounted intrinsic value of the forward, max(±(S e^{-qt} - K e^{-rt}), 0).
    NaN inputs propagate to NaN prices; negative t or vol and non-positive spot/strike raise ValueError.
    """
    (spot_a, strike_a, t_a, r_a, q_a, omega, vol_a), scalar = _prepare(
        spot, strike, t, rate, div_yield, cp_flag, vol=vol
    )
    _check_positive("t", t_a, allow_zero=True)
    _check_positive("vol", vol_a, allow_zero=True)
    forward, discount, x = _forward_terms(spot_a, strike_a, t_a, r_a, q_a)
    s = vol_a * np.sqrt(t_a)
    price = discount * np.sqrt(forward * strike_a) * _normalised_price(x, s, omega)
    return _finish(price, scalar)


class _Terms:
    """d1, d2 and the discounted forward pieces shared by every greek."""

    def __init__(self, spot, strike, t, rate, div_yield, vol, cp_flag) -> None:
        (self.S, self.K, self.t, self.r, self.q, self.w, self.vol), self.scalar = _prepare(
            spot, strike, t, rate, div_yield, cp_flag, vol=vol
        )
        _check_positive("t", self.t, allow_zero=True)
        _check_positive("vol", self.vol, allow_zero=True)
        _, _, x = _forward_terms(self.S, self.K, self.t, self.r, self.q)
        self.sqrt_t = np.sqrt(self.t)
        s = self.vol * self.sqrt_t
        self.degenerate = s == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            d1 = x / s + 0.5 * s
            # zero total variance: the limit is +-inf away from the kink and undefined (NaN) at it
            d1 = np.where(self.degenerate, np.where(x > 0, np.inf, np.where(x < 0, -np.inf, np.nan)), d1)
        self.d1 = d1
        self.d2 = d1 - s
        self.pdf_d1 = np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
        self.disc_q = np.exp(-self.q * self.t)
        self.disc_r = np.exp(-self.r * self.t)

    def zero_if_degenerate(self, values: np.ndarray) -> np.ndarray:
        """Terms proportional to phi(d1) vanish when s = 0 away from the kink; NaN stays NaN at it."""
        return np.where(self.degenerate, np.where(np.isnan(self.d1), np.nan, 0.0), values)

    def delta(self) -> np.ndarray:
        return self.w * self.disc_q * ndtr(self.w * self.d1)

    def gamma(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            g = self.disc_q * self.pdf_d1 / (self.S * self.vol * self.sqrt_t)
        return self.zero_if_degenerate(g)

    def vega(self) -> np.ndarray:
        return self.zero_if_degenerate(self.S * self.disc_q * self.pdf_d1 * self.sqrt_t)

    def theta(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            decay = -self.S * self.disc_q * self.pdf_d1 * self.vol / (2.0 * self.sqrt_t)
        decay = self.zero_if_degenerate(decay)
        w = self.w
        carry = -w * self.r * self.K * self.disc_r * ndtr(w * self.d2) + w * self.q * self.S * self.disc_q * ndtr(
            w * self.d1
        )
        return decay + carry

    def rho(self) -> np.ndarray:
        return self.w * self.K * self.t * self.disc_r * ndtr(self.w * self.d2)


_GREEK_DOC = """
    Units: delta per 1 unit of spot; gamma per unit of spot squared; vega per 1.00 of vol (divide by 100
    for one vol point); theta per year of calendar time (price change as t shrinks; divide by 365 for one
    day); rho per 1.00 of rate (divide by 100 for one percentage point). At zero total variance
    (t = 0 or vol = 0) the greeks are their limits away from the strike and NaN exactly at the kink.
"""


def bs_delta(spot, strike, t, rate, div_yield, vol, cp_flag) -> np.ndarray | float:
    """BSM delta dV/dS = ±e^{-qt} N(±d1)."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return _finish(terms.delta(), terms.scalar)


def bs_gamma(spot, strike, t, rate, div_yield, vol, cp_flag) -> np.ndarray | float:
    """BSM gamma d2V/dS2 = e^{-qt} phi(d1) / (S vol sqrt t), identical for calls and puts."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return _finish(terms.gamma(), terms.scalar)


def bs_vega(spot, strike, t, rate, div_yield, vol, cp_flag) -> np.ndarray | float:
    """BSM vega dV/dvol = S e^{-qt} phi(d1) sqrt t, per 1.00 of vol."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return _finish(terms.vega(), terms.scalar)


def bs_theta(spot, strike, t, rate, div_yield, vol, cp_flag) -> np.ndarray | float:
    """BSM theta -dV/dt (value change per year as expiry approaches, calendar time)."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return _finish(terms.theta(), terms.scalar)


def bs_rho(spot, strike, t, rate, div_yield, vol, cp_flag) -> np.ndarray | float:
    """BSM rho dV/dr = ±K t e^{-rt} N(±d2), per 1.00 of rate."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return _finish(terms.rho(), terms.scalar)


def bs_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    cp_flag: ArrayLike,
) -> dict[str, np.ndarray | float]:
    """All five BSM greeks at once (delta, gamma, vega, theta, rho), sharing one d1/d2 evaluation."""
    terms = _Terms(spot, strike, t, rate, div_yield, vol, cp_flag)
    return {
        "delta": _finish(terms.delta(), terms.scalar),
        "gamma": _finish(terms.gamma(), terms.scalar),
        "vega": _finish(terms.vega(), terms.scalar),
        "theta": _finish(terms.theta(), terms.scalar),
        "rho": _finish(terms.rho(), terms.scalar),
    }


for _fn in (bs_delta, bs_gamma, bs_vega, bs_theta, bs_rho, bs_greeks):
    _fn.__doc__ = (_fn.__doc__ or "") + "\n" + _GREEK_DOC


# ----------------------------------------------------------------------------------------------------
# implied volatility


def _solve_total_std(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Total standard deviation s with b_otm(x, s) = beta, for x <= 0 and 0 < beta < e^{x/2}.

    Householder (Halley) iterations on g(s) = ln b(s) - ln beta, which is increasing and concave in s,
    inside a bracket that is kept for every element: the inflection point s_c = sqrt(-2x) separates the
    two starting regions, and any step that leaves the bracket is replaced by bisection (or doubling when
    the bracket is still open above). Elements drop out of the working set as they converge.
    """
    n = x.size
    log_beta = np.log(beta)
    s_c = np.sqrt(-2.0 * x)
    s = np.empty(n)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)

    # which side of the inflection point the root lies on
    has_lower = x < 0
    lower = np.zeros(n, dtype=bool)
    if has_lower.any():
        log_b_c, _ = _otm_log_price(x[has_lower], s_c[has_lower])
        lower[has_lower] = log_beta[has_lower] <= log_b_c
    upper = ~lower

    # lower region: fixed point of ln beta = -x^2/(2 s^2) - s^2/8 - ln sqrt(2 pi) + ln dY(s) (exact identity)
    if lower.any():
        xl, lbl, sc = x[lower], log_beta[lower], s_c[lower]
        guess = np.minimum(np.sqrt(x[lower] ** 2 / (-2.0 * lbl)), 0.5 * sc)
        for _ in range(3):  # three fixed-point sweeps give a start within a few per cent
            h = xl / guess
            dy = _SQRT_HALF_PI * (erfcx(-(h + 0.5 * guess) / _SQRT_2) - erfcx(-(h - 0.5 * guess) / _SQRT_2))
            rhs = -lbl - 0.125 * guess * guess - _LOG_SQRT_2PI + np.log(dy)
            with np.errstate(invalid="ignore", divide="ignore"):
                nxt = np.sqrt(xl * xl / (2.0 * rhs))
            guess = np.where(np.isfinite(nxt) & (nxt > 0) & (nxt < sc), nxt, 0.5 * (guess + sc))
        s[lower] = guess
        hi[lower] = sc
    # upper region: b_max - b ~ (e^{x/2} + e^{-x/2}) N(-s/2), exact at x = 0 (where erfinv keeps precision)
    if upper.any():
        xu, bu = x[upper], beta[upper]
        gap = (np.exp(0.5 * xu) - bu) / (np.exp(0.5 * xu) + np.exp(-0.5 * xu))
        guess = np.where(xu == 0, 2.0 * _SQRT_2 * erfinv(bu), -2.0 * ndtri(gap))
        guess = np.where(np.isfinite(guess), guess, s_c[upper] + 1.0)
        s[upper] = np.maximum(guess, s_c[upper])
        lo[upper] = s_c[upper]

    idx = np.arange(n)
    xs, lbs = x, log_beta
    for _ in range(_MAX_ITER):
        if idx.size == 0:
            break
        cur = s[idx]
        log_b, dlog_b = _otm_log_price(xs, cur)
        g = log_b - lbs
        lo_i = np.where(g < 0, cur, lo[idx])
        hi_i = np.where(g > 0, cur, hi[idx])
        newton = -g / dlog_b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            curvature = xs * xs / (cur * cur * cur) - 0.25 * cur - dlog_b
            denom = 1.0 + 0.5 * newton * curvature
            step = np.where(denom > 0.5, newton / denom, newton)
            nxt = cur + step
        outside = ~((nxt > lo_i) & (nxt < hi_i))
        fallback = np.where(np.isfinite(hi_i), 0.5 * (lo_i + hi_i), 2.0 * np.maximum(cur, 1e-3))
        nxt = np.where(outside, fallback, nxt)
        done = (g == 0) | (np.abs(nxt - cur) <= _REL_TOL * nxt) | (hi_i - lo_i <= _REL_TOL * hi_i)
        s[idx] = np.where(g == 0, cur, nxt)
        lo[idx], hi[idx] = lo_i, hi_i
        keep = ~done
        idx, xs, lbs = idx[keep], xs[keep], lbs[keep]
    return s


def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    cp_flag: ArrayLike,
) -> np.ndarray | float:
    """Annualised BSM implied volatility of European option prices, vectorised.

    NaN where no volatility reproduces the price: price below the no-arbitrage lower bound
    max(±(S e^{-qt} - K e^{-rt}), 0) or at/above the upper bound (S e^{-qt} for calls, K e^{-rt} for puts),
    t <= 0, or any NaN input. A price at the lower bound, or above it by no more than its own rounding
    error (8 ulps; deep in-the-money prices whose time value is lost), returns 0.0.
    Non-positive spot or strike raise ValueError.
    """
    (spot_a, strike_a, t_a, r_a, q_a, omega, price_a), scalar = _prepare(
        spot, strike, t, rate, div_yield, cp_flag, price=price
    )
    out = np.full(price_a.shape, np.nan)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(price_a) & np.isfinite(t_a) & np.isfinite(r_a) & np.isfinite(q_a) & (t_a > 0)
        ok &= (price_a >= 0) & np.isfinite(spot_a) & np.isfinite(strike_a)
    if ok.any():
        p, S, K, T, r, q, w = (a[ok] for a in (price_a, spot_a, strike_a, t_a, r_a, q_a, omega))
        forward, discount, x = _forward_terms(S, K, T, r, q)
        beta = p / (discount * np.sqrt(forward * K))
        intrinsic = np.maximum(w * (np.exp(0.5 * x) - np.exp(-0.5 * x)), 0.0)
        beta_otm = beta - intrinsic  # time value; the OTM option of the other type by parity
        # time value lost in the rounding of an in-the-money price carries no volatility information
        beta_otm = np.where(np.abs(beta_otm) <= _ROUNDING_ULPS * np.finfo(float).eps * beta, 0.0, beta_otm)
        x_otm = -np.abs(x)
        vol = np.full(p.shape, np.nan)
        vol[beta_otm == 0] = 0.0
        solvable = (beta_otm > 0) & (beta_otm < np.exp(0.5 * x_otm))
        if solvable.any():
            vol[solvable] = _solve_total_std(x_otm[solvable], beta_otm[solvable]) / np.sqrt(T[solvable])
        out[ok] = vol
    return _finish(out, scalar)


# ----------------------------------------------------------------------------------------------------
# quotes -> IV and greeks


_QUOTE_COLUMNS = ("strike", "cp_flag", "bid", "ask", "t")


def iv_from_quotes(
    quotes: pd.DataFrame,
    *,
    rate: float = 0.0,
    div_yield: float = 0.0,
    max_rel_spread: float | None = None,
) -> pd.DataFrame:
    """Implied vol and greeks from NBBO mids, after robust quote filters (SSOT 3.2).

    Required columns: strike, cp_flag, bid, ask, t (years, ACT/365) and spot or forward. Optional columns
    rate and div_yield override the scalar defaults per row. With a forward column the underlying is the
    forward: spot (if absent) is taken as F e^{-rt} and the yield implied as r - ln(F/S)/t.
    Dropped rows: non-finite or non-positive bid/ask (zero-bid quotes), crossed quotes (ask < bid),
    t <= 0, relative spread (ask - bid)/mid above max_rel_spread when given, and mids outside the
    no-arbitrage bounds (no implied vol). Returned rows keep the input index and columns and add mid, iv,
    iv_bid, iv_ask (NaN where that side has no implied vol) and delta, gamma, vega, theta, rho
    (units as in bs_greeks).
    """
    missing = [c for c in _QUOTE_COLUMNS if c not in quotes.columns]
    if "spot" not in quotes.columns and "forward" not in quotes.columns:
        missing.append("spot or forward")
    if missing:
        raise ValueError(f"quotes are missing required columns: {missing}")
    if max_rel_spread is not None and not max_rel_spread > 0:
        raise ValueError(f"max_rel_spread must be positive, got {max_rel_spread}")

    bid = quotes["bid"].to_numpy(dtype=np.float64)
    ask = quotes["ask"].to_numpy(dtype=np.float64)
    t = quotes["t"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        keep = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid) & np.isfinite(t) & (t > 0)
        mid = 0.5 * (bid + ask)
        if max_rel_spread is not None:
            keep &= (ask - bid) <= max_rel_spread * mid
    df = quotes.loc[keep].copy()
    mid, bid, ask, t = mid[keep], bid[keep], ask[keep], t[keep]
    strike = df["strike"].to_numpy(dtype=np.float64)
    cp = cp_sign(df["cp_flag"].to_numpy())
    r = df["rate"].to_numpy(dtype=np.float64) if "rate" in df.columns else np.full(len(df), float(rate))
    if "forward" in df.columns:
        forward = df["forward"].to_numpy(dtype=np.float64)
        _check_positive("forward", forward)
        spot = df["spot"].to_numpy(dtype=np.float64) if "spot" in df.columns else forward * np.exp(-r * t)
        q = r - np.log(forward / spot) / t
    else:
        spot = df["spot"].to_numpy(dtype=np.float64)
        q = (
            df["div_yield"].to_numpy(dtype=np.float64)
            if "div_yield" in df.columns
            else np.full(len(df), float(div_yield))
        )
    iv = np.asarray(implied_vol(mid, spot, strike, t, r, q, cp))
    has_iv = np.isfinite(iv) & (iv > 0)
    df = df.loc[has_iv]
    spot, strike, t, r, q, cp, iv = (a[has_iv] for a in (spot, strike, t, r, q, cp, iv))
    df["mid"] = mid[has_iv]
    df["iv"] = iv
    df["iv_bid"] = np.asarray(implied_vol(bid[has_iv], spot, strike, t, r, q, cp))
    df["iv_ask"] = np.asarray(implied_vol(ask[has_iv], spot, strike, t, r, q, cp))
    greeks = bs_greeks(spot, strike, t, r, q, iv, cp)
    for name, values in greeks.items():
        df[name] = values
    return df

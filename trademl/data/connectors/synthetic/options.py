"""Option chains of the synthetic market: quotes around an arbitrage-free SSVI surface.

Per underlier and session the ATM total variance term structure is
    theta(T) = premium * (v_inf T + (v0 - v_inf) (1 - exp(-kappa T)) / kappa)
with v0 the underlier's current conditional variance (annualised, so option vols cluster with the
stock's) and v_inf its long-run variance; theta is strictly increasing in T. Each expiry's smile is
SSVI (Gatheral & Jacquier 2014) with power-law phi(theta) = eta / (theta^gamma (1 + theta)^(1 - gamma)),
gamma in (0, 1/2] and eta (1 + |rho|) <= 2: free of butterfly and calendar arbitrage. The SSVI slice is
expressed as raw SVI parameters and priced with the project's own SVI and Black–Scholes code.
Quotes are the model price +- a half-spread that widens in the wings, rounded outwards to cents, so
the model price always lies inside [bid, ask].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.data.connectors.synthetic.config import OptionsParams
from trademl.data.connectors.synthetic.streams import Stream, hash_uniform
from trademl.pricing.black_scholes import bs_price
from trademl.pricing.svi import SVIParams, svi_total_variance

ETA_BUDGET = 1.6  # eta (1 + |rho|); <= 2 keeps the power-law SSVI surface free of static arbitrage
DAYS_PER_YEAR = 365.0


def ssvi_slice(theta: float, rho: float, gamma: float, eta: float) -> SVIParams:
    """The SSVI smile of ATM total variance `theta` as raw SVI parameters (a, b, rho, m, sigma)."""
    phi = eta / (theta**gamma * (1.0 + theta) ** (1.0 - gamma))
    return SVIParams(
        a=0.5 * theta * (1.0 - rho * rho),
        b=0.5 * theta * phi,
        rho=rho,
        m=-rho / phi,
        sigma=np.sqrt(1.0 - rho * rho) / phi,
    )


def underlier_skew(seed: int, underlier_index: int) -> float:
    """A stable per-underlier SSVI correlation rho in [-0.75, -0.35] (equity skew)."""
    return float(-0.35 - 0.40 * hash_uniform(seed, int(Stream.OPTIONS), 1, underlier_index))


def expiries(session: pd.Timestamp, params: OptionsParams, all_sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Listed expiries: Friday weeklies up to `weekly_days`, third-Friday monthlies up to `max_days`.

    An expiry Friday that is a holiday moves to the previous session. Only expiries at least
    `min_days` calendar days out are quoted.
    """
    fridays = pd.date_range(session + pd.Timedelta(days=params.min_days), session + pd.Timedelta(days=params.max_days), freq="W-FRI")
    third = (fridays.day >= 15) & (fridays.day <= 21)
    weekly = (fridays - session).days <= params.weekly_days
    chosen = fridays[third | weekly]
    pos = all_sessions.searchsorted(chosen, side="right") - 1
    return pd.DatetimeIndex(all_sessions[pos]).unique()


def strike_step(spot: float) -> float:
    """Listed strike spacing for a spot price (USD)."""
    return 0.5 if spot < 25 else 1.0 if spot < 50 else 2.5 if spot < 100 else 5.0 if spot < 250 else 10.0


def surface(
    *,
    session: pd.Timestamp,
    spot: float,
    v0: float,
    v_inf: float,
    div_yield: float,
    rho: float,
    params: OptionsParams,
    all_sessions: pd.DatetimeIndex,
) -> pd.DataFrame:
    """The SSVI surface of one underlier on one session: one row per listed expiry.

    Columns: expiry, t (years), theta (ATM total variance), forward, and the slice as raw SVI
    parameters a, b, rho, m, sigma. `v0` and `v_inf` are annualised variances.
    """
    exp = expiries(session, params, all_sessions)
    t = np.maximum((exp - session).days.to_numpy(), 1) / DAYS_PER_YEAR
    mean_var = v_inf * t + (v0 - v_inf) * (1.0 - np.exp(-params.kappa * t)) / params.kappa
    theta = params.variance_premium * mean_var
    eta = ETA_BUDGET / (1.0 + abs(rho))
    slices = [ssvi_slice(float(th), rho, params.gamma, eta) for th in theta]
    out = pd.DataFrame(slices, columns=list(SVIParams._fields))
    out.insert(0, "expiry", exp)
    out.insert(1, "t", t)
    out.insert(2, "theta", theta)
    out.insert(3, "forward", spot * np.exp((params.rate - div_yield) * t))
    return out


def chain(
    surf: pd.DataFrame,
    *,
    spot: float,
    div_yield: float,
    params: OptionsParams,
    seed: int,
    key: int,
) -> pd.DataFrame:
    """Every quoted contract of one underlier on one session, priced off its surface `surf`.

    Columns: expiry, strike, cp_flag, bid, ask, nbbo_mid, sizes, exchs_bitmap, underlying_price, plus
    t (years), k (log-moneyness ln(K/F)), theta and model (the surface's Black–Scholes price).
    `key` makes the seeded quote sizes unique per (underlier, session).
    """
    step = strike_step(spot)
    atm = np.round(spot / step) * step
    strikes = atm + step * np.arange(-params.strikes_per_side, params.strikes_per_side + 1)
    strikes = strikes[strikes > 0]
    frames = []
    for row in surf.itertuples(index=False):  # ~10 expiries per chain, each priced as one vector
        k = np.log(strikes / row.forward)
        w = svi_total_variance(k, SVIParams(row.a, row.b, row.rho, row.m, row.sigma))
        vol = np.sqrt(w / row.t)
        for cp in ("C", "P"):
            model = np.asarray(bs_price(spot, strikes, row.t, params.rate, div_yield, vol, cp), dtype=np.float64)
            frames.append(
                pd.DataFrame(
                    {"expiry": row.expiry, "strike": strikes, "cp_flag": cp, "t": row.t, "k": k, "theta": row.theta, "model": model}
                )
            )
    out = pd.concat(frames, ignore_index=True)
    rel = params.base_rel_spread + params.wing_spread * np.abs(out["k"].to_numpy()) / np.sqrt(out["theta"].to_numpy())
    half = 0.5 * np.maximum(out["model"].to_numpy() * rel, 0.01)
    model = out["model"].to_numpy()
    out["bid"] = np.maximum(np.floor((model - half) * 100.0 + 1e-9) / 100.0, 0.0)
    out["ask"] = np.maximum(np.ceil((model + half) * 100.0 - 1e-9) / 100.0, 0.01)
    out["nbbo_mid"] = 0.5 * (out["bid"] + out["ask"])
    row = np.arange(len(out))
    out["bid_size"] = (1 + np.floor(hash_uniform(seed, int(Stream.OPTIONS), 2, key, row) * 500)).astype(np.int64)
    out["ask_size"] = (1 + np.floor(hash_uniform(seed, int(Stream.OPTIONS), 3, key, row) * 500)).astype(np.int64)
    out["exchs_bitmap"] = (1 + np.floor(hash_uniform(seed, int(Stream.OPTIONS), 4, key, row) * (2**16 - 1))).astype(np.int64)
    out["underlying_price"] = spot
    return out

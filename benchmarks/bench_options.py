"""Speed and memory of the option math (BSM prices, greeks, implied vol on 1M quotes, SVI calibration)
and of the execution math (cost model on 1M orders, Almgren-Chriss schedules), as two tables.

Run: ``.venv/bin/python benchmarks/bench_options.py [--quotes 1000000]``. Quotes are synthetic:
spot 100, log-moneyness ln(K/S) uniform in [-0.5, 0.5], t uniform in [1 day, 2 years], vol uniform
in [5 %, 100 %], rate 4 %, yield 1 %, calls and puts half each, priced with ``bs_price``. Wall time
is the best of 3 runs; memory is the tracemalloc peak of one measured call (inputs excluded). The
scipy ``brentq`` per-quote loop is timed on a sample and extrapolated. The accuracy line checks the
round trip bs_price -> implied_vol on every quote whose price still carries volatility information.
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from scipy.optimize import brentq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import measure  # noqa: E402  (benchmarks/measure.py, beside this script)

from trademl.execution.almgren_chriss import cost_variance, expected_cost, optimal_trajectory  # noqa: E402
from trademl.execution.cost import estimate_costs  # noqa: E402
from trademl.pricing.black_scholes import (  # noqa: E402
    bs_greeks,
    bs_price,
    bs_vega,
    implied_vol,
    iv_from_quotes,
)
from trademl.pricing.svi import (  # noqa: E402
    SVIParams,
    fit_svi_slice,
    fit_svi_surface,
    svi_total_variance,
)

SPOT = 100.0
RATE = 0.04
DIV_YIELD = 0.01
# vega below this share of spot means a 1e-4 vol change moves the price by less than ~1e-10 * spot,
# i.e. the price has lost its volatility information to rounding (deep ITM / far OTM, short dated)
WELL_POSED_VEGA = 1e-6




def option_quotes(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n synthetic European quotes (see module docstring), priced exactly by bs_price."""
    rng = np.random.default_rng(seed)
    strike = SPOT * np.exp(rng.uniform(-0.5, 0.5, n))
    t = rng.uniform(1.0 / 365.0, 2.0, n)
    vol = rng.uniform(0.05, 1.0, n)
    cp_int = np.where(rng.random(n) < 0.5, 1, -1)
    cp_str = np.where(cp_int > 0, "C", "P")
    spot = np.full(n, SPOT)
    rate = np.full(n, RATE)
    q = np.full(n, DIV_YIELD)
    price = np.asarray(bs_price(spot, strike, t, rate, q, vol, cp_int))
    return {"spot": spot, "strike": strike, "t": t, "rate": rate, "q": q, "vol": vol,
            "cp_int": cp_int, "cp_str": cp_str, "price": price}


def brentq_implied_vol(price: float, spot: float, strike: float, t: float, cp: int) -> float:
    """Textbook reference: bracketed root of bs_price(vol) - price, one quote at a time."""
    def objective(vol: float) -> float:
        return float(bs_price(spot, strike, t, RATE, DIV_YIELD, vol, cp)) - price

    try:
        return brentq(objective, 1e-6, 10.0, xtol=1e-12)
    except ValueError:
        return math.nan


def quote_frame(q: dict[str, np.ndarray]) -> pd.DataFrame:
    """NBBO-like quotes around the exact prices: half-spread 0.5 % of mid plus 1 cent."""
    half = 0.005 * q["price"] + 0.01
    return pd.DataFrame(
        {"strike": q["strike"], "cp_flag": q["cp_str"], "bid": q["price"] - half, "ask": q["price"] + half,
         "t": q["t"], "spot": q["spot"]}
    )


def svi_surface_quotes(n_expiries: int, n_strikes: int) -> pd.DataFrame:
    """Calls and puts on n_strikes strikes for each of n_expiries expiries of one raw-SVI surface."""
    frames = []
    for i, t in enumerate(np.linspace(0.05, 2.0, n_expiries)):
        params = SVIParams(0.04 * t, 0.1 + 0.05 * t, -0.5, 0.02, 0.1 + 0.1 * t)
        forward = SPOT * math.exp((RATE - DIV_YIELD) * t)
        strikes = forward * np.exp(np.linspace(-0.5, 0.4, n_strikes) * math.sqrt(t))
        vol = np.sqrt(svi_total_variance(np.log(strikes / forward), params) / t)
        for cp in ("C", "P"):
            mid = np.asarray(bs_price(SPOT, strikes, t, RATE, DIV_YIELD, vol, cp))
            half = 0.002 * mid + 0.005
            frames.append(pd.DataFrame({"expiry": pd.Timestamp("2024-01-19") + pd.Timedelta(days=30 * i),
                                        "t": t, "strike": strikes, "cp_flag": cp, "bid": mid - half,
                                        "ask": mid + half, "spot": SPOT}))
    return pd.concat(frames, ignore_index=True)


def execution_rows(n_orders: int) -> list[tuple[str, str, float, float]]:
    """Cost model on n_orders random orders and Almgren-Chriss schedules of 390 and 100,000 intervals."""
    rng = np.random.default_rng(3)
    qty = rng.integers(-50_000, 50_000, n_orders).astype(float)
    price = rng.uniform(5.0, 500.0, n_orders)
    adv = rng.uniform(1e5, 5e7, n_orders)
    sigma = rng.uniform(0.005, 0.05, n_orders)
    spread = price * rng.uniform(1e-4, 2e-3, n_orders)
    rows = []
    seconds, peak = measure(
        lambda: estimate_costs(qty, price, adv, sigma, spread, fee_per_share=0.0035, fee_bps=0.5)
    )
    rows.append(("estimate_costs (fee + half spread + sqrt impact)", f"{n_orders:,} orders", seconds, peak))
    # parameters of Almgren & Chriss (2000) section 4: 1M shares over 5 days, sigma 0.95 $/share/sqrt(day),
    # eta 2.5e-6, gamma 2.5e-7, epsilon 0.0625, lam 1e-6
    for n_intervals in (390, 100_000):
        seconds, peak = measure(
            lambda n=n_intervals: optimal_trajectory(1e6, 5.0, n, 0.95, 2.5e-6, 2.5e-7, 1e-6)
        )
        rows.append(("optimal_trajectory", f"N = {n_intervals:,}", seconds, peak))
    schedule = optimal_trajectory(1e6, 5.0, 100_000, 0.95, 2.5e-6, 2.5e-7, 1e-6)
    seconds, peak = measure(
        lambda: (expected_cost(schedule, 5.0, 2.5e-6, 2.5e-7, 0.0625), cost_variance(schedule, 5.0, 0.95))
    )
    rows.append(("expected_cost + cost_variance of a schedule", "N = 100,000", seconds, peak))
    return rows


def print_table(rows: list[tuple[str, str, float, float]]) -> None:
    """Markdown table of (case, size, seconds, MiB) rows."""
    print("| case | size | wall time (s) | tracemalloc peak (MiB) |")
    print("| --- | --- | ---: | ---: |")
    for case, desc, secs, mib in rows:
        mem = "n/a" if math.isnan(mib) else f"{mib:,.0f}"
        print(f"| {case} | {desc} | {secs:.4f} | {mem} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quotes", type=int, default=1_000_000)
    ap.add_argument("--brentq-sample", type=int, default=2_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.quotes
    q = option_quotes(n)
    size = f"{n:,} quotes"
    rows: list[tuple[str, str, float, float]] = []

    def iv_str() -> object:
        return implied_vol(q["price"], q["spot"], q["strike"], q["t"], q["rate"], q["q"], q["cp_str"])

    def iv_int() -> object:
        return implied_vol(q["price"], q["spot"], q["strike"], q["t"], q["rate"], q["q"], q["cp_int"])

    seconds, peak = measure(iv_str)
    rows.append(("implied_vol, cp_flag 'C'/'P'", size, seconds, peak))
    seconds, peak = measure(iv_int)
    rows.append(("implied_vol, cp_flag +1/-1", size, seconds, peak))
    seconds, peak = measure(
        lambda: bs_price(q["spot"], q["strike"], q["t"], q["rate"], q["q"], q["vol"], q["cp_int"])
    )
    rows.append(("bs_price", size, seconds, peak))
    seconds, peak = measure(
        lambda: bs_greeks(q["spot"], q["strike"], q["t"], q["rate"], q["q"], q["vol"], q["cp_int"])
    )
    rows.append(("bs_greeks (delta, gamma, vega, theta, rho)", size, seconds, peak))
    frame = quote_frame(q)
    seconds, peak = measure(lambda: iv_from_quotes(frame, rate=RATE, div_yield=DIV_YIELD))
    rows.append(("iv_from_quotes (mid, bid, ask IVs + greeks)", size, seconds, peak))

    sample = np.random.default_rng(1).choice(n, size=min(args.brentq_sample, n), replace=False)
    start = time.perf_counter()
    reference = np.array(
        [
            brentq_implied_vol(q["price"][i], SPOT, q["strike"][i], q["t"][i], int(q["cp_int"][i]))
            for i in sample
        ]
    )
    per_quote = (time.perf_counter() - start) / sample.size
    rows.append(("reference: scipy brentq per quote (extrapolated)", size, per_quote * n, math.nan))

    k = np.linspace(-0.4, 0.3, 50)
    w = svi_total_variance(k, SVIParams(0.02, 0.12, -0.55, 0.03, 0.15))
    seconds, peak = measure(lambda: fit_svi_slice(k, w))
    rows.append(("fit_svi_slice", "50 strikes", seconds, peak))
    surface = svi_surface_quotes(12, 60)
    seconds, peak = measure(lambda: fit_svi_surface(surface, rate=RATE, div_yield=DIV_YIELD), repeats=2)
    rows.append(("fit_svi_surface from bid/ask (IVs, fits, no-arb flags)", "12 expiries x 60 strikes x C/P",
                 seconds, peak))

    iv = np.asarray(iv_int())
    vega = np.asarray(bs_vega(q["spot"], q["strike"], q["t"], q["rate"], q["q"], q["vol"], q["cp_int"]))
    well_posed = vega >= WELL_POSED_VEGA * SPOT
    err = np.abs(iv - q["vol"])[well_posed]
    ref_ok = np.isfinite(reference) & well_posed[sample]
    ref_gap = np.abs(reference - iv[sample])[ref_ok]

    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"scipy {scipy.__version__}\n")
    print("Options\n")
    print_table(rows)
    print(
        f"\nRound trip bs_price -> implied_vol: {well_posed.sum():,} of {n:,} quotes well posed "
        f"(vega >= {WELL_POSED_VEGA:g} x spot); max |iv - vol| = {err.max():.2e}, "
        f"NaN among them: {int(np.isnan(err).sum())}. Max |implied_vol - brentq| on the sample: "
        f"{ref_gap.max():.2e}."
    )
    print("\nExecution\n")
    print_table(execution_rows(args.orders))
    print(f"\nProcess peak RSS (whole script, inputs included): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()

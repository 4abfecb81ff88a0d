"""Forward price of each expiry implied by put–call parity on quoted option mids.

For a European pair at strike K, C - P = D (F - K), so F = K + (C - P) / D with D = e^{-rt}. Near the money
both options are liquid and (for American-style equity options) the early-exercise premium is smallest,
so the forward is the median of the per-strike estimates over the strikes where |C - P| is smallest.
This avoids having to know the dividend yield of the underlier (SSOT 3.2 surfaces need ln(K/F)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.pricing.black_scholes import cp_sign

__all__ = ["parity_forward"]

_REQUIRED = ("expiry", "t", "strike", "cp_flag", "bid", "ask")


def parity_forward(quotes: pd.DataFrame, *, rate: float = 0.0, n_strikes: int = 5) -> pd.DataFrame:
    """Per-expiry forward from put–call parity on NBBO mids (currency units).

    Uses strikes quoted on both sides with bid > 0 and ask >= bid; the forward is the median of
    K + e^{rt}(C_mid - P_mid) over the n_strikes strikes with the smallest |C_mid - P_mid|. `rate` is the
    continuously compounded annual rate used for discounting (or a `rate` column, one value per expiry).
    Returns one row per expiry with a usable pair: expiry, t, forward, n_pairs. Expiries without any
    pair are absent.
    """
    missing = [c for c in _REQUIRED if c not in quotes.columns]
    if missing:
        raise ValueError(f"quotes are missing required columns: {missing}")
    if n_strikes < 1:
        raise ValueError(f"n_strikes must be >= 1, got {n_strikes}")
    bid = quotes["bid"].to_numpy(dtype=np.float64)
    ask = quotes["ask"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)
    df = pd.DataFrame(
        {
            "expiry": quotes["expiry"].to_numpy()[usable],
            "t": quotes["t"].to_numpy(dtype=np.float64)[usable],
            "strike": quotes["strike"].to_numpy(dtype=np.float64)[usable],
            "sign": cp_sign(quotes["cp_flag"].to_numpy()[usable]),
            "mid": 0.5 * (bid + ask)[usable],
            "rate": (
                quotes["rate"].to_numpy(dtype=np.float64)[usable]
                if "rate" in quotes.columns
                else np.full(int(usable.sum()), float(rate))
            ),
        }
    )
    calls = df[df["sign"] > 0].drop_duplicates(["expiry", "strike"], keep="last")
    puts = df[df["sign"] < 0].drop_duplicates(["expiry", "strike"], keep="last")
    pairs = calls.merge(puts[["expiry", "strike", "mid"]], on=["expiry", "strike"], suffixes=("_c", "_p"))
    if pairs.empty:
        return pd.DataFrame({"expiry": [], "t": [], "forward": [], "n_pairs": []})
    pairs["diff"] = pairs["mid_c"] - pairs["mid_p"]
    pairs["abs_diff"] = pairs["diff"].abs()
    pairs["estimate"] = pairs["strike"] + np.exp(pairs["rate"] * pairs["t"]) * pairs["diff"]
    pairs = pairs.sort_values(["expiry", "abs_diff", "strike"], kind="mergesort")
    nearest = pairs.groupby("expiry", sort=True).head(n_strikes)
    out = nearest.groupby("expiry", sort=True).agg(
        t=("t", "first"), forward=("estimate", "median"), n_pairs=("estimate", "size")
    )
    return out.reset_index()

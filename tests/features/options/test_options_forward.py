"""Specification of the put–call-parity forward (trademl.features.options.forward)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trademl.features.options.forward import parity_forward
from trademl.pricing.black_scholes import bs_price


def _chain(S=100.0, r=0.03, q=0.02, expiries=((pd.Timestamp("2024-03-15"), 0.25), (pd.Timestamp("2024-06-21"), 0.5))):
    rows = []
    for expiry, t in expiries:
        for K in np.arange(80.0, 121.0, 5.0):
            vol = 0.2 + 0.3 * (math.log(K / S)) ** 2
            for cp in ("C", "P"):
                mid = float(bs_price(S, K, t, r, q, vol, cp))
                rows.append({"expiry": expiry, "t": t, "strike": K, "cp_flag": cp, "bid": mid - 0.01, "ask": mid + 0.01})
    return pd.DataFrame(rows)


def test_parity_forward_recovers_spot_carried_at_rate_minus_yield():
    chain = _chain()
    out = parity_forward(chain, rate=0.03)
    expected = 100.0 * np.exp((0.03 - 0.02) * np.array([0.25, 0.5]))
    np.testing.assert_allclose(out["forward"], expected, rtol=1e-10)
    assert list(out["n_pairs"]) == [5, 5]


def test_parity_forward_ignores_zero_bid_and_crossed_quotes():
    chain = _chain()
    near = (chain["strike"] == 100.0) & (chain["cp_flag"] == "C")
    chain.loc[near, "bid"] = 0.0  # the ATM call is unusable; other strikes still pin the forward
    chain.loc[(chain["strike"] == 95.0) & (chain["cp_flag"] == "P"), ["bid", "ask"]] = [9.0, 1.0]
    out = parity_forward(chain, rate=0.03, n_strikes=3)
    np.testing.assert_allclose(out["forward"], 100.0 * np.exp(0.01 * np.array([0.25, 0.5])), rtol=1e-10)


def test_parity_forward_rejects_missing_columns_and_bad_n_strikes():
    chain = _chain()
    with pytest.raises(ValueError, match="missing required columns"):
        parity_forward(chain.drop(columns="expiry"))
    with pytest.raises(ValueError, match="n_strikes"):
        parity_forward(chain, n_strikes=0)

"""Specification of BSM pricing, greeks and implied volatility (trademl.pricing.black_scholes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import log_ndtr

from trademl.pricing.black_scholes import (
    bs_delta,
    bs_gamma,
    bs_greeks,
    bs_price,
    bs_rho,
    bs_theta,
    bs_vega,
    cp_sign,
    implied_vol,
    iv_from_quotes,
)


def textbook_price(S: float, K: float, t: float, r: float, q: float, vol: float, call: bool) -> float:
    """Independent scalar BSM reference straight from the textbook formula (math.erf only)."""
    d1 = (math.log(S / K) + (r - q + 0.5 * vol * vol) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    N = lambda z: 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))  # noqa: E731
    if call:
        return S * math.exp(-q * t) * N(d1) - K * math.exp(-r * t) * N(d2)
    return K * math.exp(-r * t) * N(-d2) - S * math.exp(-q * t) * N(-d1)


# ------------------------------------------------------------------------------------------------ prices


def test_price_matches_hull_example_call_476_put_081():
    # Hull, Options Futures and Other Derivatives, example 15.6: S=42, K=40, r=10%, T=0.5, vol=20%
    assert bs_price(42, 40, 0.5, 0.10, 0.0, 0.20, "C") == pytest.approx(4.76, abs=0.005)
    assert bs_price(42, 40, 0.5, 0.10, 0.0, 0.20, "P") == pytest.approx(0.81, abs=0.005)


def test_price_matches_textbook_formula_on_a_grid_with_dividends():
    cases = [
        (S, K, t, r, q, vol, call)
        for S in (80.0, 100.0, 125.0)
        for K in (90.0, 100.0, 110.0)
        for t in (0.05, 0.5, 2.0)
        for r, q in ((0.03, 0.0), (0.05, 0.02), (-0.005, 0.01))
        for vol in (0.1, 0.3, 0.8)
        for call in (True, False)
    ]
    S, K, t, r, q, vol, call = (np.array(c) for c in zip(*cases))
    ours = bs_price(S, K, t, r, q, vol, np.where(call, "C", "P"))
    ref = np.array([textbook_price(*c) for c in cases])
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    S=st.floats(1.0, 1000.0),
    moneyness=st.floats(0.3, 3.0),
    t=st.floats(1 / 365, 10.0),
    r=st.floats(-0.02, 0.15),
    q=st.floats(0.0, 0.1),
    vol=st.floats(0.01, 3.0),
)
def test_put_call_parity_holds(S, moneyness, t, r, q, vol):
    K = S * moneyness
    call = bs_price(S, K, t, r, q, vol, "C")
    put = bs_price(S, K, t, r, q, vol, "P")
    forward_value = S * math.exp(-q * t) - K * math.exp(-r * t)
    assert call - put == pytest.approx(forward_value, rel=1e-12, abs=1e-11 * (S + K))


def test_zero_time_or_zero_vol_prices_discounted_forward_intrinsic():
    S, K, r, q = 100.0, 90.0, 0.05, 0.02
    assert bs_price(S, K, 0.0, r, q, 0.3, "C") == pytest.approx(10.0)
    assert bs_price(S, K, 0.0, r, q, 0.3, "P") == 0.0
    t = 1.0
    expected = S * math.exp(-q * t) - K * math.exp(-r * t)
    assert bs_price(S, K, t, r, q, 0.0, "C") == pytest.approx(expected, rel=1e-14)
    assert bs_price(S, K, t, r, q, 0.0, "P") == 0.0


@pytest.mark.parametrize("K", [110.0, 120.0, 130.0])
def test_deep_out_of_the_money_price_keeps_relative_precision(K):
    # 1-day 20 % vol calls 10-30 % out of the money: prices 1e-21 .. 1e-140, far below what
    # 0.5 (1 + erf(.)) can resolve; the reference uses scipy's log_ndtr, which keeps relative precision
    S, t, vol = 100.0, 1 / 365, 0.2
    s = vol * math.sqrt(t)
    d1 = math.log(S / K) / s + 0.5 * s
    ref = S * math.exp(log_ndtr(d1)) - K * math.exp(log_ndtr(d1 - s))
    price = bs_price(S, K, t, 0.0, 0.0, vol, "C")
    assert textbook_price(S, K, t, 0.0, 0.0, vol, True) < 1e-17  # the naive formula has lost it
    assert price == pytest.approx(ref, rel=1e-9)
    assert implied_vol(price, S, K, t, 0.0, 0.0, "C") == pytest.approx(vol, abs=1e-10)


def test_scalar_inputs_return_a_float_and_arrays_broadcast():
    assert isinstance(bs_price(100, 100, 1, 0, 0, 0.2, "C"), float)
    out = bs_price(100.0, np.array([90.0, 100.0, 110.0]), 1.0, 0.0, 0.0, 0.2, "C")
    assert out.shape == (3,)
    assert np.all(np.diff(out) < 0)  # calls cheapen as the strike rises


def test_cp_flag_accepts_letters_words_any_case_and_plus_minus_one():
    np.testing.assert_array_equal(cp_sign(["C", "p", "CALL", "put", "Call"]), [1, -1, 1, -1, 1])
    np.testing.assert_array_equal(cp_sign(np.array([1, -1, 1])), [1.0, -1.0, 1.0])
    assert bs_price(100, 100, 1, 0, 0, 0.2, 1) == bs_price(100, 100, 1, 0, 0, 0.2, "call")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"t": -0.1}, "t must be non-negative"),
        ({"vol": -0.2}, "vol must be non-negative"),
        ({"spot": 0.0}, "spot must be positive"),
        ({"strike": -5.0}, "strike must be positive"),
        ({"cp_flag": "X"}, "cp_flag"),
        ({"cp_flag": 2}, "cp_flag"),
        ({"strike": np.array([90.0, 100.0]), "vol": np.array([0.1, 0.2, 0.3])}, "cannot broadcast"),
    ],
)
def test_price_rejects_bad_input_with_value_error(kwargs, match):
    args = {"spot": 100.0, "strike": 100.0, "t": 1.0, "rate": 0.0, "div_yield": 0.0, "vol": 0.2, "cp_flag": "C"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bs_price(**args)


# ------------------------------------------------------------------------------------------------ greeks


def test_greeks_match_hull_example_19_1():
    # Hull: S=49, K=50, r=5%, vol=20%, T=20 weeks; delta 0.522, gamma 0.066, vega 12.1 (per 1.00 vol),
    # theta -4.31 per year, rho 8.91 (per 1.00 rate)
    g = bs_greeks(49.0, 50.0, 20 / 52, 0.05, 0.0, 0.20, "C")
    assert g["delta"] == pytest.approx(0.522, abs=5e-4)
    assert g["gamma"] == pytest.approx(0.066, abs=5e-4)
    assert g["vega"] == pytest.approx(12.1, abs=0.05)
    assert g["theta"] == pytest.approx(-4.31, abs=5e-3)
    assert g["rho"] == pytest.approx(8.91, abs=5e-3)


GREEK_GRID = [
    (S, K, t, vol, cp)
    for S in (90.0, 100.0, 115.0)
    for K in (95.0, 105.0)
    for t in (0.1, 1.5)
    for vol in (0.15, 0.6)
    for cp in ("C", "P")
]


@pytest.mark.parametrize("S, K, t, vol, cp", GREEK_GRID)
def test_greeks_match_central_finite_differences_of_price(S, K, t, vol, cp):
    r, q = 0.04, 0.015

    def p(S=S, t=t, r=r, vol=vol):
        return bs_price(S, K, t, r, q, vol, cp)

    hS, hv, ht, hr = 1e-4 * S, 1e-5, 1e-6, 1e-6
    fd = {
        "delta": (p(S=S + hS) - p(S=S - hS)) / (2 * hS),
        "gamma": (p(S=S + hS) - 2 * p() + p(S=S - hS)) / hS**2,
        "vega": (p(vol=vol + hv) - p(vol=vol - hv)) / (2 * hv),
        "theta": -(p(t=t + ht) - p(t=t - ht)) / (2 * ht),
        "rho": (p(r=r + hr) - p(r=r - hr)) / (2 * hr),
    }
    g = bs_greeks(S, K, t, r, q, vol, cp)
    for name, value in fd.items():
        assert g[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name


def test_single_greek_functions_agree_with_bs_greeks():
    args = (np.array([95.0, 105.0]), 100.0, 0.75, 0.03, 0.01, 0.25, np.array(["C", "P"]))
    g = bs_greeks(*args)
    for name, fn in (("delta", bs_delta), ("gamma", bs_gamma), ("vega", bs_vega), ("theta", bs_theta), ("rho", bs_rho)):
        np.testing.assert_array_equal(fn(*args), g[name])


def test_greeks_at_zero_variance_are_limits_away_from_the_strike():
    g = bs_greeks(np.array([110.0, 90.0]), 100.0, 0.0, 0.0, 0.0, 0.2, "C")
    np.testing.assert_array_equal(g["delta"], [1.0, 0.0])
    np.testing.assert_array_equal(g["gamma"], [0.0, 0.0])
    np.testing.assert_array_equal(g["vega"], [0.0, 0.0])


# ------------------------------------------------------------------------------------------------ implied vol


def _wide_grid():
    x = np.linspace(-1.5, 1.5, 31)  # ln(F/K)
    t = np.array([1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 3.0, 5.0])
    vol = np.array([0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3.0])
    cp = np.array([1.0, -1.0])
    X, T, V, C = (a.ravel() for a in np.meshgrid(x, t, vol, cp, indexing="ij"))
    S, r, q = 100.0, 0.03, 0.01
    K = S * np.exp((r - q) * T - X)
    return S, K, T, r, q, V, C


def test_implied_vol_round_trips_to_1e8_over_a_wide_grid_of_well_posed_prices():
    S, K, T, r, q, V, C = _wide_grid()
    price = bs_price(S, K, T, r, q, V, C)
    # well-posed: a relative vol change moves the price by at least 1e-6 relative (otherwise the price's
    # own rounding hides the vol, e.g. deep in-the-money with no time value)
    with np.errstate(divide="ignore", invalid="ignore"):
        sensitivity = bs_vega(S, K, T, r, q, V, C) * V / price
    well_posed = (price > 1e-250) & (sensitivity > 1e-6)
    assert well_posed.mean() > 0.6  # the grid is wide, not pre-filtered to easy cases
    iv = implied_vol(price[well_posed], S, K[well_posed], T[well_posed], r, q, C[well_posed])
    np.testing.assert_allclose(iv, V[well_posed], rtol=0, atol=1e-8)


@settings(max_examples=300, deadline=None)
@given(
    x=st.floats(-2.0, 2.0),
    t=st.floats(1 / 365, 10.0),
    vol=st.floats(0.005, 4.0),
    call=st.booleans(),
    r=st.floats(-0.01, 0.1),
    q=st.floats(0.0, 0.08),
)
def test_implied_vol_inverts_bs_price_property(x, t, vol, call, r, q):
    S = 100.0
    K = S * math.exp((r - q) * t - x)
    cp = "C" if call else "P"
    price = bs_price(S, K, t, r, q, vol, cp)
    sensitivity = bs_vega(S, K, t, r, q, vol, cp) * vol / price if price > 0 else 0.0
    if price > 1e-250 and sensitivity > 1e-6:
        assert implied_vol(price, S, K, t, r, q, cp) == pytest.approx(vol, abs=1e-8)


def test_implied_vol_matches_brentq_on_textbook_formula():
    quotes = [  # (price, S, K, t, r, q, call)
        (4.76, 42.0, 40.0, 0.5, 0.10, 0.0, True),
        (0.81, 42.0, 40.0, 0.5, 0.10, 0.0, False),
        (1.25, 326.52, 345.0, 47 / 365, 0.001, 0.017, True),
        (3.10, 151.39, 140.0, 0.35, 0.0165, 0.012, False),
        (0.05, 14.2, 25.0, 0.3, 0.003, 0.0, True),
    ]
    for price, S, K, t, r, q, call in quotes:
        ref = brentq(lambda v: textbook_price(S, K, t, r, q, v, call) - price, 1e-6, 10.0, xtol=1e-15)
        assert implied_vol(price, S, K, t, r, q, "C" if call else "P") == pytest.approx(ref, abs=1e-10)


def test_implied_vol_is_nan_where_no_volatility_reproduces_the_price():
    S, K, t, r, q = 100.0, 90.0, 1.0, 0.05, 0.02
    lower_call = S * math.exp(-q * t) - K * math.exp(-r * t)
    prices = np.array([lower_call * 0.99, S * math.exp(-q * t), S * math.exp(-q * t) + 1, -1.0, np.nan])
    assert np.isnan(implied_vol(prices, S, K, t, r, q, "C")).all()
    assert math.isnan(implied_vol(K * math.exp(-r * t), S, K, t, r, q, "P"))  # put upper bound
    assert math.isnan(implied_vol(5.0, S, K, 0.0, r, q, "C"))  # expired
    assert math.isnan(implied_vol(5.0, S, K, -0.5, r, q, "C"))  # negative time


def test_implied_vol_is_zero_at_the_lower_bound():
    S, K, t, r, q = 100.0, 90.0, 1.0, 0.05, 0.02
    lower_call = S * math.exp(-q * t) - K * math.exp(-r * t)
    assert implied_vol(lower_call, S, K, t, r, q, "C") == 0.0
    assert implied_vol(0.0, S, K, t, r, q, "P") == 0.0


def test_implied_vol_rejects_mismatched_lengths_and_bad_spot():
    with pytest.raises(ValueError, match="cannot broadcast"):
        implied_vol(np.ones(3), 100.0, np.array([90.0, 100.0]), 1.0, 0.0, 0.0, "C")
    with pytest.raises(ValueError, match="spot must be positive"):
        implied_vol(1.0, -100.0, 100.0, 1.0, 0.0, 0.0, "C")


# ------------------------------------------------------------------------------------------------ quotes


def _synthetic_quotes() -> tuple[pd.DataFrame, np.ndarray]:
    strikes = np.array([80.0, 90.0, 100.0, 110.0, 120.0, 100.0, 95.0, 105.0, 100.0, 100.0])
    cp = np.array(["P", "P", "C", "C", "C", "P", "C", "P", "C", "C"])
    vol = np.array([0.32, 0.27, 0.22, 0.20, 0.21, 0.22, 0.23, 0.21, 0.22, 0.22])
    t = np.full(strikes.size, 0.25)
    mid = bs_price(100.0, strikes, t, 0.02, 0.01, vol, cp)
    half = 0.02 * mid + 0.01
    df = pd.DataFrame(
        {"strike": strikes, "cp_flag": cp, "bid": mid - half, "ask": mid + half, "t": t, "spot": 100.0}
    )
    df.loc[7, ["bid", "ask"]] = [2.0, 1.5]  # crossed
    df.loc[8, "bid"] = 0.0  # zero bid
    df.loc[9, "t"] = 0.0  # expired
    return df, vol


def test_iv_from_quotes_recovers_vols_from_mids_and_drops_crossed_zero_bid_and_expired():
    quotes, vol = _synthetic_quotes()
    out = iv_from_quotes(quotes, rate=0.02, div_yield=0.01)
    assert list(out.index) == [0, 1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(out["iv"], vol[:7], atol=1e-10)
    assert (out["iv_bid"] < out["iv"]).all() and (out["iv"] < out["iv_ask"]).all()


def test_iv_from_quotes_greeks_are_bs_greeks_at_the_mid_iv():
    quotes, vol = _synthetic_quotes()
    out = iv_from_quotes(quotes, rate=0.02, div_yield=0.01)
    g = bs_greeks(100.0, out["strike"], 0.25, 0.02, 0.01, out["iv"], out["cp_flag"])
    for name in ("delta", "gamma", "vega", "theta", "rho"):
        np.testing.assert_allclose(out[name], g[name], rtol=1e-12)


def test_iv_from_quotes_with_a_forward_column_equals_spot_with_yield():
    quotes, vol = _synthetic_quotes()
    with_forward = quotes.drop(columns="spot").assign(forward=100.0 * math.exp((0.02 - 0.01) * 0.25))
    a = iv_from_quotes(quotes, rate=0.02, div_yield=0.01)
    b = iv_from_quotes(with_forward, rate=0.02)
    np.testing.assert_allclose(b["iv"], a["iv"], atol=1e-12)


def test_iv_from_quotes_drops_mids_outside_no_arbitrage_bounds_and_wide_spreads():
    quotes, _ = _synthetic_quotes()
    quotes.loc[0, ["bid", "ask"]] = [150.0, 151.0]  # put worth more than its strike
    quotes.loc[1, ["bid", "ask"]] = [0.5, 3.0]  # 143 % relative spread
    out = iv_from_quotes(quotes, rate=0.02, div_yield=0.01, max_rel_spread=0.5)
    assert 0 not in out.index and 1 not in out.index
    assert len(out) == 5


def test_iv_from_quotes_rejects_missing_columns():
    quotes, _ = _synthetic_quotes()
    with pytest.raises(ValueError, match="missing required columns"):
        iv_from_quotes(quotes.drop(columns=["ask"]))
    with pytest.raises(ValueError, match="spot or forward"):
        iv_from_quotes(quotes.drop(columns=["spot"]))

"""Specification of raw SVI calibration and no-arbitrage checks (trademl.pricing.svi)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trademl.pricing.black_scholes import bs_price
from trademl.pricing.svi import (
    SVIParams,
    butterfly_g,
    fit_rmse,
    fit_svi_slice,
    fit_svi_surface,
    no_arb_flags,
    svi_total_variance,
)

EQUITY_SKEW = SVIParams(a=0.04, b=0.4, rho=-0.4, m=0.05, sigma=0.2)
SHORT_DATED = SVIParams(a=-0.003, b=0.1, rho=0.3, m=-0.1, sigma=0.05)  # negative a, min variance > 0
STEEP_PUT_WING = SVIParams(a=0.001, b=0.05, rho=-0.9, m=0.02, sigma=0.02)
LONG_DATED = SVIParams(a=0.1, b=1.0, rho=-0.6, m=0.2, sigma=0.5)

# Gatheral & Jacquier (2014), example 3.1 (due to Axel Vogt): raw SVI with butterfly arbitrage
VOGT = SVIParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


def test_total_variance_follows_raw_svi_formula_at_hand_points():
    p = SVIParams(a=0.02, b=0.5, rho=-0.5, m=0.1, sigma=0.3)
    # k = m: a + b sigma ; k = m + 0.4: a + b (rho 0.4 + 0.5)
    np.testing.assert_allclose(svi_total_variance([0.1, 0.5], p), [0.02 + 0.15, 0.02 + 0.5 * (-0.2 + 0.5)])


@pytest.mark.parametrize("true", [EQUITY_SKEW, SHORT_DATED, STEEP_PUT_WING, LONG_DATED])
@pytest.mark.parametrize("k", [np.linspace(-1.0, 1.0, 41), np.linspace(-0.3, 0.2, 25)], ids=["wide", "narrow"])
def test_fit_recovers_known_parameters_from_noiseless_slice(true, k):
    fitted = fit_svi_slice(k, svi_total_variance(k, true))
    np.testing.assert_allclose(fitted, true, atol=1e-7)
    assert fit_rmse(k, svi_total_variance(k, true), fitted) < 1e-12


def test_fit_recovers_parameters_from_slightly_noisy_slice():
    rng = np.random.default_rng(7)
    k = np.linspace(-1.0, 1.0, 81)
    w_true = svi_total_variance(k, EQUITY_SKEW)
    w_noisy = w_true * (1.0 + 0.002 * rng.standard_normal(k.size))  # 0.1 % noise in implied vol
    fitted = fit_svi_slice(k, w_noisy)
    np.testing.assert_allclose(fitted, EQUITY_SKEW, atol=5e-3)
    # the fit is at least as close to the data as the truth is, and close to the truth everywhere
    assert fit_rmse(k, w_noisy, fitted) <= fit_rmse(k, w_noisy, EQUITY_SKEW)
    assert np.max(np.abs(svi_total_variance(k, fitted) - w_true)) < 1e-3


def test_fit_respects_svi_parameter_constraints_on_arbitrary_data():
    rng = np.random.default_rng(3)
    for _ in range(5):
        k = np.sort(rng.uniform(-0.8, 0.6, 15))
        w = rng.uniform(0.001, 0.1, 15)  # no smile at all: the constraints must still bind
        a, b, rho, m, sigma = fit_svi_slice(k, w)
        assert b >= 0 and abs(rho) < 1 and sigma > 0
        assert a + b * sigma * math.sqrt(1 - rho * rho) >= -1e-12
        assert b * (1 + abs(rho)) <= 4 + 1e-12


def test_fit_is_deterministic():
    rng = np.random.default_rng(11)
    k = np.linspace(-0.5, 0.5, 30)
    w = svi_total_variance(k, EQUITY_SKEW) + 1e-3 * rng.standard_normal(30)
    assert fit_svi_slice(k, w) == fit_svi_slice(k, w)


def test_weights_pull_the_fit_towards_heavily_weighted_quotes():
    k = np.linspace(-0.5, 0.5, 21)
    w = svi_total_variance(k, EQUITY_SKEW)
    w_bumped = w.copy()
    w_bumped[10] += 0.01  # one bad quote at the money
    weights = np.ones_like(k)
    weights[10] = 1e-6
    err_weighted = abs(svi_total_variance(k[10], fit_svi_slice(k, w_bumped, weights)) - w[10])
    err_equal = abs(svi_total_variance(k[10], fit_svi_slice(k, w_bumped)) - w[10])
    assert err_weighted < 0.1 * err_equal


@pytest.mark.parametrize(
    "k, w, weights, match",
    [
        (np.linspace(-1, 1, 10), np.ones(9), None, "different lengths"),
        (np.linspace(-1, 1, 4), np.ones(4), None, "at least 5"),
        (np.linspace(-1, 1, 6), np.array([0.1, np.nan, 0.1, 0.1, 0.1, 0.1]), None, "finite"),
        (np.linspace(-1, 1, 6), np.array([0.1, -0.1, 0.1, 0.1, 0.1, 0.1]), None, "non-negative"),
        (np.zeros(6), np.ones(6), None, "more than one"),
        (np.linspace(-1, 1, 6), np.ones(6), -np.ones(6), "weights"),
    ],
)
def test_fit_rejects_bad_slices(k, w, weights, match):
    with pytest.raises(ValueError, match=match):
        fit_svi_slice(k, w, weights)


def test_params_outside_svi_domain_are_rejected():
    with pytest.raises(ValueError, match="rho"):
        svi_total_variance([0.0], SVIParams(0.04, 0.4, -1.0, 0.0, 0.2))
    with pytest.raises(ValueError, match="5 values"):
        svi_total_variance([0.0], (0.04, 0.4, -0.5))


# ------------------------------------------------------------------------------------------------ no-arb


def test_butterfly_g_matches_finite_difference_derivatives():
    k = np.linspace(-1.0, 1.0, 2001)
    h = 1e-4
    w = svi_total_variance(k, EQUITY_SKEW)
    w1 = (svi_total_variance(k + h, EQUITY_SKEW) - svi_total_variance(k - h, EQUITY_SKEW)) / (2 * h)
    w2 = (svi_total_variance(k + h, EQUITY_SKEW) - 2 * w + svi_total_variance(k - h, EQUITY_SKEW)) / h**2
    g_fd = (1 - k * w1 / (2 * w)) ** 2 - w1**2 / 4 * (1 / w + 0.25) + w2 / 2
    np.testing.assert_allclose(butterfly_g(k, EQUITY_SKEW), g_fd, atol=1e-6)


def test_no_arb_flags_detect_butterfly_arbitrage_in_vogt_example():
    k = np.linspace(-1.5, 1.5, 301)
    flags = no_arb_flags([VOGT], [1.0], k)
    assert not flags.loc[0, "butterfly_arb_free"]
    assert flags.loc[0, "min_g"] < -0.03  # density negative around k = 0.9 (Gatheral & Jacquier fig. 1)
    assert no_arb_flags([EQUITY_SKEW], [1.0], k).loc[0, "butterfly_arb_free"]


def test_no_arb_flags_detect_a_calendar_crossing():
    k = np.linspace(-1.0, 1.0, 201)
    short = SVIParams(0.02, 0.2, -0.3, 0.0, 0.2)
    longer = SVIParams(0.04, 0.2, -0.3, 0.0, 0.2)  # uniformly more variance: fine
    crossing = SVIParams(0.045, 0.05, -0.3, 0.0, 0.2)  # flatter: falls below `longer` in the wings
    ok = no_arb_flags([short, longer], [0.25, 0.5], k)
    assert ok["calendar_arb_free"].all()
    bad = no_arb_flags([short, longer, crossing], [0.25, 0.5, 1.0], k)
    assert list(bad["calendar_arb_free"]) == [True, True, False]
    w_gap = svi_total_variance(k, crossing) - svi_total_variance(k, longer)
    assert bad.loc[2, "calendar_gap"] == pytest.approx(w_gap.min())


def test_calendar_check_compares_with_every_earlier_slice_not_just_the_previous():
    k = np.linspace(-1.0, 1.0, 101)
    high = SVIParams(0.05, 0.2, 0.0, 0.0, 0.2)
    low = SVIParams(0.01, 0.2, 0.0, 0.0, 0.2)
    middle = SVIParams(0.03, 0.2, 0.0, 0.0, 0.2)  # above `low` but below `high`
    flags = no_arb_flags([high, low, middle], [0.1, 0.2, 0.3], k)
    assert list(flags["calendar_arb_free"]) == [True, False, False]


def test_k_ranges_restrict_checks_to_quoted_moneyness():
    k = np.linspace(-1.5, 1.5, 301)
    flags = no_arb_flags([VOGT], [1.0], k, k_ranges=[[-1.5, 0.3]])  # the bad region k ~ 0.64..1.26 unquoted
    assert flags.loc[0, "butterfly_arb_free"]


def test_no_arb_flags_reject_unsorted_maturities_and_mismatched_lengths():
    k = np.linspace(-1, 1, 11)
    with pytest.raises(ValueError, match="strictly increasing"):
        no_arb_flags([EQUITY_SKEW, LONG_DATED], [1.0, 0.5], k)
    with pytest.raises(ValueError, match="values for 2 slices"):
        no_arb_flags([EQUITY_SKEW, LONG_DATED], [1.0], k)


# ------------------------------------------------------------------------------------------------ surface

SURFACE_TRUTH = {  # expiry -> (t, params); total variance increasing in t at every k
    pd.Timestamp("2024-02-16"): (0.1, SVIParams(0.004, 0.06, -0.5, 0.02, 0.08)),
    pd.Timestamp("2024-04-19"): (0.25, SVIParams(0.012, 0.1, -0.45, 0.03, 0.12)),
    pd.Timestamp("2024-12-20"): (1.0, SVIParams(0.04, 0.16, -0.4, 0.05, 0.25)),
}


def _surface_quotes(spot=100.0, rate=0.02, div_yield=0.01) -> pd.DataFrame:
    rows = []
    for expiry, (t, params) in SURFACE_TRUTH.items():
        forward = spot * math.exp((rate - div_yield) * t)
        strikes = forward * np.exp(np.linspace(-0.4, 0.3, 29) * math.sqrt(t))
        k = np.log(strikes / forward)
        vol = np.sqrt(svi_total_variance(k, params) / t)
        for cp in ("C", "P"):
            mid = bs_price(spot, strikes, t, rate, div_yield, vol, cp)
            half = 0.001 * mid + 1e-4
            rows.append(
                pd.DataFrame(
                    {"expiry": expiry, "t": t, "strike": strikes, "cp_flag": cp, "bid": mid - half,
                     "ask": mid + half, "spot": spot}
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_surface_recovers_each_expiry_from_bid_ask_quotes_and_flags_no_arbitrage():
    out = fit_svi_surface(_surface_quotes(), rate=0.02, div_yield=0.01)
    assert list(out["expiry"]) == list(SURFACE_TRUTH)
    for _, row in out.iterrows():
        t, truth = SURFACE_TRUTH[row["expiry"]]
        assert row["t"] == t
        np.testing.assert_allclose([row[f] for f in SVIParams._fields], truth, atol=1e-6)
        assert row["fit_rmse_iv"] < 1e-8
    assert out["butterfly_arb_free"].all() and out["calendar_arb_free"].all()


def test_surface_accepts_precomputed_iv_and_forward_columns():
    rows = []
    for expiry, (t, params) in SURFACE_TRUTH.items():
        k = np.linspace(-0.3, 0.3, 15)
        rows.append(pd.DataFrame({"expiry": expiry, "t": t, "strike": 100.0 * np.exp(k), "forward": 100.0,
                                  "iv": np.sqrt(svi_total_variance(k, params) / t)}))
    out = fit_svi_surface(pd.concat(rows, ignore_index=True))
    for _, row in out.iterrows():
        np.testing.assert_allclose([row[f] for f in SVIParams._fields], SURFACE_TRUTH[row["expiry"]][1], atol=1e-7)


def test_surface_skips_thin_expiries_and_lists_them():
    quotes = _surface_quotes()
    thin = pd.Timestamp("2024-02-16")
    quotes = quotes[(quotes["expiry"] != thin) | (quotes.groupby("expiry").cumcount() < 6)]
    assert thin in set(quotes["expiry"])
    out = fit_svi_surface(quotes, rate=0.02, div_yield=0.01)
    assert thin not in set(out["expiry"])
    assert out.attrs["skipped_expiries"] == [thin]


def test_surface_rejects_quotes_without_forward_information_or_required_columns():
    quotes = _surface_quotes().drop(columns="spot")
    with pytest.raises(ValueError, match="forward or a spot"):
        fit_svi_surface(quotes)
    with pytest.raises(ValueError, match="missing required columns"):
        fit_svi_surface(_surface_quotes().drop(columns="expiry"))

"""Option chains are quoted around an arbitrage-free SVI surface."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from synthetic_requests import fetch

from trademl.pricing.black_scholes import bs_price
from trademl.pricing.svi import SVIParams, no_arb_flags, svi_total_variance

SESSION = "2024-06-12"
SLICE_COLUMNS = list(SVIParams._fields)


@pytest.fixture
def conn(make_connector):
    return make_connector()


def test_surface_slices_have_no_butterfly_or_calendar_arbitrage(conn):
    for underlier in ("SYN001", "SYN002", "SYN003"):
        surf = conn.option_surface(underlier, dt.date.fromisoformat(SESSION))
        flags = no_arb_flags(surf[SLICE_COLUMNS].to_numpy(), surf["t"].to_numpy(), np.linspace(-2.0, 2.0, 401))
        assert len(flags) >= 5
        assert flags["butterfly_arb_free"].all() and flags["calendar_arb_free"].all()


def test_surface_price_and_mid_lie_within_bid_ask(conn):
    chain = fetch(conn, "options_chains", SESSION, SESSION, symbols=("SYN001",))
    surf = conn.option_surface("SYN001", dt.date.fromisoformat(SESSION)).set_index("expiry")
    spot = chain["underlying_price"].iloc[0]
    rows = surf.loc[chain["expiry"]]
    k = np.log(chain["strike"].to_numpy() / rows["forward"].to_numpy())
    w = np.array([svi_total_variance(ki, SVIParams(*p)) for ki, p in zip(k, rows[SLICE_COLUMNS].to_numpy())])
    t = rows["t"].to_numpy()
    q = conn.roster.dividend_yield[0]
    model = bs_price(spot, chain["strike"].to_numpy(), t, conn.config.options.rate, q, np.sqrt(w / t), chain["cp_flag"].to_numpy())
    assert (chain["bid"].to_numpy() <= model + 1e-12).all() and (model <= chain["ask"].to_numpy() + 1e-12).all()
    assert ((chain["bid"] <= chain["nbbo_mid"]) & (chain["nbbo_mid"] <= chain["ask"])).all()
    assert (chain["ask"] > chain["bid"]).all()


def test_chain_call_mids_are_convex_and_decreasing_in_strike(conn):
    chain = fetch(conn, "options_chains", SESSION, SESSION, symbols=("SYN002",))
    calls = chain[chain["cp_flag"] == "C"].sort_values(["expiry", "strike"])
    for _, g in calls.groupby("expiry"):
        mid = g["nbbo_mid"].to_numpy()
        assert (np.diff(mid) <= 1e-9).all()
        liquid = g["bid"].to_numpy() > 0.5  # away from the cent-rounded far wing
        m = mid[liquid]
        assert (m[:-2] - 2 * m[1:-1] + m[2:] >= -0.02).all()


def test_expiries_are_sessions_between_min_and_max_days(conn):
    chain = fetch(conn, "options_chains", SESSION, SESSION)
    days = (chain["expiry"] - chain["date"]).dt.days
    assert days.min() >= conn.config.options.min_days and days.max() <= conn.config.options.max_days
    assert set(chain["underlier"]) == {"SYN001", "SYN002", "SYN003"}
    assert chain["expiry"].nunique() >= 5

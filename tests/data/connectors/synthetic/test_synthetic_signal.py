"""The planted cross-sectional signal: trailing returns predict next-session returns with rank IC ~= strength."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_requests import fetch

LOOKBACK = 5


def mean_rank_ic(bars: pd.DataFrame) -> float:
    """Mean over sessions of Spearman(trailing LOOKBACK-session return to t-1, return t-1 -> t), from raw closes."""
    close = bars.pivot(index="date", columns="symbol", values="close")
    feature = np.log(close / close.shift(LOOKBACK)).shift(1)
    target = np.log(close / close.shift(1))
    ok = feature.notna() & target.notna()
    fr = feature.where(ok).rank(axis=1)
    tr = target.where(ok).rank(axis=1)
    fr = fr.sub(fr.mean(axis=1), axis=0)
    tr = tr.sub(tr.mean(axis=1), axis=0)
    ic = (fr * tr).sum(axis=1) / np.sqrt((fr**2).sum(axis=1) * (tr**2).sum(axis=1))
    return float(ic[ok.sum(axis=1) >= 20].mean())


@pytest.mark.slow
@pytest.mark.parametrize("strength", [0.0, 0.05])
def test_measured_rank_ic_matches_planted_strength(make_connector, strength):
    conn = make_connector(n_symbols=200, signal_strength=strength, signal_lookback=LOOKBACK, origin="2021-01-04")
    bars = fetch(conn, "equities_eod", "2021-01-04", "2024-12-31")
    assert abs(mean_rank_ic(bars) - strength) < 0.012


def test_signal_reorders_standardised_returns_and_keeps_every_names_volatility(make_connector):
    from trademl.data.connectors.synthetic.market import simulate_daily

    off = make_connector(n_symbols=40, signal_strength=0.0)
    on = make_connector(n_symbols=40, signal_strength=0.3)
    n = 300
    p_off = simulate_daily(off.config, off.timeline, off.roster, n)
    p_on = simulate_daily(on.config, on.timeline, on.roster, n)
    assert np.array_equal(p_off.h_total, p_on.h_total)  # conditional variances do not depend on the signal
    t = n - 1
    act = p_on.active[t]
    z_off = p_off.log_return[t, act] / np.sqrt(p_off.h_total[t, act])
    z_on = p_on.log_return[t, act] / np.sqrt(p_on.h_total[t, act])
    assert not np.allclose(z_off, z_on)
    assert np.allclose(np.sort(z_off), np.sort(z_on), rtol=0, atol=1e-12)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.argsort().argsort(), b.argsort().argsort())[0, 1])


def test_plant_signal_realises_its_strength_when_volatilities_differ_across_names():
    # 20,000 sessions of 100 names whose volatilities spread like the roster's (lognormal, 0.4):
    # the mean rank IC must be the strength (standard error ~0.0007); re-ordering the raw returns gave 0.046.
    from trademl.data.connectors.synthetic.market import plant_signal

    rng = np.random.default_rng(11)
    strength, n = 0.05, 100
    rho = 2.0 * np.sin(np.pi * strength / 6.0)
    ics = []
    for _ in range(20_000):
        sd = np.exp(rng.normal(np.log(0.015), 0.4, n))
        trailing = sd * np.sqrt(5.0) * rng.standard_normal(n)
        returns = sd * rng.standard_normal(n)
        planted = plant_signal(trailing, returns, sd, rng.standard_normal(n), rng.standard_normal(n), rho)
        ics.append(_spearman(trailing, planted))
    assert abs(np.mean(ics) - strength) < 0.0025, np.mean(ics)


def test_plant_signal_only_permutes_the_standardised_returns():
    from trademl.data.connectors.synthetic.market import plant_signal

    rng = np.random.default_rng(3)
    sd = np.exp(rng.normal(-4.0, 0.4, 50))
    returns = sd * rng.standard_normal(50)
    planted = plant_signal(rng.standard_normal(50), returns, sd, rng.standard_normal(50), rng.standard_normal(50), 0.3)
    assert np.allclose(np.sort(planted / sd), np.sort(returns / sd), rtol=0, atol=1e-15)
    assert not np.allclose(planted, returns)

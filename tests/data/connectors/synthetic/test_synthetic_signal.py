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


def test_signal_leaves_the_cross_sectional_return_distribution_unchanged(make_connector):
    off = make_connector(n_symbols=40, signal_strength=0.0)
    on = make_connector(n_symbols=40, signal_strength=0.3)
    day = "2023-01-18"  # the signal needs LOOKBACK + 1 sessions of history, then re-orders returns only
    first = fetch(off, "equities_eod", "2023-01-03", day)
    second = fetch(on, "equities_eod", "2023-01-03", day)
    r_off = np.log(first.pivot(index="date", columns="symbol", values="close")).diff().iloc[-1].dropna()
    r_on = np.log(second.pivot(index="date", columns="symbol", values="close")).diff().iloc[-1].dropna()
    assert not np.allclose(r_off.to_numpy(), r_on.to_numpy())
    assert np.allclose(np.sort(r_off.to_numpy()), np.sort(r_on.to_numpy()), atol=2e-5)

"""Specification of the market panel (trademl.backtest.market_panel) built from curated rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.curate.market_panel import MarketPanel, market_panel

SESSIONS = [d.date() for d in calendar.sessions("2024-01-02", "2024-02-29")][:25]


def curated(n: int = 25) -> pd.DataFrame:
    """A: closes 100, 101, ... with volume 1000 + 10 i; B: constant 50 with volume 500; no corporate actions."""
    i = np.arange(n)
    a = pd.DataFrame({"date": SESSIONS[:n], "symbol": "A", "close": 100.0 + i, "volume": 1000 + 10 * i})
    b = pd.DataFrame({"date": SESSIONS[:n], "symbol": "B", "close": 50.0, "volume": 500})
    rows = pd.concat([a, b], ignore_index=True)
    return rows.assign(open=rows["close"], high=rows["close"], low=rows["close"], split_factor=1.0,
                       div_factor_crsp=1.0, div_factor_alpha_vantage=1.0, delisting_return=np.nan)


def test_returns_are_close_to_close_simple_returns():
    p = market_panel(curated())
    assert np.isnan(p.returns.iloc[0]).all()
    assert p.returns["A"].iloc[1:4].tolist() == pytest.approx([1 / 100, 1 / 101, 1 / 102])
    assert (p.returns["B"].iloc[1:] == 0).all()


def test_a_split_is_not_a_return():
    rows = curated()
    after = (rows["symbol"] == "A") & (rows["date"] >= SESSIONS[10])
    rows.loc[after, "close"] /= 2.0
    rows.loc[after, "volume"] *= 2
    rows.loc[after, "split_factor"] = 2.0
    p = market_panel(rows)
    assert p.returns["A"].iloc[10] == pytest.approx(1 / 109)
    assert p.close["A"].iloc[10] == pytest.approx(110 / 2)  # the close as traded at its own session


def test_a_dividend_is_part_of_the_total_return():
    rows = curated()
    on_b = rows["symbol"] == "B"
    # 1 $ dividend ex on session 5: close 50 -> 49, CRSP factor 1 - 1/50 = 0.98
    rows.loc[on_b & (rows["date"] >= SESSIONS[5]), ["close", "div_factor_crsp"]] = [49.0, 0.98]
    p = market_panel(rows)
    assert p.returns["B"].iloc[5] == pytest.approx(0.0, abs=1e-15)


def test_adv_is_the_mean_volume_of_the_last_20_sessions():
    p = market_panel(curated(), window=20)
    assert np.isnan(p.adv["A"].iloc[18])
    assert p.adv["A"].iloc[19] == pytest.approx(1000 + 10 * np.arange(20).mean())
    assert p.adv["A"].iloc[24] == pytest.approx(1000 + 10 * np.arange(5, 25).mean())


def test_adv_counts_earlier_volume_in_shares_after_a_later_split():
    rows = curated()
    after = (rows["symbol"] == "B") & (rows["date"] >= SESSIONS[20])
    rows.loc[after, ["close", "volume", "split_factor"]] = [25.0, 1000, 2.0]
    p = market_panel(rows, window=20)
    assert p.adv["B"].iloc[19] == pytest.approx(500.0)
    assert p.adv["B"].iloc[24] == pytest.approx(1000.0)


def test_sigma_daily_is_the_sample_std_of_the_last_20_returns():
    p = market_panel(curated(), window=20)
    r = p.returns["A"].iloc[5:25].to_numpy()
    assert p.sigma_daily["A"].iloc[24] == pytest.approx(np.std(r, ddof=1))
    assert np.isnan(p.sigma_daily["A"].iloc[19])  # 19 returns only


def test_spread_is_the_assumed_bps_of_the_close():
    p = market_panel(curated(), spread_bps=10.0)
    assert p.spread["A"].iloc[3] == pytest.approx(103 * 1e-3)


def test_rows_are_sessions_and_a_missing_session_is_nan():
    rows = curated()
    rows = rows[~((rows["symbol"] == "A") & (rows["date"] == SESSIONS[7]))]
    p = market_panel(rows)
    assert list(p.dates) == SESSIONS
    assert np.isnan(p.close["A"].iloc[7]) and np.isnan(p.returns["A"].iloc[7])


def test_the_session_after_a_missed_one_earns_the_move_since_the_last_close():
    rows = curated()
    rows = rows[~((rows["symbol"] == "A") & (rows["date"] == SESSIONS[7]))]
    p = market_panel(rows)
    assert p.returns["A"].iloc[8] == pytest.approx(108 / 106 - 1)


def test_delisting_return_is_earned_over_the_session_after_the_last_trade():
    rows = curated()
    rows = rows[~((rows["symbol"] == "B") & (rows["date"] > SESSIONS[12]))].copy()
    rows.loc[(rows["symbol"] == "B") & (rows["date"] == SESSIONS[12]), "delisting_return"] = -0.3
    p = market_panel(rows)
    assert p.returns["B"].iloc[13] == pytest.approx(-0.3)
    assert np.isnan(p.returns["B"].iloc[14])


def test_rows_after_t_leave_the_panel_at_t_unchanged():
    full = curated(25)
    rows = full.copy()
    # a later 3:1 split of A and a changed later price of B
    later_a = (rows["symbol"] == "A") & (rows["date"] >= SESSIONS[22])
    rows.loc[later_a, ["close", "volume", "split_factor"]] = [40.0, 9000, 3.0]
    rows.loc[(rows["symbol"] == "B") & (rows["date"] == SESSIONS[23]), "close"] = 70.0
    before, after = market_panel(full[full["date"] <= SESSIONS[21]]), market_panel(rows)
    for name in ("close", "returns", "adv", "sigma_daily", "spread"):
        pd.testing.assert_frame_equal(getattr(after, name).iloc[:22], getattr(before, name))


def test_tradable_keeps_only_names_with_a_close_and_a_full_cost_window():
    import datetime as dt

    days = [d.date() for d in calendar.sessions("2025-06-02", "2025-06-06")]
    index = pd.Index(days, name="date")
    full = pd.DataFrame({"A": 1.0, "B": 1.0}, index=index)
    young = full.copy()
    young.loc[days[:3], "B"] = float("nan")  # B listed late: no ADV for its first sessions
    panel = MarketPanel(close=full, returns=full, adv=young, sigma_daily=full, spread=full)
    rows = pd.DataFrame({"date": [days[1], days[1], days[4]], "symbol": ["A", "B", "B"], "score": [1.0, 2.0, 3.0]})
    kept = panel.tradable(rows)
    assert list(zip(kept["date"], kept["symbol"])) == [(days[1], "A"), (days[4], "B")]
    assert isinstance(days[0], dt.date)

"""Specification of the vectorised backtest engine (trademl.backtest.run_backtest, strategy_returns).

The hand-computed case: 2 symbols x 4 sessions. A: 100, 110, 99, 99 (returns +10 %, -10 %, 0);
B: 50, 50, 55, 44 (0, +10 %, -20 %). Targets A +0.5 / B -0.5 at the first and third close.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.backtest import MarketPanel, run_backtest, strategy_returns
from trademl.execution.cost import CostModel

DATES = pd.Index([dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4), dt.date(2024, 1, 5)], name="date")
FREE = CostModel(fee_per_share=0.0, fee_bps=0.0, impact_coef=0.0)


def panel(close: pd.DataFrame, *, adv: float = 1e6, sigma: float = 0.02, spread: float = 0.0) -> MarketPanel:
    returns = close / close.shift(1) - 1.0
    return MarketPanel(close=close, returns=returns, adv=close * 0 + adv, sigma_daily=close * 0 + sigma,
                       spread=close * 0 + spread)


def small_panel(**kwargs) -> MarketPanel:
    close = pd.DataFrame({"A": [100.0, 110.0, 99.0, 99.0], "B": [50.0, 50.0, 55.0, 44.0]}, index=DATES)
    return panel(close, **kwargs)


def long_short_targets() -> pd.DataFrame:
    return pd.DataFrame({"date": [DATES[0], DATES[0], DATES[2], DATES[2]], "symbol": ["A", "B", "A", "B"],
                         "weight": [0.5, -0.5, 0.5, -0.5]})


def test_zero_costs_net_equals_gross_equals_previous_weights_times_returns():
    market = small_panel()
    result = run_backtest(long_short_targets(), market, FREE)
    held = (result.weights.shift(1) * market.returns).sum(axis=1)
    # d1: 0.5*10% = +5 %; d2: drifted (11/21, -10/21) x (-10 %, +10 %) = -10 %; d3: -0.5 * -20 % = +10 %
    assert result.returns_gross.tolist() == pytest.approx([0.0, 0.05, -0.10, 0.10])
    assert result.returns_net.tolist() == pytest.approx(result.returns_gross.tolist(), abs=0)
    assert result.returns_gross.to_numpy() == pytest.approx(held.to_numpy())


def test_equity_compounds_net_returns_from_capital():
    result = run_backtest(long_short_targets(), small_panel(), FREE, capital=1000.0)
    assert result.equity.tolist() == pytest.approx([1000.0, 1050.0, 945.0, 1039.5])


def test_positions_drift_between_rebalances():
    result = run_backtest(long_short_targets(), small_panel(), FREE)
    # after d1 the book is A 0.55 / B -0.5 of equity 1.05
    assert result.weights.loc[DATES[1]].tolist() == pytest.approx([11 / 21, -10 / 21])


def test_rebalance_turnover_is_measured_against_drifted_weights():
    result = run_backtest(long_short_targets(), small_panel(), FREE)
    # at d2 the drifted book is A 0.495/0.945 = 11/21, B -0.55/0.945 = -110/189; back to +-0.5:
    # |0.5 - 11/21| + |-0.5 + 110/189| = 1/42 + 31/378 = 40/378
    assert result.turnover.tolist() == pytest.approx([1.0, 0.0, 40 / 378, 0.0])


def test_span_ends_one_session_after_the_last_targets():
    close = pd.DataFrame({"A": [100.0, 101, 102, 103], "B": [50.0, 51, 52, 53]}, index=DATES)
    targets = pd.DataFrame({"date": [DATES[0]], "symbol": ["A"], "weight": [1.0]})
    result = run_backtest(targets, panel(close), FREE)
    assert list(result.returns_net.index) == list(DATES[:2])


def test_impact_cost_grows_with_the_square_root_of_size():
    market = small_panel(sigma=0.02, adv=1e6)
    impact_only = CostModel(fee_per_share=0.0, fee_bps=0.0, impact_coef=1.0)

    def first_cost(weight: float) -> float:
        targets = pd.DataFrame({"date": [DATES[0]], "symbol": ["A"], "weight": [weight]})
        return run_backtest(targets, market, impact_only, capital=1e6).costs.iloc[0]

    # 5,000 shares of a 100 $ stock: 0.02 * sqrt(5000 / 1e6) * 100 * 5000 = 707.11 $ = 7.0711e-4 of 1e6
    assert first_cost(0.5) == pytest.approx(0.02 * np.sqrt(5000 / 1e6) * 100 * 5000 / 1e6)
    assert first_cost(2.0) / first_cost(0.5) == pytest.approx(4.0**1.5)


def test_spread_and_fees_are_linear_in_size():
    market = small_panel(spread=0.10)
    linear = CostModel(fee_per_share=0.01, fee_bps=0.0, impact_coef=0.0)
    targets = pd.DataFrame({"date": [DATES[0]], "symbol": ["A"], "weight": [0.5]})
    # 5,000 shares x (0.05 half spread + 0.01 fee) = 300 $
    assert run_backtest(targets, market, linear, capital=1e6).costs_cash.iloc[0] == pytest.approx(300.0)


def test_net_is_gross_minus_costs_minus_borrow():
    result = run_backtest(long_short_targets(), small_panel(spread=0.05), CostModel(0.005, 1.0, 1.0), borrow_bps=50.0)
    residual = result.returns_gross - result.costs - result.borrow - result.returns_net
    assert np.abs(residual.to_numpy()).max() < 1e-15
    assert (result.costs.iloc[[0, 2]] > 0).all() and (result.costs.iloc[[1, 3]] == 0).all()


def test_borrow_is_charged_on_short_weight_held_over_each_session():
    # 252 bps a year = 1 bp a session on each unit of short weight held from the previous close
    result = run_backtest(long_short_targets(), small_panel(), FREE, borrow_bps=252.0)
    assert result.borrow.tolist() == pytest.approx([0.0, 0.5e-4, 10 / 21 * 1e-4, 0.5e-4])


def test_long_only_book_pays_no_borrow():
    targets = pd.DataFrame({"date": [DATES[0], DATES[0]], "symbol": ["A", "B"], "weight": [0.6, 0.4]})
    result = run_backtest(targets, small_panel(), FREE, borrow_bps=500.0)
    assert (result.borrow == 0).all()


def test_engine_session_cost_equals_the_simulator_fills_cost():
    model = CostModel(fee_per_share=0.005, fee_bps=1.0, impact_coef=0.8)
    result = run_backtest(long_short_targets(), small_panel(spread=0.05), model, orders_between=(DATES[2], DATES[2]))
    fills, orders = result.fills, result.orders
    reference = small_panel().close.loc[DATES[2]].reindex(fills["symbol"]).to_numpy()
    sign = np.where(fills["side"] == "BUY", 1.0, -1.0)
    fill_cost = float(((fills["price"].to_numpy() - reference) * sign * fills["qty"].to_numpy()).sum() + fills["fee"].sum())
    assert fill_cost == pytest.approx(result.costs_cash.loc[DATES[2]], rel=1e-12)
    assert result.fill_summary["total_cost"] == pytest.approx(result.costs_cash.loc[DATES[2]], rel=1e-12)
    assert orders["side"].tolist() == ["SELL", "BUY"]  # trim the drifted long, cover part of the short


def test_metrics_come_from_net_returns():
    result = run_backtest(long_short_targets(), small_panel(), FREE)
    r = np.array([0.0, 0.05, -0.10, 0.10])
    assert result.metrics["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(252))
    assert result.metrics["cum_return"] == pytest.approx(1.05 * 0.9 * 1.1 - 1)
    assert result.metrics["max_drawdown"] == pytest.approx(0.10)
    assert result.metrics["hit_rate"] == pytest.approx(0.5)
    assert result.metrics["turnover"] == pytest.approx((1.0 + 40 / 378) / 4)


def test_target_symbol_outside_the_panel_is_rejected():
    targets = pd.DataFrame({"date": [DATES[0]], "symbol": ["ZZZ"], "weight": [0.1]})
    with pytest.raises(ValueError, match=r"not in the market panel: \['ZZZ'\]"):
        run_backtest(targets, small_panel(), FREE)


def test_trading_a_symbol_without_a_full_history_window_is_rejected():
    market = small_panel()
    adv = market.adv.copy()
    adv.loc[DATES[0], "A"] = np.nan
    early = MarketPanel(market.close, market.returns, adv, market.sigma_daily, market.spread)
    targets = pd.DataFrame({"date": [DATES[0]], "symbol": ["A"], "weight": [0.1]})
    with pytest.raises(ValueError, match="need adv, sigma_daily and spread"):
        run_backtest(targets, early, CostModel())


def random_panel(seed: int, n_sessions: int = 30, n_symbols: int = 5) -> tuple[MarketPanel, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    from trademl import calendar

    dates = pd.Index([d.date() for d in calendar.sessions("2024-01-02", "2024-03-29")[:n_sessions]], name="date")
    symbols = [f"S{i}" for i in range(n_symbols)]
    close = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_sessions, n_symbols)), axis=0)),
                         index=dates, columns=symbols)
    market = panel(close, adv=2e5, sigma=0.02, spread=0.02)
    rebalance = dates[::3]
    w = rng.normal(0, 0.2, (len(rebalance), n_symbols))
    targets = pd.DataFrame({"date": np.repeat(np.asarray(rebalance), n_symbols), "symbol": symbols * len(rebalance),
                            "weight": w.ravel()})
    return market, targets


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=1, max_value=27), shock=st.floats(min_value=-0.5, max_value=0.5))
def test_changing_returns_after_t_leaves_net_returns_up_to_t_unchanged(cut, shock):
    market, targets = random_panel(seed=7)
    model = CostModel(fee_per_share=0.005, fee_bps=0.5, impact_coef=1.0)
    base = run_backtest(targets, market, model, borrow_bps=100.0).returns_net
    close = market.close.copy()
    close.iloc[cut + 1 :] *= 1.0 + shock
    close.iloc[cut + 2 :, ::2] *= 1.0 - shock / 2
    changed = run_backtest(targets, panel(close, adv=2e5, sigma=0.02, spread=0.02), model, borrow_bps=100.0).returns_net
    np.testing.assert_allclose(changed.iloc[: cut + 1].to_numpy(), base.iloc[: cut + 1].to_numpy(), rtol=1e-12, atol=1e-15)


def test_strategy_returns_backtests_the_targets_of_the_injected_portfolio():
    market = small_panel()
    scores = pd.DataFrame({"date": [DATES[0], DATES[0]], "symbol": ["A", "B"], "score": [1.0, -1.0]})
    seen = {}

    def targets_fn(scores_long, returns_wide, risk_cfg):
        seen["returns"], seen["cfg"] = returns_wide, risk_cfg
        return scores_long.assign(weight=0.5 * np.sign(scores_long["score"]))[["date", "symbol", "weight"]]

    cfg = SimpleNamespace(borrow_cost_bps=252.0)
    out = strategy_returns(scores, market, cfg, FREE, targets_fn=targets_fn)
    # +5 % on A, no move on B, minus 1 bp borrow on the 0.5 short held over the session
    assert out.tolist() == pytest.approx([0.0, 0.05 - 0.5e-4])
    assert seen["returns"] is market.returns and seen["cfg"] is cfg


def test_costs_are_cash_costs_over_the_previous_close_equity():
    result = run_backtest(long_short_targets(), small_panel(spread=0.05), CostModel(0.005, 1.0, 1.0), capital=1e5)
    previous = np.concatenate([[1e5], result.equity.to_numpy()[:-1]])
    assert result.costs.to_numpy() == pytest.approx(result.costs_cash.to_numpy() / previous, rel=1e-12)
    # the first trade is sized on the starting capital: 500 shares of A at 100, 1,000 of B at 50
    first = CostModel(0.005, 1.0, 1.0).estimate([500, -1000], [100.0, 50.0], 1e6, 0.02, 0.05)["cost"].sum()
    assert result.costs_cash.iloc[0] == pytest.approx(first, rel=1e-12)


def test_an_order_range_without_trades_gives_no_orders_and_no_fills():
    result = run_backtest(long_short_targets(), small_panel(), CostModel(), orders_between=(DATES[1], DATES[1]))
    assert len(result.orders) == 0 and len(result.fills) == 0
    assert result.fill_summary["n_orders"] == 0


def test_a_delisted_position_earns_its_delisting_return_and_is_closed_at_no_cost():
    close = pd.DataFrame({"A": [100.0, 100.0, 100.0, 100.0], "B": [50.0, 50.0, np.nan, np.nan]}, index=DATES)
    market = panel(close, spread=0.10)
    returns = market.returns.copy()
    returns.loc[DATES[2], "B"] = -0.30  # B's last trade is d1; its delisting return is earned over d1 -> d2
    market = MarketPanel(close, returns, market.adv, market.sigma_daily, market.spread)
    targets = pd.DataFrame({"date": [DATES[0], DATES[0], DATES[2]], "symbol": ["A", "B", "A"], "weight": [0.5, 0.5, 0.5]})
    result = run_backtest(targets, market, CostModel(0.0, 0.0, 0.0))
    assert result.returns_gross.loc[DATES[2]] == pytest.approx(0.5 * -0.30)
    assert result.weights.loc[DATES[2], "B"] == 0.0
    # at d2 only A trades (from 0.5/0.85 back to 0.5): 0.05 half spread on its shares; B closes free
    a_shares = abs(0.5 - 0.5 / 0.85) * result.equity.loc[DATES[1]] * 0.85 / 100.0
    assert result.costs_cash.loc[DATES[2]] == pytest.approx(0.05 * a_shares)


def test_holding_a_symbol_without_a_close_is_rejected():
    close = pd.DataFrame({"A": [100.0, 100.0, 100.0, 100.0], "B": [50.0, 50.0, np.nan, np.nan]}, index=DATES)
    targets = pd.DataFrame({"date": [DATES[2]], "symbol": ["B"], "weight": [0.5]})
    with pytest.raises(ValueError, match="no close"):
        run_backtest(targets, panel(close), FREE)

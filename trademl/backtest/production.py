"""The production strategy: the portfolio constructor and the shared cost model over the curated market.

What CPCV evaluates a model with, what the champion's backtest replays and what paper trading will
trade (SSOT 6.2: evaluation uses the production portfolio and costs, net of costs). The market is
read once per call of `production_market` and reused by every strategy evaluation over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from trademl import calendar
from trademl.backtest.engine import BacktestResult, run_backtest
from trademl.backtest.settings import BacktestSettings, backtest_settings
from trademl.curate.market_panel import MarketPanel, market_panel
from trademl.data.lake import Lake
from trademl.portfolio import RiskConfig, build_targets, risk_config

CURATED = "curated/equities_ohlcv_adj"
Strategy = Callable[[pd.DataFrame], pd.Series]


def production_market(
    lake: Lake, first: dt.date, last: dt.date, *, settings: BacktestSettings | None = None, risk: RiskConfig | None = None
) -> MarketPanel:
    """The curated market panel of [first - warm-up, last]; the warm-up (the longer of the panel's window
    and the covariance lookback) gives the first scored session its ADV, vol and covariance estimates."""
    settings, risk = settings or backtest_settings(), risk or risk_config()
    start = calendar.previous_session(first, max(settings.window_sessions, risk.cov_lookback) + 1).date()
    curated = lake.read(CURATED, start, last).to_pandas()
    return market_panel(curated, window=settings.window_sessions, spread_bps=settings.spread_bps, convention=settings.convention)


def production_backtest(
    scores: pd.DataFrame, market: MarketPanel, *, settings: BacktestSettings | None = None, risk: RiskConfig | None = None
) -> BacktestResult:
    """Scores (date, symbol, score) of the names tradable that session (MarketPanel.tradable) -> portfolio
    targets -> run_backtest with the shared cost model and borrow."""
    settings, risk = settings or backtest_settings(), risk or risk_config()
    # a name that cannot trade that session (delisted, no cost window) is held at 0: the turnover
    # limit's blend toward the previous book would otherwise keep part of it
    targets = market.tradable(build_targets(market.tradable(scores), market.returns, risk))
    return run_backtest(targets, market, settings.cost_model, capital=settings.capital, borrow_bps=risk.borrow_cost_bps)


def production_strategy(market: MarketPanel, *, settings: BacktestSettings | None = None, risk: RiskConfig | None = None) -> Strategy:
    """scores -> net daily returns of the production strategy over `market` (the callable CPCV receives)."""
    settings, risk = settings or backtest_settings(), risk or risk_config()

    def strategy(scores: pd.DataFrame) -> pd.Series:
        return production_backtest(scores, market, settings=settings, risk=risk).returns_net

    return strategy

"""Backtests (SSOT 7): the market panel, the vectorised engine, strategy returns and the backtest registry.

`market_panel` turns curated rows into the wide frames a backtest trades against (`MarketPanel`);
`run_backtest` turns target weights into gross/net returns, costs, turnover and equity (`BacktestResult`),
with the same cost model and simulator paper trading uses (trademl.execution); `strategy_returns` is the
production strategy (portfolio targets + backtest) the models layer receives by injection; the registry
(`create_backtest_run`, `create_backtest_folds`, `leaderboard`) records runs in the control db.
"""

from trademl.backtest.engine import PERIODS_PER_YEAR, BacktestResult, backtest_metrics, run_backtest, strategy_returns
from trademl.backtest.panel import MarketPanel, market_panel
from trademl.backtest.registry import (
    LEADERBOARD_COLUMNS,
    backtest_metadata,
    create_backtest_folds,
    create_backtest_run,
    create_backtest_tables,
    leaderboard,
)

__all__ = [
    "LEADERBOARD_COLUMNS",
    "PERIODS_PER_YEAR",
    "BacktestResult",
    "MarketPanel",
    "backtest_metadata",
    "backtest_metrics",
    "create_backtest_folds",
    "create_backtest_run",
    "create_backtest_tables",
    "leaderboard",
    "market_panel",
    "run_backtest",
    "strategy_returns",
]

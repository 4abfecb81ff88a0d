"""Honest validation: purged cross-validation, overfitting statistics and performance metrics (SSOT 6.2)."""

from trademl.validation.calibration import (
    brier_score,
    expected_calibration_error,
    log_loss,
    reliability_curve,
)
from trademl.validation.cpcv import CombinatorialPurgedKFold
from trademl.validation.dsr import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_ratio_standard_error,
)
from trademl.validation.metrics import (
    cum_return,
    hit_rate,
    information_coefficient,
    max_drawdown,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    sqn,
    turnover,
    win_rate,
)
from trademl.validation.pbo import PBOResult, probability_of_backtest_overfitting
from trademl.validation.walk_forward import PurgedEmbargoedWalkForwardSplit

__all__ = [
    "CombinatorialPurgedKFold",
    "PBOResult",
    "PurgedEmbargoedWalkForwardSplit",
    "brier_score",
    "cum_return",
    "deflated_sharpe_ratio",
    "expected_calibration_error",
    "expected_max_sharpe",
    "hit_rate",
    "information_coefficient",
    "log_loss",
    "max_drawdown",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "profit_factor",
    "reliability_curve",
    "sharpe_ratio",
    "sharpe_ratio_standard_error",
    "sortino_ratio",
    "sqn",
    "turnover",
    "win_rate",
]

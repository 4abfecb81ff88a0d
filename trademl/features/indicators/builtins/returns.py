"""Return-based features (spec 003): log returns, return z-score, volatility-adjusted momentum."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_period
from trademl.features.indicators.builtins.conventions import safe_ratio
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.windows import rolling_mean, rolling_std, shift


def log_return(block: BarBlock, period: int) -> np.ndarray:
    """ln(close / close ``period`` bars ago); NaN unless both closes are positive."""

    def build() -> np.ndarray:
        close = block.column("close")
        previous = shift(close, period)
        usable = (close > 0) & (previous > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(close / previous)
        out[~usable] = np.nan
        return out

    return block.memo(("log_return", period), build)


def log_return_std(block: BarBlock, period: int) -> np.ndarray:
    """Sample std (ddof=1) of the last ``period`` one-bar log returns, once per block."""
    return block.memo(("log_return_std", period), lambda: rolling_std(log_return(block, 1), period, ddof=1))


class LogReturn(BarIndicator):
    """Log return of the close over ``period`` bars (per period, not annualised)."""

    name: ClassVar[str] = "log_return"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 1) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"log_return_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {self.output_columns[0]: log_return(block, self.period).copy()}


class ReturnZScore(BarIndicator):
    """Volatility spike: (r_t - mean(r)) / std(r) of the last ``period`` one-bar log returns (r_t included).

    Sample standard deviation (ddof=1); NaN when the window's returns are all equal.
    """

    name: ClassVar[str] = "return_z_score"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"return_z_score_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        returns = log_return(block, 1)
        centred = returns - rolling_mean(returns, self.period)
        spread = log_return_std(block, self.period)
        return {self.output_columns[0]: safe_ratio(centred, spread, zero_value=np.nan)}


class VolAdjMom(BarIndicator):
    """Z-score momentum: ln(close / close[period ago]) / (std of the one-bar log returns * sqrt(period)).

    The momentum and the volatility use the same ``period`` returns (sample std, ddof=1); NaN when
    that std is 0.
    """

    name: ClassVar[str] = "vol_adj_mom"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"vol_adj_mom_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        momentum = log_return(block, self.period)
        spread = log_return_std(block, self.period) * math.sqrt(self.period)
        return {self.output_columns[0]: safe_ratio(momentum, spread, zero_value=np.nan)}

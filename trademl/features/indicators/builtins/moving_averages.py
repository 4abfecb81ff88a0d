"""Moving averages of the close: SMA, EMA, WMA (TA-Lib definitions and warm-up)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_period
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.smoothing import ema
from trademl.features.indicators.windows import rolling_mean, rolling_weighted_sum


def close_mean(block: BarBlock, period: int) -> np.ndarray:
    """SMA of the close over ``period`` bars, computed once per block (shared by SMA and BBANDS)."""
    return block.memo(("close_mean", period), lambda: rolling_mean(block.column("close"), period))


class SMA(BarIndicator):
    """Simple moving average of the close over ``period`` bars; first value at bar ``period - 1``."""

    name: ClassVar[str] = "sma"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"sma_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {self.output_columns[0]: close_mean(block, self.period).copy()}


class EMA(BarIndicator):
    """Exponential moving average, k = 2/(period+1), seeded with the SMA of the first ``period`` closes."""

    name: ClassVar[str] = "ema"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"ema_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {self.output_columns[0]: ema(block.column("close"), self.period)}


class WMA(BarIndicator):
    """Linearly weighted moving average: weights 1..period (newest heaviest) over period*(period+1)/2."""

    name: ClassVar[str] = "wma"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"wma_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        weights = np.arange(1, self.period + 1, dtype=np.float64)
        weighted = rolling_weighted_sum(block.column("close"), weights)
        return {self.output_columns[0]: weighted / (self.period * (self.period + 1) // 2)}

"""Momentum oscillators (TA-Lib definitions and warm-up): RSI, MACD, ROC, STOCH, Williams %R, CCI."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_period
from trademl.features.indicators.builtins.conventions import negligible, safe_ratio
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.smoothing import ema, wilder_average
from trademl.features.indicators.windows import (
    difference,
    rolling_max,
    rolling_mean,
    rolling_mean_abs_deviation,
    rolling_min,
    shift,
)


def typical_price(block: BarBlock) -> np.ndarray:
    """(high + low + close) / 3 per bar."""
    return block.memo(
        "typical_price", lambda: (block.column("high") + block.column("low") + block.column("close")) / 3.0
    )


def highest_high(block: BarBlock, period: int) -> np.ndarray:
    """Highest high over the last ``period`` bars."""
    return block.memo(("highest_high", period), lambda: rolling_max(block.column("high"), period))


def lowest_low(block: BarBlock, period: int) -> np.ndarray:
    """Lowest low over the last ``period`` bars."""
    return block.memo(("lowest_low", period), lambda: rolling_min(block.column("low"), period))


class RSI(BarIndicator):
    """Relative strength index, 0..100: Wilder averages of gains and losses (0 when both are 0)."""

    name: ClassVar[str] = "rsi"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"rsi_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        change = difference(block.column("close"), 1)
        average_gain = wilder_average(np.maximum(change, 0.0), self.period)
        average_loss = wilder_average(np.maximum(-change, 0.0), self.period)
        total = average_gain + average_loss
        return {self.output_columns[0]: safe_ratio(average_gain, total, zero_value=0.0) * 100.0}


class MACD(BarIndicator):
    """MACD line (fast EMA - slow EMA), signal (EMA of the line) and histogram, as TA-Lib computes them.

    TA-Lib seeds the fast EMA on the ``fast`` closes ending where the slow EMA's seed ends, and emits
    all three outputs from bar ``slow + signal - 2`` on.
    """

    name: ClassVar[str] = "macd"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast = check_period("fast", fast, minimum=2)
        self.slow = check_period("slow", slow, minimum=2)
        self.signal = check_period("signal", signal, minimum=1)
        if self.fast >= self.slow:
            raise ValueError(f"fast period must be shorter than slow period, got fast={fast}, slow={slow}")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("macd", "macd_signal", "macd_hist")

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close = block.column("close")
        slow = ema(close, self.slow)
        fast = ema(close, self.fast, skip=self.slow - self.fast)
        line = fast - slow
        signal = ema(line, self.signal)
        line[np.isnan(signal)] = np.nan
        return {"macd": line, "macd_signal": signal, "macd_hist": line - signal}


class ROC(BarIndicator):
    """Rate of change in percent: 100 * (close / close ``period`` bars ago - 1) (0 when that close is 0)."""

    name: ClassVar[str] = "roc"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 10) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"roc_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close = block.column("close")
        previous = shift(close, self.period)
        with np.errstate(divide="ignore", invalid="ignore"):
            roc = (close / previous - 1.0) * 100.0
        roc[(previous == 0) & ~np.isnan(close)] = 0.0
        return {self.output_columns[0]: roc}


class STOCH(BarIndicator):
    """Slow stochastic: %K = SMA(slowk_period) of fast %K over ``fastk_period`` bars, %D = SMA of %K.

    Fast %K = 100 * (close - lowest low) / (highest high - lowest low), 0 for a flat range.
    """

    name: ClassVar[str] = "stoch"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3) -> None:
        self.fastk_period = check_period("fastk_period", fastk_period, minimum=1)
        self.slowk_period = check_period("slowk_period", slowk_period, minimum=1)
        self.slowd_period = check_period("slowd_period", slowd_period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("stoch_k", "stoch_d")

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        highest = highest_high(block, self.fastk_period)
        lowest = lowest_low(block, self.fastk_period)
        span = highest - lowest
        with np.errstate(divide="ignore", invalid="ignore"):
            fast_k = (block.column("close") - lowest) / (span / 100.0)
        fast_k[negligible(span, np.abs(highest) + np.abs(lowest))] = 0.0
        slow_k = rolling_mean(fast_k, self.slowk_period)
        slow_d = rolling_mean(slow_k, self.slowd_period)
        slow_k[np.isnan(slow_d)] = np.nan
        return {"stoch_k": slow_k, "stoch_d": slow_d}


class WilliamsR(BarIndicator):
    """Williams %R, -100..0: -100 * (highest high - close) / (highest high - lowest low); 0 if flat."""

    name: ClassVar[str] = "williams_r"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"williams_r_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        highest = highest_high(block, self.period)
        lowest = lowest_low(block, self.period)
        span = highest - lowest
        with np.errstate(divide="ignore", invalid="ignore"):
            williams = (highest - block.column("close")) / (span / -100.0)
        williams[negligible(span, np.abs(highest) + np.abs(lowest))] = 0.0
        return {self.output_columns[0]: williams}


class CCI(BarIndicator):
    """Commodity channel index: (typical price - its SMA) / (0.015 * mean absolute deviation)."""

    name: ClassVar[str] = "cci"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"cci_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        typical = typical_price(block)
        average = rolling_mean(typical, self.period)
        mean_deviation = rolling_mean_abs_deviation(typical, self.period, average)
        deviation = typical - average
        with np.errstate(divide="ignore", invalid="ignore"):
            cci = deviation / (0.015 * mean_deviation)
        flat = negligible(deviation, np.abs(typical) + np.abs(average)) | (mean_deviation == 0)
        cci[flat] = 0.0
        return {self.output_columns[0]: cci}

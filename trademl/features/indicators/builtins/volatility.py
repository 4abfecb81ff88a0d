"""Volatility indicators: true range, ATR, NATR, Bollinger Bands, Parkinson volatility, ATR ratio."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_number, check_period
from trademl.features.indicators.builtins.conventions import safe_ratio
from trademl.features.indicators.builtins.moving_averages import close_mean
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.smoothing import wilder_average
from trademl.features.indicators.windows import rolling_mean, rolling_std, shift


def true_range(block: BarBlock) -> np.ndarray:
    """max(high - low, |high - prev close|, |low - prev close|); NaN on each symbol's first bar."""

    def build() -> np.ndarray:
        high, low, close = block.column("high"), block.column("low"), block.column("close")
        prev_close = shift(close, 1)
        out = high - low
        np.maximum(out, np.abs(high - prev_close), out=out)
        np.maximum(out, np.abs(low - prev_close), out=out)
        return out

    return block.memo("true_range", build)


def average_true_range(block: BarBlock, period: int) -> np.ndarray:
    """Wilder ATR (TA-Lib): mean of the first ``period`` true ranges, then alpha = 1/period."""
    return block.memo(("atr", period), lambda: wilder_average(true_range(block), period))


class ATR(BarIndicator):
    """Average true range (Wilder smoothing), in price units; first value at bar ``period``."""

    name: ClassVar[str] = "atr"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"atr_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        return {self.output_columns[0]: average_true_range(block, self.period).copy()}


class NATR(BarIndicator):
    """Normalised ATR: 100 * ATR / close, in percent of price (0 where the close is 0, as TA-Lib)."""

    name: ClassVar[str] = "natr"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"natr_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        atr = average_true_range(block, self.period)
        return {self.output_columns[0]: safe_ratio(atr, block.column("close"), zero_value=0.0) * 100.0}


class BBANDS(BarIndicator):
    """Bollinger Bands: SMA(period) +/- nbdev * population standard deviation of the same window."""

    name: ClassVar[str] = "bbands"
    price_degree: ClassVar[int | None] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 20, nbdev_up: float = 2.0, nbdev_dn: float = 2.0) -> None:
        self.period = check_period("period", period, minimum=2)
        self.nbdev_up = check_number("nbdev_up", nbdev_up)
        self.nbdev_dn = check_number("nbdev_dn", nbdev_dn)

    @property
    def output_columns(self) -> tuple[str, ...]:
        p = self.period
        return (f"bb_upper_{p}", f"bb_middle_{p}", f"bb_lower_{p}")

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close = block.column("close")
        middle = close_mean(block, self.period)
        deviation = rolling_std(close, self.period, ddof=0)
        upper, mid, lower = self.output_columns
        return {
            upper: middle + self.nbdev_up * deviation,
            mid: middle.copy(),
            lower: middle - self.nbdev_dn * deviation,
        }


class ParkinsonVol(BarIndicator):
    """Parkinson high-low volatility: sqrt(mean(ln(high/low)^2) / (4 ln 2)) over ``period`` bars.

    Per-bar (not annualised) standard deviation of log returns; NaN where high or low is not positive.
    """

    name: ClassVar[str] = "parkinson_vol"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"parkinson_vol_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        high, low = block.column("high"), block.column("low")
        with np.errstate(divide="ignore", invalid="ignore"):
            log_range = np.log(high / low)
        log_range[~((high > 0) & (low > 0))] = np.nan
        mean_square = rolling_mean(log_range * log_range, self.period)
        return {self.output_columns[0]: np.sqrt(mean_square / (4.0 * math.log(2.0)))}


class AtrRatio(BarIndicator):
    """Range expansion: today's true range / Wilder ATR(period) (1 = an average bar; NaN if ATR is 0)."""

    name: ClassVar[str] = "atr_ratio"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 15) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"atr_ratio_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        atr = average_true_range(block, self.period)
        return {self.output_columns[0]: safe_ratio(true_range(block), atr, zero_value=np.nan)}

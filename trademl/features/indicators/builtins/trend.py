"""Trend-strength indicators: ADX (TA-Lib) and Kaufman's efficiency ratio."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_period
from trademl.features.indicators.builtins.conventions import safe_ratio
from trademl.features.indicators.builtins.volatility import true_range
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.smoothing import wilder_average, wilder_sum
from trademl.features.indicators.windows import difference, rolling_sum, shift


class ADX(BarIndicator):
    """Average directional index, 0..100 (TA-Lib): Wilder sums of +DM, -DM and TR, DX, Wilder mean of DX.

    The DM/TR sums start from the sum of ``period - 1`` bars, DX from the bar after, and ADX from the
    mean of the first ``period`` DX values, so the first ADX is at bar ``2 * period - 1``. Where DX is
    undefined (no true range or no directional movement yet) it counts as 0 in that first mean and
    later leaves ADX unchanged, as TA-Lib does.
    """

    name: ClassVar[str] = "adx"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"adx_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        high, low = block.column("high"), block.column("low")
        up_move = difference(high, 1)
        down_move = shift(low, 1) - low
        minus_taken = (down_move > 0) & (up_move < down_move)
        plus_taken = ~minus_taken & (up_move > 0) & (up_move > down_move)
        unknown = np.isnan(up_move) | np.isnan(down_move)
        minus_dm = np.where(minus_taken, down_move, 0.0)
        plus_dm = np.where(plus_taken, up_move, 0.0)
        minus_dm[unknown] = np.nan
        plus_dm[unknown] = np.nan

        period = self.period
        minus_sum = wilder_sum(minus_dm, period)
        plus_sum = wilder_sum(plus_dm, period)
        range_sum = wilder_sum(true_range(block), period)
        with np.errstate(divide="ignore", invalid="ignore"):
            minus_di = 100.0 * (minus_sum / range_sum)
            plus_di = 100.0 * (plus_sum / range_sum)
            di_total = minus_di + plus_di
            dx = 100.0 * (np.abs(minus_di - plus_di) / di_total)
        undefined = (range_sum == 0) | (di_total == 0)
        dx[undefined] = 0.0
        # DX exists from the bar after the first DM/TR sum (TA-Lib's second accumulation loop).
        started = np.isfinite(shift(range_sum, 1))
        dx[~started] = np.nan
        adx = wilder_average(dx, period, hold=undefined & started)
        return {self.output_columns[0]: adx}


class EfficiencyRatio(BarIndicator):
    """Kaufman efficiency ratio, 0..1: |close - close[period ago]| / sum of |bar-to-bar close changes|.

    1 = a straight-line move, near 0 = noise; 0 for a window with no price change at all.
    """

    name: ClassVar[str] = "efficiency_ratio"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close",)

    def __init__(self, *, period: int = 10) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"efficiency_ratio_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close = block.column("close")
        net = np.abs(difference(close, self.period))
        path = rolling_sum(np.abs(difference(close, 1)), self.period)
        return {self.output_columns[0]: safe_ratio(net, path, zero_value=0.0)}

"""Bar-structure, volume and liquidity features (spec 003 "universal alphas" and "advanced")."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_number, check_period
from trademl.features.indicators.builtins.conventions import safe_ratio
from trademl.features.indicators.builtins.momentum import typical_price
from trademl.features.indicators.panel import BarBlock, BarPanel
from trademl.features.indicators.smoothing import first_finite_column
from trademl.features.indicators.windows import rolling_mean, rolling_sum, shift


def traded_volume(block: BarBlock, period: int) -> np.ndarray:
    """Volume summed over the last ``period`` bars, once per block (dist_vwap, intraday_intensity)."""
    return block.memo(("traded_volume", period), lambda: rolling_sum(block.column("volume"), period))


class VolumeChange(BarIndicator):
    """Relative volume change: volume / volume ``period`` bars ago - 1 (NaN when that volume is 0)."""

    name: ClassVar[str] = "volume_change"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("volume",)

    def __init__(self, *, period: int = 1) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"volume_change_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        volume = block.column("volume")
        ratio = safe_ratio(volume, shift(volume, self.period), zero_value=np.nan)
        return {self.output_columns[0]: ratio - 1.0}


class VolRatio(BarIndicator):
    """Relative volume: volume / mean volume of the last ``period`` bars (current bar included)."""

    name: ClassVar[str] = "vol_ratio"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("volume",)

    def __init__(self, *, period: int = 60) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"vol_ratio_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        volume = block.column("volume")
        average = rolling_mean(volume, self.period)
        return {self.output_columns[0]: safe_ratio(volume, average, zero_value=np.nan)}


class AmihudIlliquidity(BarIndicator):
    """Amihud illiquidity: mean of |simple return| / (close * volume) over the last ``period`` bars.

    Scaled by ``scale`` (default 1e6: absolute return per million currency units traded). Bars with
    zero volume or no return are left out of the mean; NaN when none remains. The first value is
    at bar ``period`` (the window's first return needs the previous close).
    """

    name: ClassVar[str] = "amihud_illiquidity"
    price_degree: ClassVar[int | None] = -1
    volume_degree: ClassVar[int] = -1
    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")

    def __init__(self, *, period: int = 20, scale: float = 1e6) -> None:
        self.period = check_period("period", period, minimum=1)
        self.scale = check_number("scale", scale, positive=True)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"amihud_illiquidity_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close, volume = block.column("close"), block.column("volume")
        dollar_volume = close * volume
        with np.errstate(divide="ignore", invalid="ignore"):
            impact = np.abs(close / shift(close, 1) - 1.0) / dollar_volume
        usable = np.isfinite(impact) & (dollar_volume > 0)
        total = rolling_sum(np.where(usable, impact, 0.0), self.period)
        count = rolling_sum(usable.astype(np.float64), self.period)
        illiquidity = safe_ratio(total, count, zero_value=np.nan) * self.scale
        first_return = first_finite_column(close) + 1
        illiquidity[np.arange(block.width)[None, :] < (first_return + self.period - 1)[:, None]] = np.nan
        return {self.output_columns[0]: illiquidity}


class IBS(BarIndicator):
    """Internal bar strength, 0..1: (close - low) / (high - low); 0.5 for a bar with no range."""

    name: ClassVar[str] = "ibs"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("ibs",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        high, low, close = block.column("high"), block.column("low"), block.column("close")
        return {"ibs": safe_ratio(close - low, high - low, zero_value=0.5)}


class DistVwap(BarIndicator):
    """Distance to VWAP: close / VWAP - 1 over the last ``period`` bars.

    VWAP = sum(price * volume) / sum(volume) with price = the bar's ``vwap`` column when the frame has
    one, else the typical price (high + low + close) / 3. NaN when the window traded no volume.
    """

    name: ClassVar[str] = "dist_vwap"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=1)

    def required_columns(self, panel: BarPanel) -> tuple[str, ...]:
        if panel.has_column("vwap"):
            return ("close", "volume", "vwap")
        return ("high", "low", "close", "volume")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"dist_vwap_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        price = block.column("vwap") if block.panel.has_column("vwap") else typical_price(block)
        volume = block.column("volume")
        traded = traded_volume(block, self.period)
        vwap = safe_ratio(rolling_sum(price * volume, self.period), traded, zero_value=np.nan)
        return {self.output_columns[0]: block.column("close") / vwap - 1.0}


class IntradayIntensity(BarIndicator):
    """Bollinger's intraday intensity %: sum(volume * (2*close - high - low) / (high - low)) / sum(volume).

    Over the last ``period`` bars, in -1..1 (+1: every bar closed on its high). A bar with no range
    counts 0; NaN when the window traded no volume.
    """

    name: ClassVar[str] = "intraday_intensity"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")

    def __init__(self, *, period: int = 20) -> None:
        self.period = check_period("period", period, minimum=1)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"intraday_intensity_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        high, low, close = block.column("high"), block.column("low"), block.column("close")
        volume = block.column("volume")
        position = safe_ratio(2.0 * close - high - low, high - low, zero_value=0.0)
        traded = traded_volume(block, self.period)
        pressure = rolling_sum(position * volume, self.period)
        return {self.output_columns[0]: safe_ratio(pressure, traded, zero_value=np.nan)}

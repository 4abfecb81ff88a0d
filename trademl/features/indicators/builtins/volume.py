"""Volume-weighted indicators (TA-Lib definitions): on-balance volume and the money flow index."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator, check_period
from trademl.features.indicators.builtins.conventions import negligible
from trademl.features.indicators.builtins.momentum import typical_price
from trademl.features.indicators.panel import BarBlock
from trademl.features.indicators.smoothing import running_total
from trademl.features.indicators.windows import rolling_sum, shift


class OBV(BarIndicator):
    """On-balance volume: starts at the first bar's volume, then adds (subtracts) the volume of each
    bar that closes above (below) the previous close; unchanged on an equal close. In shares."""

    name: ClassVar[str] = "obv"
    price_degree: ClassVar[int | None] = 0
    volume_degree: ClassVar[int] = 1
    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("obv",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        close, volume = block.column("close"), block.column("volume")
        previous = shift(close, 1)
        signed = np.sign(close - previous) * volume
        opening = np.isnan(previous) & ~np.isnan(close)
        signed[opening] = volume[opening]
        return {"obv": running_total(signed)}


class MFI(BarIndicator):
    """Money flow index, 0..100: 100 * positive money flow / total money flow over ``period`` bars.

    Money flow = typical price * volume, positive when the typical price rose, negative when it fell,
    none when it is unchanged (within TA-Lib's relative epsilon); 0 when the window has no flow.
    """

    name: ClassVar[str] = "mfi"
    price_degree: ClassVar[int | None] = 0
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")

    def __init__(self, *, period: int = 14) -> None:
        self.period = check_period("period", period, minimum=2)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (f"mfi_{self.period}",)

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        typical = typical_price(block)
        previous = shift(typical, 1)
        change = typical - previous
        flow = typical * block.column("volume")
        flow[negligible(change, np.abs(typical) + np.abs(previous))] = 0.0
        falling = change < 0
        positive = np.where(falling, 0.0, flow)
        negative = np.where(falling, flow, 0.0)
        unknown = np.isnan(change)
        positive[unknown] = np.nan
        negative[unknown] = np.nan
        positive_sum = rolling_sum(positive, self.period)
        negative_sum = rolling_sum(negative, self.period)
        total = positive_sum + negative_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            mfi = 100.0 * (np.clip(positive_sum, 0.0, total) / total)
        mfi[total <= 0] = 0.0
        return {self.output_columns[0]: mfi}

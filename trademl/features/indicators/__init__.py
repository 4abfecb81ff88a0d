"""Technical indicators: registry, built-ins (TA-Lib-exact where TA-Lib has them), indicator sets.

>>> from trademl.features.indicators import get_indicator, load_indicator_set, compute_indicator_set
>>> rsi = get_indicator("rsi")(period=14)
>>> rsi.calculate(bars)                                           # doctest: +SKIP
>>> compute_indicator_set(panel, load_indicator_set("default"))   # doctest: +SKIP

Bars: columns open, high, low, close, volume (optionally vwap), time in ``ts`` (UTC) or ``date``;
a panel adds a ``symbol`` column with rows grouped by symbol and ordered by time within it.
"""

from trademl.features.indicators.base import BarIndicator, Indicator
from trademl.features.indicators.compute import compute_indicator_set
from trademl.features.indicators.panel import BarBlock, BarPanel
from trademl.features.indicators.registry import (
    IndicatorRegistry,
    UnknownIndicatorError,
    default_registry,
    discover_indicators,
    get_indicator,
)
from trademl.features.indicators.specs import (
    IndicatorSet,
    IndicatorSpec,
    indicator_sets_dir,
    load_indicator_set,
)

__all__ = [
    "BarBlock",
    "BarIndicator",
    "BarPanel",
    "Indicator",
    "IndicatorRegistry",
    "IndicatorSet",
    "IndicatorSpec",
    "UnknownIndicatorError",
    "compute_indicator_set",
    "default_registry",
    "discover_indicators",
    "get_indicator",
    "indicator_sets_dir",
    "load_indicator_set",
]

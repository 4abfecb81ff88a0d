"""TA-Lib reference calls for the TA-Lib built-ins: (registry name, params) -> expected columns.

Each case names the built-in, the parameters it is built with, and a function of one symbol's
float arrays (high, low, close, volume) returning ``{output column: TA-Lib array}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import talib

Reference = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


def _named(columns: tuple[str, ...], values: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    return dict(zip(columns, values, strict=True))


TALIB_CASES: list[tuple[str, dict[str, Any], Reference]] = [
    ("sma", {"period": 20}, lambda h, l, c, v: {"sma_20": talib.SMA(c, 20)}),
    ("sma", {"period": 5}, lambda h, l, c, v: {"sma_5": talib.SMA(c, 5)}),
    ("ema", {"period": 20}, lambda h, l, c, v: {"ema_20": talib.EMA(c, 20)}),
    ("ema", {"period": 50}, lambda h, l, c, v: {"ema_50": talib.EMA(c, 50)}),
    ("wma", {"period": 20}, lambda h, l, c, v: {"wma_20": talib.WMA(c, 20)}),
    ("wma", {"period": 9}, lambda h, l, c, v: {"wma_9": talib.WMA(c, 9)}),
    ("rsi", {"period": 14}, lambda h, l, c, v: {"rsi_14": talib.RSI(c, 14)}),
    ("rsi", {"period": 2}, lambda h, l, c, v: {"rsi_2": talib.RSI(c, 2)}),
    (
        "macd",
        {"fast": 12, "slow": 26, "signal": 9},
        lambda h, l, c, v: _named(("macd", "macd_signal", "macd_hist"), talib.MACD(c, 12, 26, 9)),
    ),
    (
        "macd",
        {"fast": 5, "slow": 35, "signal": 5},
        lambda h, l, c, v: _named(("macd", "macd_signal", "macd_hist"), talib.MACD(c, 5, 35, 5)),
    ),
    (
        "bbands",
        {"period": 20, "nbdev_up": 2.0, "nbdev_dn": 2.0},
        lambda h, l, c, v: _named(("bb_upper_20", "bb_middle_20", "bb_lower_20"), talib.BBANDS(c, 20, 2.0, 2.0)),
    ),
    (
        "bbands",
        {"period": 10, "nbdev_up": 1.5, "nbdev_dn": 2.5},
        lambda h, l, c, v: _named(("bb_upper_10", "bb_middle_10", "bb_lower_10"), talib.BBANDS(c, 10, 1.5, 2.5)),
    ),
    ("atr", {"period": 14}, lambda h, l, c, v: {"atr_14": talib.ATR(h, l, c, 14)}),
    ("atr", {"period": 5}, lambda h, l, c, v: {"atr_5": talib.ATR(h, l, c, 5)}),
    ("natr", {"period": 14}, lambda h, l, c, v: {"natr_14": talib.NATR(h, l, c, 14)}),
    ("adx", {"period": 14}, lambda h, l, c, v: {"adx_14": talib.ADX(h, l, c, 14)}),
    ("adx", {"period": 7}, lambda h, l, c, v: {"adx_7": talib.ADX(h, l, c, 7)}),
    ("cci", {"period": 14}, lambda h, l, c, v: {"cci_14": talib.CCI(h, l, c, 14)}),
    ("cci", {"period": 20}, lambda h, l, c, v: {"cci_20": talib.CCI(h, l, c, 20)}),
    ("mfi", {"period": 14}, lambda h, l, c, v: {"mfi_14": talib.MFI(h, l, c, v, 14)}),
    ("mfi", {"period": 10}, lambda h, l, c, v: {"mfi_10": talib.MFI(h, l, c, v, 10)}),
    ("roc", {"period": 10}, lambda h, l, c, v: {"roc_10": talib.ROC(c, 10)}),
    ("roc", {"period": 1}, lambda h, l, c, v: {"roc_1": talib.ROC(c, 1)}),
    (
        "stoch",
        {"fastk_period": 5, "slowk_period": 3, "slowd_period": 3},
        lambda h, l, c, v: _named(("stoch_k", "stoch_d"), talib.STOCH(h, l, c, 5, 3, 0, 3, 0)),
    ),
    (
        "stoch",
        {"fastk_period": 14, "slowk_period": 3, "slowd_period": 5},
        lambda h, l, c, v: _named(("stoch_k", "stoch_d"), talib.STOCH(h, l, c, 14, 3, 0, 5, 0)),
    ),
    ("williams_r", {"period": 14}, lambda h, l, c, v: {"williams_r_14": talib.WILLR(h, l, c, 14)}),
    ("williams_r", {"period": 5}, lambda h, l, c, v: {"williams_r_5": talib.WILLR(h, l, c, 5)}),
    ("obv", {}, lambda h, l, c, v: {"obv": talib.OBV(c, v)}),
]

TALIB_BUILTINS = frozenset(name for name, _, _ in TALIB_CASES)


def case_id(case: tuple[str, dict[str, Any], Reference]) -> str:
    """Readable pytest id: ``rsi-period=14``."""
    name, params, _ = case
    return "-".join([name, *(f"{key}={value}" for key, value in params.items())])


def reference_columns(case: tuple[str, dict[str, Any], Reference], bars: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TA-Lib's output for one symbol's bars (float arrays keyed by column name)."""
    _, _, reference = case
    return reference(bars["high"], bars["low"], bars["close"], bars["volume"])

"""Independent references for the spec 003 features: each written formula, computed with pandas.

Every function takes ONE symbol's bar frame (columns ts/open/high/low/close/volume, optionally vwap)
and returns ``{output column: float array}``. They follow the formulas written in the built-ins'
docstrings (and spec 003), deliberately with pandas rolling windows rather than the library's
block-array code, so an error in either shows up as a mismatch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import talib


def _ratio(numerator: pd.Series, denominator: pd.Series, zero_value: float) -> pd.Series:
    out = numerator / denominator
    return out.where(denominator != 0, zero_value).where(numerator.notna() & denominator.notna())


def _log_returns(close: pd.Series, periods: int) -> pd.Series:
    return np.log(close / close.shift(periods))


def log_return(bars: pd.DataFrame, period: int = 1) -> dict[str, np.ndarray]:
    return {f"log_return_{period}": _log_returns(bars["close"], period).to_numpy()}


def volume_change(bars: pd.DataFrame, period: int = 1) -> dict[str, np.ndarray]:
    volume = bars["volume"].astype(float)
    change = _ratio(volume, volume.shift(period), np.nan) - 1.0
    return {f"volume_change_{period}": change.to_numpy()}


def return_z_score(bars: pd.DataFrame, period: int = 20) -> dict[str, np.ndarray]:
    r = _log_returns(bars["close"], 1)
    z = _ratio(r - r.rolling(period).mean(), r.rolling(period).std(ddof=1), np.nan)
    return {f"return_z_score_{period}": z.to_numpy()}


def vol_ratio(bars: pd.DataFrame, period: int = 60) -> dict[str, np.ndarray]:
    volume = bars["volume"].astype(float)
    return {f"vol_ratio_{period}": _ratio(volume, volume.rolling(period).mean(), np.nan).to_numpy()}


def _true_range(bars: pd.DataFrame) -> pd.Series:
    previous = bars["close"].shift(1)
    parts = pd.concat([bars["high"] - bars["low"], (bars["high"] - previous).abs(), (bars["low"] - previous).abs()], axis=1)
    return parts.max(axis=1, skipna=False)


def atr_ratio(bars: pd.DataFrame, period: int = 15) -> dict[str, np.ndarray]:
    h, l, c = (bars[col].to_numpy(float) for col in ("high", "low", "close"))  # noqa: E741
    atr = pd.Series(talib.ATR(h, l, c, period), index=bars.index)
    return {f"atr_ratio_{period}": _ratio(_true_range(bars), atr, np.nan).to_numpy()}


def amihud_illiquidity(bars: pd.DataFrame, period: int = 20, scale: float = 1e6) -> dict[str, np.ndarray]:
    close, volume = bars["close"], bars["volume"].astype(float)
    dollar_volume = close * volume
    impact = ((close / close.shift(1) - 1.0).abs() / dollar_volume).where(dollar_volume > 0)
    mean = impact.rolling(period, min_periods=1).mean() * scale
    mean.iloc[:period] = np.nan  # the window's first return needs the bar before it
    return {f"amihud_illiquidity_{period}": mean.to_numpy()}


def ibs(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"ibs": _ratio(bars["close"] - bars["low"], bars["high"] - bars["low"], 0.5).to_numpy()}


def parkinson_vol(bars: pd.DataFrame, period: int = 20) -> dict[str, np.ndarray]:
    squared = np.log(bars["high"] / bars["low"]) ** 2
    return {f"parkinson_vol_{period}": np.sqrt(squared.rolling(period).mean() / (4.0 * math.log(2.0))).to_numpy()}


def efficiency_ratio(bars: pd.DataFrame, period: int = 10) -> dict[str, np.ndarray]:
    close = bars["close"]
    net = (close - close.shift(period)).abs()
    path = close.diff().abs().rolling(period).sum()
    return {f"efficiency_ratio_{period}": _ratio(net, path, 0.0).to_numpy()}


def dist_vwap(bars: pd.DataFrame, period: int = 20) -> dict[str, np.ndarray]:
    price = bars["vwap"] if "vwap" in bars else (bars["high"] + bars["low"] + bars["close"]) / 3.0
    volume = bars["volume"].astype(float)
    vwap = _ratio((price * volume).rolling(period).sum(), volume.rolling(period).sum(), np.nan)
    return {f"dist_vwap_{period}": (bars["close"] / vwap - 1.0).to_numpy()}


def intraday_intensity(bars: pd.DataFrame, period: int = 20) -> dict[str, np.ndarray]:
    h, l, c = bars["high"], bars["low"], bars["close"]  # noqa: E741
    volume = bars["volume"].astype(float)
    position = _ratio(2.0 * c - h - l, h - l, 0.0)
    value = _ratio((position * volume).rolling(period).sum(), volume.rolling(period).sum(), np.nan)
    return {f"intraday_intensity_{period}": value.to_numpy()}


def vol_adj_mom(bars: pd.DataFrame, period: int = 20) -> dict[str, np.ndarray]:
    momentum = _log_returns(bars["close"], period)
    spread = _log_returns(bars["close"], 1).rolling(period).std(ddof=1) * math.sqrt(period)
    return {f"vol_adj_mom_{period}": _ratio(momentum, spread, np.nan).to_numpy()}


def _wall_clock(bars: pd.DataFrame, timezone: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(bars["ts"], utc=True)).tz_convert(timezone)


def time_of_day(bars: pd.DataFrame, timezone: str = "UTC") -> dict[str, np.ndarray]:
    wall = _wall_clock(bars, timezone)
    minutes = (wall.hour * 60 + wall.minute).to_numpy(float)
    return {"time_sin": np.sin(2 * np.pi * minutes / 1440), "time_cos": np.cos(2 * np.pi * minutes / 1440)}


def day_of_week(bars: pd.DataFrame, timezone: str = "UTC") -> dict[str, np.ndarray]:
    wall = _wall_clock(bars, timezone) if "ts" in bars else pd.DatetimeIndex(pd.to_datetime(bars["date"]))
    day = wall.dayofweek.to_numpy(float)
    return {"day_of_week_sin": np.sin(2 * np.pi * day / 7), "day_of_week_cos": np.cos(2 * np.pi * day / 7)}


SPEC003_REFERENCES: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "log_return": log_return,
    "volume_change": volume_change,
    "return_z_score": return_z_score,
    "vol_ratio": vol_ratio,
    "atr_ratio": atr_ratio,
    "amihud_illiquidity": amihud_illiquidity,
    "ibs": ibs,
    "parkinson_vol": parkinson_vol,
    "efficiency_ratio": efficiency_ratio,
    "dist_vwap": dist_vwap,
    "intraday_intensity": intraday_intensity,
    "vol_adj_mom": vol_adj_mom,
    "time_of_day": time_of_day,
    "day_of_week": day_of_week,
}

SPEC003_CASES: list[tuple[str, dict[str, Any]]] = [
    ("log_return", {"period": 1}),
    ("log_return", {"period": 5}),
    ("volume_change", {"period": 1}),
    ("volume_change", {"period": 3}),
    ("return_z_score", {"period": 20}),
    ("vol_ratio", {"period": 60}),
    ("vol_ratio", {"period": 5}),
    ("atr_ratio", {"period": 15}),
    ("amihud_illiquidity", {"period": 20}),
    ("amihud_illiquidity", {"period": 5, "scale": 1.0}),
    ("ibs", {}),
    ("parkinson_vol", {"period": 20}),
    ("efficiency_ratio", {"period": 10}),
    ("dist_vwap", {"period": 20}),
    ("intraday_intensity", {"period": 20}),
    ("vol_adj_mom", {"period": 20}),
    ("time_of_day", {"timezone": "America/New_York"}),
    ("time_of_day", {"timezone": "UTC"}),
    ("day_of_week", {"timezone": "America/New_York"}),
    ("day_of_week", {"timezone": "Asia/Tokyo"}),
]


def spec003_id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return "-".join([name, *(f"{key}={value}" for key, value in params.items())])


def spec003_expected(case: tuple[str, dict[str, Any]], bars: pd.DataFrame) -> dict[str, np.ndarray]:
    """The written formula of ``case`` on one symbol's bars."""
    name, params = case
    return SPEC003_REFERENCES[name](bars.reset_index(drop=True), **params)

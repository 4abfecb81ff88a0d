"""Cyclical calendar encodings (spec 003): time of day and day of week as sin/cos pairs."""

from __future__ import annotations

import zoneinfo
from typing import ClassVar

import numpy as np

from trademl.features.indicators.base import BarIndicator
from trademl.features.indicators.panel import BarBlock, BarPanel

_NS_PER_MINUTE = 60 * 1_000_000_000
_NS_PER_DAY = 1440 * _NS_PER_MINUTE
_MINUTES_PER_DAY = 1440
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _check_timezone(timezone: str) -> str:
    if not isinstance(timezone, str) or not timezone:
        raise ValueError(f"timezone must be an IANA zone name such as 'UTC', got {timezone!r}")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {timezone!r}") from exc
    return timezone


class TimeOfDay(BarIndicator):
    """Minute of day m (0..1439, wall clock in ``timezone``) as sin/cos(2*pi*m/1440).

    Needs intraday timestamps (a ``ts`` column or a DatetimeIndex); a date-only frame is rejected.
    """

    name: ClassVar[str] = "time_of_day"
    price_degree: ClassVar[int | None] = 0

    def __init__(self, *, timezone: str = "UTC") -> None:
        self.timezone = _check_timezone(timezone)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("time_sin", "time_cos")

    def check_panel(self, panel: BarPanel) -> None:
        if panel.time_kind not in ("ts", "index"):
            raise ValueError("time_of_day needs intraday timestamps: a 'ts' column or a DatetimeIndex")

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        panel = block.panel
        wall = panel.wall_clock_nanoseconds(self.timezone, who="time_of_day")
        minute = panel.derived(
            f"minute_of_day:{self.timezone}",
            lambda: ((wall // _NS_PER_MINUTE) % _MINUTES_PER_DAY).astype(np.float64),
        )
        angle = block.gather(f"minute_of_day:{self.timezone}", minute) * (2.0 * np.pi / _MINUTES_PER_DAY)
        return {"time_sin": np.sin(angle), "time_cos": np.cos(angle)}


class DayOfWeek(BarIndicator):
    """Day of week d (Monday = 0 .. Sunday = 6) as sin/cos(2*pi*d/7).

    From the ``date`` column as given, or from ``ts`` / a DatetimeIndex read as wall clock in ``timezone``.
    """

    name: ClassVar[str] = "day_of_week"
    price_degree: ClassVar[int | None] = 0

    def __init__(self, *, timezone: str = "UTC") -> None:
        self.timezone = _check_timezone(timezone)

    @property
    def output_columns(self) -> tuple[str, ...]:
        return ("day_of_week_sin", "day_of_week_cos")

    def check_panel(self, panel: BarPanel) -> None:
        panel.utc_nanoseconds(who="day_of_week")

    def compute(self, block: BarBlock) -> dict[str, np.ndarray]:
        panel = block.panel
        zone = "UTC" if panel.time_kind == "date" else self.timezone
        wall = panel.wall_clock_nanoseconds(zone, who="day_of_week")
        weekday = panel.derived(
            f"weekday:{zone}",
            lambda: ((wall // _NS_PER_DAY + _EPOCH_WEEKDAY) % 7).astype(np.float64),
        )
        angle = block.gather(f"weekday:{zone}", weekday) * (2.0 * np.pi / 7.0)
        return {"day_of_week_sin": np.sin(angle), "day_of_week_cos": np.cos(angle)}

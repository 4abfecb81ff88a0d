"""The session partitions: one key per XNYS trading day, derived from exchange_calendars."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

import dagster as dg

from trademl import calendar
from trademl.config import load_config

_NY = zoneinfo.ZoneInfo(calendar.EXCHANGE_TZ)


def build_session_partitions(start: str | None = None, end_offset: int | None = None) -> dg.TimeWindowPartitionsDefinition:
    """Weekday partitions in New York time minus XNYS weekday holidays: keys equal XNYS sessions."""
    cfg = load_config("partitions")["sessions"]
    start = start or cfg["start"]
    end_offset = cfg.get("end_offset", 1) if end_offset is None else end_offset
    last = calendar.all_sessions_index()[-1]
    exclusions = [
        dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=_NY)
        for day in calendar.weekday_holidays_for_partitions(start, last)
    ]
    return dg.TimeWindowPartitionsDefinition(
        start=start,
        fmt="%Y-%m-%d",
        cron_schedule="0 0 * * 1-5",
        timezone=calendar.EXCHANGE_TZ,
        end_offset=end_offset,
        exclusions=exclusions,
    )


@lru_cache(maxsize=1)
def session_partitions() -> dg.TimeWindowPartitionsDefinition:
    """The configured session partitions (configs/partitions.yml `sessions`), built on first use by
    the definitions, not at import (building them takes ~60 ms, so once per process)."""
    return build_session_partitions()

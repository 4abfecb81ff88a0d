"""The session partitions: one key per XNYS trading day, derived from exchange_calendars."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

import dagster as dg

from trademl import calendar
from trademl.config import config_snapshot, load_config

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



def session_partitions() -> dg.TimeWindowPartitionsDefinition:
    """The configured session partitions (configs/partitions.yml `sessions`): read when the
    definitions are built, not at import, and built once per configured (start, end_offset)."""
    cfg = config_snapshot("partitions")["sessions"]
    return _configured_partitions(str(cfg["start"]), int(cfg.get("end_offset", 1)))


@lru_cache(maxsize=8)
def _configured_partitions(start: str, end_offset: int) -> dg.TimeWindowPartitionsDefinition:
    return build_session_partitions(start=start, end_offset=end_offset)

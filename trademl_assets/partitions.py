"""The session partitions: one key per XNYS trading day, derived from exchange_calendars."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dagster as dg

from trademl import calendar
from trademl.config import config_value, typed_config

_NY = zoneinfo.ZoneInfo(calendar.EXCHANGE_TZ)


@dataclass(frozen=True)
class SessionPartitionSettings:
    """configs/partitions.yml ``sessions:``: the first partition key (an ISO session date; earlier
    history is ingested as BOOTSTRAP ranges) and Dagster's `end_offset` (1 = the current session is
    a partition too, so the forward schedule can target it)."""

    start: str
    end_offset: int = 1

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> SessionPartitionSettings:
        """Validate and build the settings from the ``sessions:`` mapping."""
        start = config_value(doc, "start", str, name="partitions", path="sessions")
        try:
            start = dt.date.fromisoformat(start).isoformat()
        except ValueError:
            raise ValueError(f"configs/partitions.yml sessions.start: expected a YYYY-MM-DD date, got {start!r}") from None
        end_offset = config_value(doc, "end_offset", int, name="partitions", path="sessions", default=cls.end_offset)
        if end_offset < 0:
            raise ValueError(f"configs/partitions.yml sessions.end_offset must be >= 0, got {end_offset}")
        return cls(start=start, end_offset=end_offset)


def build_session_partitions(start: str | None = None, end_offset: int | None = None) -> dg.TimeWindowPartitionsDefinition:
    """Weekday partitions in New York time minus XNYS weekday holidays: keys equal XNYS sessions."""
    cfg = typed_config(SessionPartitionSettings, "partitions", "sessions")
    start = start or cfg.start
    end_offset = cfg.end_offset if end_offset is None else end_offset
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

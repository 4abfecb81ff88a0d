"""The session partitions definition: its keys are exactly the XNYS sessions."""

from __future__ import annotations

import pandas as pd

from trademl import calendar
from trademl_assets.partitions import build_session_partitions, session_partitions


def test_partition_keys_equal_xnys_sessions_2010_to_2025():
    keys = session_partitions().get_partition_keys_in_range(
        __import__("dagster").PartitionKeyRange("2010-01-04", "2025-12-31")
    )
    expected = [d.strftime("%Y-%m-%d") for d in calendar.sessions("2010-01-04", "2025-12-31")]
    assert keys == expected


def test_weekday_holidays_are_not_partitions():
    keys = set(build_session_partitions(start="2024-01-02").get_partition_keys())
    for holiday in ("2024-01-15", "2024-07-04", "2024-11-28", "2024-12-25", "2025-01-09"):
        assert holiday not in keys  # MLK, Independence Day, Thanksgiving, Christmas, Carter day of mourning
    assert "2024-11-29" in keys  # the half day after Thanksgiving is a session


def test_partitions_start_on_configured_first_session():
    first = session_partitions().get_first_partition_key()
    assert first == "2010-01-04"
    assert calendar.is_session(pd.Timestamp(first))

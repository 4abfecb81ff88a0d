"""Every spec-000 label rejects malformed intraday input with a ValueError naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from labels_factory import bars

from trademl.labels import (
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
)

LABELS = [
    label_next_hour_direction,
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_pin_drift,
]
GOOD = bars("2024-03-07 14:30", [100.0, 101.0, 102.0, 103.0], step_minutes=30)


@pytest.mark.parametrize("label", LABELS)
def test_unsorted_timestamps_raise(label):
    with pytest.raises(ValueError, match="unsorted"):
        label(GOOD.iloc[[1, 0, 2, 3]].reset_index(drop=True))


@pytest.mark.parametrize("label", LABELS)
def test_duplicate_timestamps_raise(label):
    with pytest.raises(ValueError, match="duplicate"):
        label(GOOD.iloc[[0, 1, 1, 2]].reset_index(drop=True))


@pytest.mark.parametrize("label", LABELS)
def test_missing_close_column_raises(label):
    with pytest.raises(ValueError, match="missing required column"):
        label(GOOD.drop(columns="close"))


@pytest.mark.parametrize("label", LABELS)
def test_nan_only_close_raises(label):
    with pytest.raises(ValueError, match="NaN-only"):
        label(GOOD.assign(close=np.nan))


@pytest.mark.parametrize("label", LABELS)
def test_naive_timestamps_raise(label):
    with pytest.raises(ValueError, match="timezone-aware"):
        label(GOOD.assign(ts=GOOD["ts"].dt.tz_localize(None)))


@pytest.mark.parametrize("label", LABELS)
def test_empty_frame_raises(label):
    with pytest.raises(ValueError, match="empty"):
        label(GOOD.iloc[:0])


@pytest.mark.parametrize("label", LABELS)
def test_frame_without_any_regular_hours_bar_raises(label):
    with pytest.raises(ValueError, match="regular-hours"):
        label(bars("2024-03-07 10:00", [1.0, 2.0, 3.0]))  # 05:00 ET: pre-market only


@pytest.mark.parametrize("label", LABELS)
def test_non_dataframe_input_raises(label):
    with pytest.raises(ValueError, match="DataFrame"):
        label(GOOD.to_dict())


def test_timestamps_in_another_time_zone_are_converted_not_rejected():
    eastern = GOOD.assign(ts=GOOD["ts"].dt.tz_convert("America/New_York"))
    pd.testing.assert_series_equal(
        label_next_hour_direction(eastern, fixed_bp=0)["ret_next_hour"],
        label_next_hour_direction(GOOD, fixed_bp=0)["ret_next_hour"],
    )

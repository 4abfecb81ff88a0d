"""label_next_hour_direction: one-hour forward direction with a flat band, calendar-aware."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from labels_factory import bars, row_at, stack

from trademl.labels import label_next_hour_direction

# 2024-03-07 is a regular EST session: 09:30-16:00 ET = 14:30-21:00 UTC.
HOURLY = bars("2024-03-07 14:30", [100, 101, 100, 100, 102, 101, 103], step_minutes=60)


def test_hourly_bars_get_the_direction_of_the_next_bars_return():
    out = label_next_hour_direction(HOURLY, fixed_bp=50)
    np.testing.assert_allclose(
        out["ret_next_hour"], [0.01, -1 / 101, 0.0, 0.02, -1 / 102, 2 / 101, np.nan], rtol=1e-12
    )
    assert out["y"].tolist()[:6] == ["UP", "DOWN", "FLAT", "UP", "DOWN", "UP"]
    assert pd.isna(out["y"].iloc[6])


def test_last_hourly_bar_of_the_session_has_no_next_hour_and_no_synthetic_fallback():
    out = label_next_hour_direction(HOURLY, fixed_bp=50)
    assert pd.isna(out["y"].iloc[6]) and pd.isna(out["y_syn"].iloc[6])
    assert out["y_syn"].tolist()[:6] == out["y"].tolist()[:6]


def test_return_exactly_on_the_band_is_flat():
    # 128 -> 129 is exactly +0.78125% and fixed_bp=78.125 is exactly that band
    out = label_next_hour_direction(
        bars("2024-03-07 14:30", [128, 129, 127, 126], step_minutes=60), fixed_bp=78.125
    )
    assert out["ret_next_hour"].iloc[0] == 0.0078125
    assert out["y"].tolist()[:3] == ["FLAT", "DOWN", "DOWN"]


def _half_day_and_eve():
    # 2024-11-27: regular session 14:30-21:00 UTC; 2024-11-29 (after Thanksgiving): half day 14:30-18:00 UTC.
    eve = bars("2024-11-27 14:30", 100 + 0.01 * np.arange(390))
    half = bars("2024-11-29 14:30", 200 + 0.01 * np.arange(210))
    post = bars("2024-11-29 18:00", [999.0] * 10)  # post-market prints after the 13:00 ET close
    return stack(eve, half, post)


def test_half_day_next_hour_labels_stop_one_hour_before_the_1300_close():
    out = label_next_hour_direction(_half_day_and_eve(), fixed_bp=0)
    r = row_at(out, "2024-11-29 16:59")  # 11:59 ET -> 12:59 ET bar is the session's last
    assert r["ret_next_hour"] == pytest.approx((200 + 0.01 * 209) / (200 + 0.01 * 149) - 1, rel=1e-12)
    assert np.isnan(row_at(out, "2024-11-29 17:00")["ret_next_hour"])  # 12:00 ET + 1h = the close
    assert row_at(out, "2024-11-27 17:00")["y"] == "UP"  # the same UTC minute on a full day is labelled


def test_half_day_last_hour_falls_back_to_the_return_to_the_1300_close_in_y_syn():
    out = label_next_hour_direction(_half_day_and_eve(), fixed_bp=0)
    r = row_at(out, "2024-11-29 17:30")
    assert pd.isna(r["y"])
    assert r["ret_next_hour_syn"] == pytest.approx((200 + 0.01 * 209) / (200 + 0.01 * 180) - 1, rel=1e-12)
    assert r["y_syn"] == "UP"
    assert pd.isna(row_at(out, "2024-11-29 17:59")["y_syn"])  # last regular bar: nothing ahead


def test_post_market_bars_are_neither_labelled_nor_used_as_forward_prices():
    out = label_next_hour_direction(_half_day_and_eve(), fixed_bp=0)
    post = out[out["ts"] >= pd.Timestamp("2024-11-29 18:00", tz="UTC")]
    assert post["ret_next_hour"].isna().all() and post["y_syn"].isna().all()
    assert out["ret_next_hour_syn"].max() < 0.05  # the 999 prints never enter a return


def _dst_frame():
    # Friday 2024-03-08 is EST (14:30-21:00 UTC); Monday 2024-03-11 is EDT (13:30-20:00 UTC).
    fri = bars("2024-03-08 14:00", 100 + 0.01 * np.arange(30 + 390))  # 30 pre-market minutes first
    mon = bars("2024-03-11 13:00", 100 + 0.01 * np.arange(30 + 390))
    return stack(fri, mon)


def test_dst_switch_moves_the_regular_session_by_one_hour_in_utc():
    out = label_next_hour_direction(_dst_frame(), fixed_bp=0)
    assert np.isnan(row_at(out, "2024-03-08 14:29")["ret_next_hour"])  # 09:29 EST: pre-market
    assert np.isnan(row_at(out, "2024-03-11 13:29")["ret_next_hour"])  # 09:29 EDT: pre-market
    assert row_at(out, "2024-03-08 14:30")["y"] == "UP"
    assert row_at(out, "2024-03-11 13:30")["y"] == "UP"  # 09:30 EDT: the open


def test_dst_switch_moves_the_last_labelled_minute_from_1959_to_1859_utc():
    out = label_next_hour_direction(_dst_frame(), fixed_bp=0)
    assert row_at(out, "2024-03-08 19:59")["y"] == "UP"
    assert pd.isna(row_at(out, "2024-03-08 20:00")["y"])
    assert row_at(out, "2024-03-11 18:59")["y"] == "UP"
    assert pd.isna(row_at(out, "2024-03-11 19:00")["y"])


def test_sparse_minutes_use_the_last_bar_at_or_before_the_hour_mark():
    frame = bars("2024-03-07 14:30", [100.0] * 200)
    frame = frame[
        ~frame["ts"].isin(pd.date_range("2024-03-07 15:28", "2024-03-07 15:30", freq="1min", tz="UTC"))
    ]
    frame.loc[frame["ts"] == pd.Timestamp("2024-03-07 15:27", tz="UTC"), "close"] = 103.0
    out = label_next_hour_direction(frame.reset_index(drop=True), fixed_bp=0)
    # 14:30 + 1h = 15:30 has no bar: the last trade before it (15:27 bar) is the price an hour later.
    assert row_at(out, "2024-03-07 14:30")["ret_next_hour"] == pytest.approx(0.03)


def test_a_later_day_does_not_prove_the_end_of_a_truncated_session():
    # 2024-03-07 data stop at 15:14 UTC; bars on 03-08 exist, but they do not show that 03-07
    # had no trade after 15:14, so the last price is not carried forward.
    frame = stack(
        bars("2024-03-07 14:30", [100.0 + i for i in range(45)]), bars("2024-03-08 14:30", [1.0] * 5)
    )
    out = label_next_hour_direction(frame, fixed_bp=0)
    assert out["ret_next_hour"].iloc[:45].isna().all()


def test_data_ending_before_the_hour_mark_gives_nan_not_the_last_price():
    frame = bars("2024-03-07 14:30", [100.0 + i for i in range(45)])  # data stops at 15:14 UTC
    out = label_next_hour_direction(frame, fixed_bp=0)
    assert out["ret_next_hour"].isna().all()
    assert out["y_syn"].isna().all()


def _two_hourly_sessions():
    day1 = bars("2024-03-05 14:30", [100, 101, 99.99, 102.9897, 100.9299, 100.9299, 101.5], step_minutes=60)
    day2 = bars("2024-03-06 14:30", [100, 100.05, 101.5, 101.5, 99.0, 99.0, 99.5], step_minutes=60)
    return stack(day1, day2)


def test_sigma_band_is_k_times_the_std_of_the_previous_sessions_hourly_returns():
    frame = _two_hourly_sessions()
    out = label_next_hour_direction(frame, k_sigma=0.3)
    day1_rets = (
        np.array([101, 99.99, 102.9897, 100.9299, 100.9299, 101.5])
        / np.array([100, 101, 99.99, 102.9897, 100.9299, 100.9299])
        - 1
    )
    band = 0.3 * np.std(day1_rets, ddof=1)
    day2 = out.iloc[7:]
    np.testing.assert_allclose(day2["flat_band"], band, rtol=1e-9)
    assert out["flat_band"].iloc[:7].isna().all() and out["y"].iloc[:7].isna().all()
    day2_rets = day2["ret_next_hour"].to_numpy()[:6]
    want = np.where(day2_rets > band, "UP", np.where(day2_rets < -band, "DOWN", "FLAT"))
    assert day2["y"].tolist()[:6] == want.tolist()
    assert "FLAT" in want and "UP" in want and "DOWN" in want


def test_sigma_window_uses_only_the_last_sigma_sessions_sessions():
    quiet = bars("2024-03-04 14:30", [100, 100.1, 100, 100.1, 100, 100.1, 100], step_minutes=60)
    frame = stack(quiet, _two_hourly_sessions())
    wide_window = label_next_hour_direction(frame, k_sigma=1.0, sigma_sessions=5)
    one_session = label_next_hour_direction(frame, k_sigma=1.0, sigma_sessions=1)
    day3 = slice(14, 21)
    assert one_session["flat_band"].iloc[day3].iloc[0] != wide_window["flat_band"].iloc[day3].iloc[0]
    np.testing.assert_allclose(
        one_session["flat_band"].iloc[day3],
        label_next_hour_direction(_two_hourly_sessions(), k_sigma=1.0)["flat_band"].iloc[7:],
    )


def test_symbols_are_labelled_independently():
    a = bars("2024-03-07 14:30", [100, 101, 102], step_minutes=60, symbol="A")
    b = bars("2024-03-07 14:30", [50, 40, 30], step_minutes=60, symbol="B")
    out = label_next_hour_direction(
        stack(a, b).sort_values("ts", kind="stable").reset_index(drop=True), fixed_bp=0
    )
    got = out.set_index(["symbol", out["ts"].dt.strftime("%H:%M")])["y"]
    assert got[("A", "14:30")] == "UP" and got[("B", "14:30")] == "DOWN"


def test_output_is_a_copy_with_the_label_columns_added():
    out = label_next_hour_direction(HOURLY, fixed_bp=5)
    assert list(out.columns) == [
        *HOURLY.columns,
        "ret_next_hour",
        "ret_next_hour_syn",
        "flat_band",
        "y",
        "y_syn",
    ]
    assert "y" not in HOURLY.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"k_sigma": -0.1}, "k_sigma"), ({"fixed_bp": -5}, "fixed_bp"), ({"sigma_sessions": 0}, ">= 1")],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        label_next_hour_direction(HOURLY, **kwargs)


def test_naive_timestamps_raise():
    frame = HOURLY.assign(ts=HOURLY["ts"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        label_next_hour_direction(frame)


def test_unsorted_timestamps_raise():
    with pytest.raises(ValueError, match="unsorted"):
        label_next_hour_direction(HOURLY.iloc[[0, 2, 1, 3]].reset_index(drop=True))


def test_missing_close_column_raises():
    with pytest.raises(ValueError, match="missing required column"):
        label_next_hour_direction(HOURLY.drop(columns="close"))


def test_nan_only_close_raises():
    with pytest.raises(ValueError, match="NaN-only"):
        label_next_hour_direction(HOURLY.assign(close=np.nan))

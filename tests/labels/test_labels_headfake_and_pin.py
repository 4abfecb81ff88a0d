"""label_headfake_reversal and label_pin_drift: per-session 0/1 labels in ATR units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from labels_factory import bars, stack

from trademl.labels import label_headfake_reversal, label_pin_drift


def hourly_day(day: str, open_price: float, first_close: float, final_close: float, **cols) -> pd.DataFrame:
    """Seven hourly bars of an EST session (14:30..20:30 UTC): open, close at 10:30 ET, flat, final close."""
    closes = [first_close] * 6 + [final_close]
    return bars(f"{day} 14:30", closes, step_minutes=60, open=[open_price] + closes[:-1], **cols)


def per_day(out: pd.DataFrame, column: str) -> pd.Series:
    """The (single) value of `column` on each UTC date of the frame."""
    by_day = out.groupby(out["ts"].dt.strftime("%Y-%m-%d"))[column]
    assert (by_day.nunique(dropna=False) == 1).all(), "a session label must be the same on all its bars"
    return by_day.first()


# ------------------------------------------------------------------ head-fake reversal


HEADFAKE_WEEK = stack(
    hourly_day("2024-03-04", 100, 101, 100.25, atr_14=1.0),  # up 1 ATR, back 0.75 ATR: head fake
    hourly_day("2024-03-05", 100, 101, 100.75, atr_14=1.0),  # reversal only 0.25 ATR
    hourly_day("2024-03-06", 100, 101, 102.0, atr_14=1.0),  # continuation
    hourly_day("2024-03-07", 100, 100.25, 99.0, atr_14=1.0),  # opening move only 0.25 ATR
    hourly_day("2024-03-08", 100, 99.0, 99.75, atr_14=1.0),  # down 1 ATR, back up 0.75 ATR: head fake
    hourly_day("2024-03-11", 100, 100.5, 100.0, atr_14=1.0),  # exactly 0.5 ATR each way (EDT day, see below)
)


def test_headfake_labels_hand_computed_week():
    frame = HEADFAKE_WEEK.copy()
    # 2024-03-11 is after the DST switch: the session is 13:30-20:00 UTC, so shift that day by one hour.
    monday = frame["ts"] >= pd.Timestamp("2024-03-11", tz="UTC")
    frame.loc[monday, "ts"] = frame.loc[monday, "ts"] - pd.Timedelta(hours=1)
    out = label_headfake_reversal(frame)
    assert per_day(out, "y").tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    np.testing.assert_allclose(per_day(out, "open_move_atr"), [1.0, 1.0, 1.0, 0.25, -1.0, 0.5])
    np.testing.assert_allclose(per_day(out, "reversal_move_atr"), [-0.75, -0.25, 1.0, -1.25, 0.75, -0.5])


def test_headfake_y_syn_repeats_y():
    out = label_headfake_reversal(HEADFAKE_WEEK.iloc[:14])
    pd.testing.assert_series_equal(out["y_syn"], out["y"], check_names=False)


def test_headfake_rolling_std_column_is_the_atr_proxy_when_atr_14_is_absent():
    frame = HEADFAKE_WEEK.iloc[:7].rename(columns={"atr_14": "rolling_std_20"}).assign(rolling_std_20=4.0)
    out = label_headfake_reversal(frame)
    assert out["open_move_atr"].iloc[0] == 0.25 and out["y"].iloc[0] == 0.0


def test_headfake_window_ending_after_a_half_day_close_is_nan():
    # 13:30 ET is after the 2024-11-29 13:00 close but inside the 2024-11-27 session.
    eve = bars("2024-11-27 14:30", [101.0] * 6 + [100.0], step_minutes=60, open=100.0, atr_14=1.0)
    half = bars("2024-11-29 14:30", [101.0] * 3 + [100.0], step_minutes=60, open=100.0, atr_14=1.0)
    out = label_headfake_reversal(stack(eve, half), window_end="13:30")
    assert per_day(out, "y").tolist()[0] in (0.0, 1.0)
    assert np.isnan(per_day(out, "y").tolist()[1])


FEB_SESSIONS = [  # 2024-02-19 is Presidents' Day
    "2024-02-01",
    "2024-02-02",
    "2024-02-05",
    "2024-02-06",
    "2024-02-07",
    "2024-02-08",
    "2024-02-09",
    "2024-02-12",
    "2024-02-13",
    "2024-02-14",
    "2024-02-15",
    "2024-02-16",
    "2024-02-20",
    "2024-02-21",
    "2024-02-22",
    "2024-02-23",
]


def _fallback_atr_month() -> pd.DataFrame:
    days = []
    for i, day in enumerate(FEB_SESSIONS):
        level = 110.0 if i == 14 else 100.0  # 02-22 gaps up: true range 111 - 100 = 11
        closes = [level] * 7
        if i == 15:
            closes = [101.0] * 6 + [100.0]  # 02-23: up 1 then back to 100 after the open at 100
        opens = [100.0 if i == 15 else level] + closes[:-1]
        highs = np.array(closes) + 1.0
        lows = np.array(closes) - 1.0
        days.append(bars(f"{day} 14:30", closes, step_minutes=60, open=opens, high=highs, low=lows))
    return stack(*days)


def test_headfake_without_atr_column_uses_the_mean_true_range_of_the_previous_14_sessions():
    out = label_headfake_reversal(_fallback_atr_month())
    y = per_day(out, "y")
    assert y.iloc[:14].isna().all()  # fewer than 14 prior sessions
    atr_feb23 = (13 * 2.0 + 11.0) / 14  # sessions 02-02..02-22: thirteen ranges of 2, the gap day 11
    assert per_day(out, "open_move_atr").iloc[15] == pytest.approx(1.0 / atr_feb23, rel=1e-12)
    assert per_day(out, "open_move_atr").iloc[14] == pytest.approx(0.0)  # 02-22: ATR 2, no opening move


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_end": "09:00"}, "after open_time"),
        ({"open_time": "9h30"}, "HH:MM"),
        ({"min_open_move_atr": -1}, "min_open_move_atr"),
        ({"tz": "Asia/Tokyo"}, "XNYS time zone"),
    ],
)
def test_headfake_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        label_headfake_reversal(HEADFAKE_WEEK, **kwargs)


def test_headfake_rejects_daily_frames():
    daily = pd.DataFrame({"date": pd.to_datetime(["2024-03-04"]), "close": [1.0]})
    with pytest.raises(ValueError, match="missing required column"):
        label_headfake_reversal(daily)


# ------------------------------------------------------------------ pin drift


def half_hour_day(
    day: str, start_utc: str, n: int, price_at_drift: float, final: float, drift_bar: int, **cols
):
    """n half-hour bars; bar `drift_bar` closes at drift start at `price_at_drift`, then drifts to `final`."""
    closes = [price_at_drift] * n
    closes[drift_bar + 1 :] = np.linspace(price_at_drift, final, n - drift_bar)[1:]
    return bars(f"{day} {start_utc}", closes, step_minutes=30, **cols)


@pytest.mark.parametrize(
    ("p_start", "final", "expected", "pull_atr"),
    [
        (449.0, 449.5, 1.0, 0.2),  # pulled 0.5 = exactly 0.2 x 2.5 ATR: counts
        (449.0, 449.25, 0.0, 0.1),  # pulled 0.25 < 0.5
        (449.0, 451.0, 0.0, 0.0),  # overshot the pin: as far away as before
        (449.0, 448.0, 0.0, -0.4),  # drifted away
        (451.0, 450.25, 1.0, 0.3),  # pulled down toward the pin from above
    ],
)
def test_pin_drift_hand_computed_cases(p_start, final, expected, pull_atr):
    # 2024-03-07 (EST): 30-minute bars 14:30..20:30 UTC; the 19:30 bar closes at 15:00 ET = drift start.
    frame = half_hour_day(
        "2024-03-07", "14:30", 13, p_start, final, drift_bar=10, oi_peak_strike=450.0, atr_14=2.5
    )
    out = label_pin_drift(frame)
    assert out["y"].unique().tolist() == [expected]
    assert out["pin_pull_atr"].iloc[0] == pytest.approx(pull_atr, abs=1e-12)


def test_pin_strike_is_read_when_the_drift_starts_not_later():
    frame = half_hour_day(
        "2024-03-07", "14:30", 13, 449.0, 449.5, drift_bar=10, oi_peak_strike=450.0, atr_14=2.5
    )
    frame.loc[11:, "oi_peak_strike"] = 449.5  # peak moves to where price ends up: not known at 15:00
    out = label_pin_drift(frame)
    assert out["pin_strike"].iloc[0] == 450.0 and out["y"].iloc[0] == 1.0


def test_pin_gamma_peak_column_is_used_when_oi_peak_is_absent():
    frame = half_hour_day(
        "2024-03-07", "14:30", 13, 449.0, 449.5, drift_bar=10, gamma_peak_strike=448.0, atr_14=2.5
    )
    out = label_pin_drift(frame)
    assert out["pin_strike"].iloc[0] == 448.0 and out["y"].iloc[0] == 0.0


def test_pin_drift_on_a_half_day_is_the_last_hour_before_the_1300_close():
    # 2024-11-29: 30-min bars 14:30..17:30 UTC; drift starts 12:00 ET = 17:00 UTC (when the 16:30 bar closes).
    frame = half_hour_day(
        "2024-11-29", "14:30", 7, 449.0, 449.6, drift_bar=4, oi_peak_strike=450.0, atr_14=2.5
    )
    out = label_pin_drift(frame)
    assert out["pin_pull_atr"].iloc[0] == pytest.approx(0.6 / 2.5, rel=1e-9)
    assert out["y"].iloc[0] == 1.0


def test_pin_drift_window_that_would_start_before_a_half_day_open_is_nan():
    # a 10:00 ET start is 6 h before the close: on the 13:00 half day that is 07:00 ET, before the open
    frame = half_hour_day(
        "2024-11-29", "14:30", 7, 449.0, 449.6, drift_bar=4, oi_peak_strike=450.0, atr_14=2.5
    )
    assert label_pin_drift(frame, drift_start_time="10:00")["y"].isna().all()
    assert label_pin_drift(frame, drift_start_time="15:00")["y"].notna().all()


def test_pin_without_peak_columns_uses_the_nearest_strike_on_the_grid():
    frame = half_hour_day("2024-03-07", "14:30", 13, 449.7, 449.95, drift_bar=10, atr_14=1.0)
    out = label_pin_drift(frame)
    assert out["pin_strike"].iloc[0] == 450.0 and out["y"].iloc[0] == 1.0
    assert label_pin_drift(frame, strike_step=0.5)["pin_strike"].iloc[0] == 449.5


def test_pin_drift_is_nan_when_the_session_close_is_not_in_the_data():
    frame = half_hour_day(
        "2024-03-07", "14:30", 12, 449.0, 449.5, drift_bar=10, oi_peak_strike=450.0, atr_14=2.5
    )
    assert label_pin_drift(frame)["y"].isna().all()  # last bar 20:00 UTC: the 20:30 slot is missing


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drift_start_time": "16:30"}, "within 09:30..16:00"),
        ({"drift_start_time": "08:00"}, "within 09:30..16:00"),
        ({"min_pull_atr": -0.2}, "min_pull_atr"),
        ({"strike_step": 0}, "strike_step"),
    ],
)
def test_pin_bad_parameters_raise(kwargs, message):
    frame = half_hour_day("2024-03-07", "14:30", 13, 449.0, 449.5, drift_bar=10, atr_14=2.5)
    with pytest.raises(ValueError, match=message):
        label_pin_drift(frame, **kwargs)

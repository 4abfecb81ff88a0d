"""label_close_to_open_direction and label_forward_return_days on daily and intraday frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from labels_factory import bars, row_at, stack

from trademl.labels import label_close_to_open_direction, label_forward_return_days


def daily(dates, opens, closes, symbol="AAA"):
    return pd.DataFrame({"symbol": symbol, "date": pd.to_datetime(dates), "open": opens, "close": closes})


JULY = ["2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"]


# ------------------------------------------------------------------ close to open, daily


def test_daily_overnight_return_is_next_sessions_open_over_todays_close():
    out = label_close_to_open_direction(daily(JULY, [10, 11, 12.1, 13], [10.5, 11.0, 12.5, 13.5]))
    np.testing.assert_allclose(out["ret_close_to_open"], [11 / 10.5 - 1, 0.1, 0.04, np.nan], rtol=1e-12)
    assert out["y"].tolist()[:3] == ["UP", "UP", "UP"]


def test_daily_overnight_after_the_july_third_half_day_skips_the_holiday_to_july_fifth():
    out = label_close_to_open_direction(daily(JULY, [10, 11, 12.1, 13], [10.5, 11.0, 12.5, 13.5]))
    assert list(out["next_session"]) == list(
        pd.to_datetime(["2024-07-03", "2024-07-05", "2024-07-08", "2024-07-09"])
    )


def test_daily_overnight_is_nan_when_the_symbol_has_no_bar_on_the_next_session():
    out = label_close_to_open_direction(daily(["2024-07-02", "2024-07-05"], [10, 11], [10, 11]))
    assert np.isnan(out["ret_close_to_open"].iloc[0])  # 07-03 missing: 07-05 is not "the next open"


def test_overnight_move_inside_the_band_is_flat():
    out = label_close_to_open_direction(daily(JULY[:2], [10, 10.004], [10, 10]), band=0.0005)
    assert out["y"].iloc[0] == "FLAT"


def test_daily_overnight_needs_an_open_column():
    with pytest.raises(ValueError, match="open"):
        label_close_to_open_direction(daily(JULY, [1, 1, 1, 1], [1, 1, 1, 1]).drop(columns="open"))


# ------------------------------------------------------------------ close to open, intraday


def _half_day_to_july_fifth(with_open=True):
    # 2024-07-03 half day: 09:30-13:00 EDT = 13:30-17:00 UTC; 07-04 holiday; 07-05 opens 13:30 UTC.
    closes = np.full(210, 100.0)
    closes[-1] = 102.0  # the 12:59 EDT bar: the half day's close
    cols = {"open": 100.0} if with_open else {}
    half = bars("2024-07-03 13:30", closes, **cols)
    post = bars("2024-07-03 17:00", [500.0] * 30, **cols)  # post-market prints after the 13:00 close
    fifth = bars(
        "2024-07-05 13:25",
        [300.0] * 5 + [104.0] * 60,
        **({"open": [300.0] * 5 + [103.0] * 60} if with_open else {}),
    )
    return stack(half, post, fifth)


def test_intraday_overnight_uses_the_half_day_1300_close_and_the_july_fifth_open():
    out = label_close_to_open_direction(_half_day_to_july_fifth())
    r = row_at(out, "2024-07-03 14:00")
    assert r["ret_close_to_open"] == pytest.approx(103 / 102 - 1, rel=1e-12)
    assert r["next_session"] == pd.Timestamp("2024-07-05")
    assert r["y"] == "UP"


def test_intraday_overnight_label_is_on_every_bar_of_the_session_date():
    out = label_close_to_open_direction(_half_day_to_july_fifth())
    day = out[out["ts"] < pd.Timestamp("2024-07-04", tz="UTC")]
    assert day["ret_close_to_open"].nunique() == 1 and day["ret_close_to_open"].notna().all()


def test_intraday_overnight_without_open_column_uses_the_first_bars_close():
    out = label_close_to_open_direction(_half_day_to_july_fifth(with_open=False))
    assert row_at(out, "2024-07-03 14:00")["ret_close_to_open"] == pytest.approx(104 / 102 - 1, rel=1e-12)


def test_intraday_overnight_is_nan_when_todays_session_is_not_final():
    frame = stack(bars("2024-07-02 13:30", [100.0] * 100), bars("2024-07-03 13:30", [101.0] * 10))
    out = label_close_to_open_direction(frame)
    assert out["ret_close_to_open"].isna().all()  # 07-02 stops at 15:09 UTC; 07-03 has no next session


# ------------------------------------------------------------------ forward N days


def test_daily_forward_days_is_close_n_sessions_later_and_classified_by_band():
    frame = daily(JULY, [1, 1, 1, 1], [100, 100.05, 103, 99])
    out = label_forward_return_days(frame, days=1, band=0.001)
    np.testing.assert_allclose(
        out["ret_fwd_1d"], [0.0005, 103 / 100.05 - 1, 99 / 103 - 1, np.nan], rtol=1e-12
    )
    assert out["y"].tolist()[:3] == ["FLAT", "UP", "DOWN"] and pd.isna(out["y"].iloc[3])


def test_forward_days_without_classification_puts_the_return_in_y():
    out = label_forward_return_days(daily(JULY, [1, 1, 1, 1], [100, 100.05, 103, 99]), days=2, classify=False)
    np.testing.assert_allclose(out["y"], [0.03, 99 / 100.05 - 1, np.nan, np.nan], rtol=1e-12)
    np.testing.assert_allclose(out["ret_fwd_2d"], out["y"])


def test_intraday_forward_days_runs_from_the_bar_to_the_final_close_n_sessions_later():
    d2 = bars("2024-07-02 13:30", [100.0, 101.0] + [99.0] * 388)
    d3 = bars("2024-07-03 13:30", [110.0] * 209 + [105.0])  # half day: last bar 16:59 UTC
    d5 = bars("2024-07-05 13:30", [120.0] * 390)
    out = label_forward_return_days(stack(d2, d3, d5), days=1)
    assert row_at(out, "2024-07-02 13:31")["ret_fwd_1d"] == pytest.approx(105 / 101 - 1, rel=1e-12)
    assert row_at(out, "2024-07-03 15:00")["ret_fwd_1d"] == pytest.approx(120 / 110 - 1, rel=1e-12)
    assert out.loc[out["ts"] >= pd.Timestamp("2024-07-05", tz="UTC"), "ret_fwd_1d"].isna().all()


def test_intraday_forward_days_leaves_extended_hours_bars_unlabelled():
    pre = bars("2024-07-02 12:00", [95.0] * 10)
    frame = stack(pre, bars("2024-07-02 13:30", [100.0] * 390), bars("2024-07-03 13:30", [101.0] * 210))
    out = label_forward_return_days(frame, days=1)
    assert out["ret_fwd_1d"].iloc[:10].isna().all()
    assert out["ret_fwd_1d"].iloc[10] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": -5}, ">= 1"),
        ({"days": 0}, ">= 1"),
        ({"band": -0.1}, "band"),
        ({"tz": "UTC"}, "XNYS time zone"),
    ],
)
def test_forward_days_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        label_forward_return_days(daily(JULY, [1, 1, 1, 1], [1, 1, 1, 1]), **kwargs)


def test_overnight_rejects_a_non_exchange_time_zone():
    with pytest.raises(ValueError, match="XNYS time zone"):
        label_close_to_open_direction(daily(JULY, [1, 1, 1, 1], [1, 1, 1, 1]), tz="Europe/London")


def test_frames_without_ts_or_date_raise():
    with pytest.raises(ValueError, match="missing required column"):
        label_forward_return_days(pd.DataFrame({"close": [1.0, 2.0]}))

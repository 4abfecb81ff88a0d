"""SSOT 7.2 point-in-time checks: each label reads only its declared window, and is NaN when it is incomplete.

For every label and a chosen row, prices outside the label's window are scaled by random
factors (bars are neither added nor removed); the label at that row must not move. Then the data
are cut inside the window and the label must become NaN rather than be extrapolated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trademl.calendar import session_table
from trademl.labels import (
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    label_pin_drift,
)

PRICE_COLUMNS = ["open", "high", "low", "close"]


def _panel() -> pd.DataFrame:
    """Two symbols, 30-minute bars and pre-market, 2024-10-28..2024-12-03 (DST ends 11-03, half day 11-29)."""
    rng = np.random.default_rng(20241129)
    frames = []
    for symbol in ["A", "B"]:
        for _, s in session_table("2024-10-28", "2024-12-03").iterrows():
            ts = pd.date_range(
                s["open_utc"] - pd.Timedelta(minutes=60), s["close_utc"], freq="30min", inclusive="left"
            )
            frames.append(pd.DataFrame({"symbol": symbol, "ts": ts}))
    frame = pd.concat(frames, ignore_index=True)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, len(frame))))
    frame["open"] = close * np.exp(rng.normal(0, 0.001, len(frame)))
    frame["high"] = np.maximum(frame["open"], close) * 1.001
    frame["low"] = np.minimum(frame["open"], close) * 0.999
    frame["close"] = close
    frame["atr_14"] = 1.5
    frame["oi_peak_strike"] = np.round(close)
    return frame


PANEL = _panel()
UTC = "UTC"


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def _shock(frame: pd.DataFrame, mask: np.ndarray, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    factors = rng.uniform(0.5, 2.0, int(mask.sum()))
    for col in PRICE_COLUMNS:
        out.loc[mask, col] = out.loc[mask, col].to_numpy() * factors
    out.loc[mask, "oi_peak_strike"] = out.loc[mask, "oi_peak_strike"] + 7.0
    return out


def _same(a: pd.Series, b: pd.Series) -> bool:
    return (
        a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist()
    )


def _assert_window(label, kwargs, check: np.ndarray, outside: np.ndarray, columns: list[str]) -> None:
    base = label(PANEL, **kwargs)
    assert base.loc[check, columns[0]].notna().all(), "the checked label must be defined"
    shocked = label(_shock(PANEL, outside), **kwargs)
    assert outside.sum() > 0 and (~outside).sum() > 0
    for col in columns:
        assert _same(base.loc[check, col], shocked.loc[check, col]), col
    inside_changed = label(_shock(PANEL, ~outside & (PANEL["symbol"] == "A").to_numpy()), **kwargs)
    assert not _same(base.loc[check, columns[0]], inside_changed.loc[check, columns[0]]), "window must matter"


A = (PANEL["symbol"] == "A").to_numpy()
TS = PANEL["ts"]


def test_next_hour_label_reads_only_the_bar_and_the_bar_one_hour_later():
    t0 = _ts("2024-11-26 16:00")  # 11:00 ET
    check = A & (TS == t0).to_numpy()
    outside = ~(A & ((TS == t0) | (TS == t0 + pd.Timedelta(hours=1))).to_numpy())
    _assert_window(
        label_next_hour_direction, {"fixed_bp": 1}, check, outside, ["ret_next_hour", "y", "y_syn"]
    )


def test_next_hour_synthetic_label_in_the_last_hour_reads_only_up_to_the_close():
    t0 = _ts("2024-11-26 20:00")  # 15:00 ET: its hour reaches the close
    check = A & (TS == t0).to_numpy()
    window = A & (TS >= t0).to_numpy() & (TS < _ts("2024-11-26 21:00")).to_numpy()
    _assert_window(label_next_hour_direction, {"fixed_bp": 1}, check, ~window, ["ret_next_hour_syn", "y_syn"])


def test_next_hour_sigma_band_reads_only_the_previous_sigma_sessions_sessions():
    t0 = _ts("2024-11-26 16:00")
    check = A & (TS == t0).to_numpy()
    window = A & (TS >= _ts("2024-11-22 00:00")).to_numpy() & (TS <= t0 + pd.Timedelta(hours=1)).to_numpy()
    _assert_window(label_next_hour_direction, {"sigma_sessions": 2}, check, ~window, ["flat_band", "y"])


def test_close_to_open_reads_only_todays_last_bar_and_the_next_sessions_first_bar():
    day = A & (TS.dt.strftime("%Y-%m-%d") == "2024-11-27").to_numpy()
    window = A & ((TS == _ts("2024-11-27 20:30")) | (TS == _ts("2024-11-29 14:30"))).to_numpy()
    _assert_window(label_close_to_open_direction, {}, day, ~window, ["ret_close_to_open", "y"])


def test_forward_days_reads_only_from_the_bar_to_the_close_two_sessions_later():
    t0 = _ts("2024-11-26 18:00")
    check = A & (TS == t0).to_numpy()
    # two sessions after 11-26 is 11-29, the half day closing 18:00 UTC (last 30-minute bar 17:30)
    window = A & (TS >= t0).to_numpy() & (TS <= _ts("2024-11-29 17:30")).to_numpy()
    _assert_window(
        label_forward_return_days, {"days": 2, "classify": False}, check, ~window, ["ret_fwd_2d", "y"]
    )


def test_headfake_with_atr_column_reads_only_its_own_sessions_regular_bars():
    day = A & (TS.dt.strftime("%Y-%m-%d") == "2024-11-20").to_numpy()
    window = day & (TS >= _ts("2024-11-20 14:30")).to_numpy()
    kwargs = {"min_open_move_atr": 0.0, "min_reversal_move_atr": 0.0}
    _assert_window(label_headfake_reversal, kwargs, day, ~window, ["open_move_atr", "reversal_move_atr", "y"])


def test_headfake_fallback_atr_reads_only_the_previous_fourteen_sessions():
    day = A & (TS.dt.strftime("%Y-%m-%d") == "2024-11-26").to_numpy()
    frame_without_atr = PANEL.drop(columns="atr_14")
    window = A & (TS >= _ts("2024-11-05 12:00")).to_numpy() & (TS < _ts("2024-11-27 00:00")).to_numpy()
    base = label_headfake_reversal(frame_without_atr)
    assert base.loc[day, "open_move_atr"].notna().all()
    shocked = label_headfake_reversal(
        _shock(frame_without_atr.assign(atr_14=0.0), ~window).drop(columns="atr_14")
    )
    assert _same(base.loc[day, "open_move_atr"], shocked.loc[day, "open_move_atr"])
    older = A & (TS < _ts("2024-11-06 00:00")).to_numpy() & (TS >= _ts("2024-11-05 00:00")).to_numpy()
    changed = label_headfake_reversal(
        _shock(frame_without_atr.assign(atr_14=0.0), older).drop(columns="atr_14")
    )
    assert not _same(base.loc[day, "open_move_atr"], changed.loc[day, "open_move_atr"])


def test_pin_drift_reads_only_from_the_bar_closing_at_drift_start_to_the_close():
    day = A & (TS.dt.strftime("%Y-%m-%d") == "2024-11-26").to_numpy()
    window = (
        day & (TS >= _ts("2024-11-26 19:30")).to_numpy()
    )  # the 14:30-15:00 ET bar closes at the drift start
    _assert_window(label_pin_drift, {"min_pull_atr": 0.0}, day, ~window, ["pin_strike", "pin_pull_atr", "y"])


@pytest.mark.parametrize(
    ("label", "kwargs", "column"),
    [
        (label_next_hour_direction, {"fixed_bp": 1}, "ret_next_hour"),
        (label_close_to_open_direction, {}, "ret_close_to_open"),
        (label_forward_return_days, {"days": 1}, "ret_fwd_1d"),
        (label_headfake_reversal, {}, "y"),
        (label_pin_drift, {}, "y"),
    ],
)
def test_cutting_the_data_inside_the_window_gives_nan_not_an_extrapolated_label(label, kwargs, column):
    # Data end at 2024-12-03 17:00 UTC (noon ET), mid-session: nothing needing a later price may be labelled.
    cut = PANEL[PANEL["ts"] <= _ts("2024-12-03 17:00")].reset_index(drop=True)
    out = label(cut, **kwargs)
    last_day = (out["ts"] >= _ts("2024-12-03 00:00")).to_numpy()
    if column == "ret_next_hour":
        needs_future = last_day & (out["ts"] + pd.Timedelta(hours=1) > _ts("2024-12-03 17:00")).to_numpy()
        assert out.loc[needs_future, column].isna().all()
        assert (
            out.loc[last_day & ~needs_future & (out["ts"] >= _ts("2024-12-03 14:30")).to_numpy(), column]
            .notna()
            .all()
        )
    else:
        assert out.loc[last_day, column].isna().all()
        full = label(PANEL, **kwargs)
        assert (
            full.loc[full["ts"].between(_ts("2024-12-03 00:00"), _ts("2024-12-03 17:00")).to_numpy(), column]
            .notna()
            .any()
            or column != "y"
        )


def test_daily_close_to_open_reads_only_todays_close_and_the_next_open():
    dates = pd.to_datetime(["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"])
    frame = pd.DataFrame(
        {"date": dates, "open": [10.0, 11, 12, 13, 14], "close": [10.5, 11.5, 12.5, 13.5, 14.5]}
    )
    base = label_close_to_open_direction(frame)["ret_close_to_open"].iloc[2]
    shocked = frame.copy()
    shocked.loc[[0, 1, 3, 4], "close"] *= 3.0
    shocked.loc[[0, 1, 2, 4], "open"] *= 0.3
    assert label_close_to_open_direction(shocked)["ret_close_to_open"].iloc[2] == base == 13 / 12.5 - 1

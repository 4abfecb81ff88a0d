"""Labels on the shared real data: Alpha Vantage daily bars, SPY and INDA minute bars.

References here are computed independently with plain pandas (row shifts, wall-clock filters in
New York time), valid for these slices: the Alpha Vantage tickers used have no missing sessions
(KIM has three, checked separately) and the SPY minute slice has no half day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from labels_factory import reference_triple_barrier

from trademl.labels import (
    daily_volatility,
    forward_return_labels,
    label_close_to_open_direction,
    label_forward_return_days,
    label_headfake_reversal,
    label_next_hour_direction,
    triple_barrier_labels,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def av_daily(real_data_dir: Path) -> pd.DataFrame:
    table = pq.read_table(
        real_data_dir / "daily_bars" / "alphavantage_sp500_daily_adjusted.parquet",
        filters=[("ticker", "in", ["AAPL", "MSFT", "JNJ", "KIM"])],
    )
    frame = table.to_pandas().rename(columns={"ticker": "symbol"})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.sort_values(["symbol", "date"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def spy_minutes(real_data_dir: Path) -> pd.DataFrame:
    raw = pd.read_csv(real_data_dir / "minute_bars" / "SPY_1min_2024-02-20_2024-05-17_polygon_et.csv.gz")
    frame = raw.assign(ts=pd.to_datetime(raw["datetime"], utc=True), symbol="SPY").drop(columns="datetime")
    local = frame["ts"].dt.tz_convert("America/New_York")
    frame["et_date"] = local.dt.strftime("%Y-%m-%d")
    frame["et_clock"] = local.dt.strftime("%H:%M")
    return frame


@pytest.fixture(scope="module")
def inda_minutes(real_data_dir: Path) -> pd.DataFrame:
    raw = pd.read_csv(real_data_dir / "minute_bars" / "INDA_1min_2023-07-10_2025-06-24_utc.csv.gz")
    return raw.assign(ts=pd.to_datetime(raw["timestamp"]).dt.tz_localize("UTC"), symbol="INDA").drop(
        columns="timestamp"
    )


def _regular(frame: pd.DataFrame) -> pd.Series:
    return (frame["et_clock"] >= "09:30") & (frame["et_clock"] < "16:00")


# ------------------------------------------------------------------ daily


@pytest.mark.parametrize("k", [1, 5, 20])
def test_forward_returns_equal_adjusted_close_shifted_by_k_rows_for_gap_free_tickers(av_daily, k):
    gap_free = av_daily[av_daily["symbol"] != "KIM"]
    out = forward_return_labels(gap_free, k, price_col="adjusted_close")
    shifted = gap_free.groupby("symbol")["adjusted_close"].shift(-k)
    expected = shifted / gap_free["adjusted_close"] - 1
    np.testing.assert_allclose(out[f"ret_fwd_{k}d"], expected, rtol=1e-12, equal_nan=True)
    assert out[f"ret_fwd_{k}d"].isna().sum() == 3 * k


def test_kim_missing_sessions_give_nan_where_a_row_shift_would_jump_the_gap(av_daily):
    kim = av_daily[av_daily["symbol"] == "KIM"]
    out = forward_return_labels(kim, 1, price_col="adjusted_close").set_index("date")["ret_fwd_1d"]
    # KIM has no bar on 2006-05-25, 2006-07-10, 2006-09-29: the sessions before them lose their label.
    for before in ["2006-05-24", "2006-07-07", "2006-09-28"]:
        assert np.isnan(out[pd.Timestamp(before)])
    assert out.isna().sum() == 4  # the three gaps and the last row


def test_unadjusted_closes_turn_the_2020_aapl_split_into_a_fake_crash(av_daily):
    aapl = av_daily[av_daily["symbol"] == "AAPL"]
    raw = forward_return_labels(aapl, 1, price_col="close").set_index("date")["ret_fwd_1d"]
    adjusted = forward_return_labels(aapl, 1, price_col="adjusted_close").set_index("date")["ret_fwd_1d"]
    day = pd.Timestamp("2020-08-28")  # 4:1 split effective 2020-08-31
    assert raw[day] < -0.7
    assert abs(adjusted[day]) < 0.05


def test_triple_barrier_on_real_adjusted_closes_matches_the_reference_loop(av_daily):
    panel = av_daily[(av_daily["date"] >= "2015-01-01") & (av_daily["symbol"].isin(["AAPL", "MSFT", "JNJ"]))]
    wide = panel.pivot(index="date", columns="symbol", values="adjusted_close")
    vol = daily_volatility(wide, span=50)
    events = panel.loc[panel["date"].isin(wide.index[60::7]), ["date", "symbol"]].rename(
        columns={"date": "t0"}
    )
    events = events.reset_index(drop=True)
    got = triple_barrier_labels(wide, events, (1.5, 1.0), target=vol, max_holding=10)
    for i in range(0, len(events), 5):
        t0, sym = events.loc[i, "t0"], events.loc[i, "symbol"]
        j0 = wide.index.get_loc(t0)
        bar, ret, lab = reference_triple_barrier(wide[sym].to_numpy(), j0, vol.loc[t0, sym], 1.5, 1.0, 10)
        assert (np.isnan(lab) and np.isnan(got.loc[i, "label"])) or got.loc[i, "label"] == lab
        if bar >= 0:
            assert got.loc[i, "t1"] == wide.index[bar] and got.loc[i, "ret"] == pytest.approx(ret, rel=1e-12)
    counts = got["label"].value_counts()
    assert set(counts.index) == {-1.0, 0.0, 1.0} and got["label"].isna().sum() <= 3


# ------------------------------------------------------------------ SPY minutes


def test_spy_next_hour_return_equals_the_close_sixty_minutes_later_within_regular_hours(spy_minutes):
    out = label_next_hour_direction(spy_minutes, fixed_bp=1)
    close = spy_minutes.set_index("ts")["close"]
    later = close.reindex(spy_minutes["ts"] + pd.Timedelta(minutes=60)).to_numpy()
    later_clock = (
        (spy_minutes["ts"] + pd.Timedelta(minutes=60)).dt.tz_convert("America/New_York").dt.strftime("%H:%M")
    )
    in_session = _regular(spy_minutes) & (later_clock < "16:00")
    expected = np.where(in_session, later / spy_minutes["close"].to_numpy() - 1, np.nan)
    np.testing.assert_allclose(out["ret_next_hour"], expected, rtol=1e-12, equal_nan=True)
    assert in_session.sum() == 63 * 330


def test_spy_dst_weekend_regular_session_starts_at_1430_then_1330_utc(spy_minutes):
    out = label_next_hour_direction(spy_minutes, fixed_bp=1)
    labelled = out[out["y"].notna()]
    first = labelled.groupby(labelled["ts"].dt.tz_convert("America/New_York").dt.date)["ts"].min()
    assert first[pd.Timestamp("2024-03-08").date()] == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert first[pd.Timestamp("2024-03-11").date()] == pd.Timestamp("2024-03-11 13:30", tz="UTC")


def test_spy_close_to_open_matches_1559_close_and_next_dates_0930_open(spy_minutes):
    out = label_close_to_open_direction(spy_minutes)
    closes = spy_minutes[spy_minutes["et_clock"] == "15:59"].set_index("et_date")["close"]
    opens = spy_minutes[spy_minutes["et_clock"] == "09:30"].set_index("et_date")["open"]
    dates = list(closes.index)
    expected = pd.Series(
        [opens[d2] / closes[d1] - 1 for d1, d2 in zip(dates[:-1], dates[1:], strict=True)], index=dates[:-1]
    )
    got = out.groupby("et_date")["ret_close_to_open"].first()
    np.testing.assert_allclose(got[dates[:-1]], expected, rtol=1e-12)
    assert np.isnan(got[dates[-1]])
    nxt = out.groupby("et_date")["next_session"].first()
    assert nxt["2024-03-28"] == pd.Timestamp("2024-04-01")  # Good Friday skipped
    assert nxt["2024-03-08"] == pd.Timestamp("2024-03-11")


def test_spy_forward_one_day_from_1000_et_is_next_dates_1559_close(spy_minutes):
    out = label_forward_return_days(spy_minutes, days=1, classify=False)
    at_ten = spy_minutes["et_clock"] == "10:00"
    closes = spy_minutes[spy_minutes["et_clock"] == "15:59"].set_index("et_date")["close"]
    dates = list(closes.index)
    nxt = dict(zip(dates[:-1], dates[1:], strict=True))
    rows = spy_minutes[at_ten]
    expected = [
        closes[nxt[d]] / c - 1 if d in nxt else np.nan
        for d, c in zip(rows["et_date"], rows["close"], strict=True)
    ]
    np.testing.assert_allclose(out.loc[at_ten, "ret_fwd_1d"], expected, rtol=1e-12, equal_nan=True)


def test_spy_headfake_components_match_an_independent_pandas_computation(spy_minutes):
    out = label_headfake_reversal(spy_minutes)
    reg = spy_minutes[_regular(spy_minutes)]
    day = reg.groupby("et_date").agg(high=("high", "max"), low=("low", "min"), close=("close", "last"))
    prev = day["close"].shift(1)
    tr = np.maximum(day["high"], prev.fillna(day["high"])) - np.minimum(day["low"], prev.fillna(day["low"]))
    atr = tr.rolling(14).mean().shift(1)
    p_open = reg[reg["et_clock"] == "09:30"].set_index("et_date")["open"]
    p_end = reg[reg["et_clock"] == "10:29"].set_index("et_date")["close"]
    move = (p_end - p_open) / atr
    reversal = (day["close"] - p_end) / atr
    got = out.groupby("et_date")[["open_move_atr", "reversal_move_atr", "y"]].first()
    np.testing.assert_allclose(got["open_move_atr"], move[got.index], rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got["reversal_move_atr"], reversal[got.index], rtol=1e-9, equal_nan=True)
    expected_y = (
        ((move.abs() >= 0.5) & (move * reversal < 0) & (reversal.abs() >= 0.5))
        .astype(float)
        .where(atr.notna())
    )
    np.testing.assert_array_equal(got["y"].to_numpy(), expected_y[got.index].to_numpy())
    assert got["y"].isna().sum() == 14 and got["y"].notna().sum() == 49


# ------------------------------------------------------------------ INDA sparse minutes


def test_inda_sparse_next_hour_uses_the_last_trade_at_or_before_the_hour_mark(inda_minutes):
    out = label_next_hour_direction(inda_minutes, fixed_bp=1)
    bars = inda_minutes[["ts", "close"]].sort_values("ts")
    query = pd.DataFrame({"ts": inda_minutes["ts"] + pd.Timedelta(minutes=60)}).reset_index()
    asof = pd.merge_asof(query.sort_values("ts"), bars, on="ts").set_index("index")["close"].sort_index()
    got = out["ret_next_hour"]
    defined = got.notna()
    assert defined.sum() > 20_000
    np.testing.assert_allclose(
        got[defined], asof[defined] / inda_minutes.loc[defined, "close"] - 1, rtol=1e-12
    )


def test_inda_overnight_label_is_nan_at_the_end_of_each_data_block(inda_minutes):
    out = label_close_to_open_direction(inda_minutes)
    local_date = out["ts"].dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d")
    per_day = out.groupby(local_date)["ret_close_to_open"].first()
    assert np.isnan(per_day["2023-10-17"])  # next data: 2025-02-10
    assert np.isfinite(per_day["2023-10-16"])  # defined inside the block
    assert per_day.notna().sum() >= 150

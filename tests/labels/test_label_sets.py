"""Label sets (configs/labels.yml sets:): equities_xs and the per-session Sigma labels, complete only once observed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.labels import (
    build_label_set,
    complete_through,
    label_horizon,
    label_set,
    triple_barrier_on_bars,
)
from trademl.labels.label_sets import LabelSets
from trademl.schemas.labels import EQUITIES_XS_LABELS, SIGMA_LABELS

DAYS = calendar.sessions("2024-01-02", "2024-04-30")


def _daily(days: pd.DatetimeIndex = DAYS, seed: int = 0, symbols: str = "ABC") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame({"symbol": s, "date": days, "close": 50.0 * np.exp(np.cumsum(rng.standard_normal(len(days)) * 0.02))})
        for s in symbols
    ]
    return pd.concat(frames, ignore_index=True)


def test_equities_xs_produces_exactly_the_label_table_columns():
    out = build_label_set("equities_xs", _daily())
    assert list(out.columns) == EQUITIES_XS_LABELS.schema.names
    table = pa.Table.from_pandas(out, schema=EQUITIES_XS_LABELS.schema, preserve_index=False)
    assert table.num_rows == len(out) and out["tb_10d_label"].dropna().isin([-1, 0, 1]).all()


def test_forward_log_returns_count_sessions_ahead():
    bars = _daily()
    out = build_label_set("equities_xs", bars).set_index(["symbol", "date"])
    a = bars[bars["symbol"] == "A"].set_index("date")["close"]
    d0, d5 = DAYS[10], DAYS[15]
    assert out.loc[("A", d0.date()), "logret_fwd_5d"] == pytest.approx(np.log(a[d5] / a[d0]))


def test_demeaned_columns_are_the_label_minus_the_sessions_cross_sectional_mean():
    out = build_label_set("equities_xs", _daily())
    mean = out.groupby("date")["logret_fwd_20d"].transform("mean")
    np.testing.assert_allclose(out["xs_logret_fwd_20d"], out["logret_fwd_20d"] - mean)
    assert out.groupby("date")["xs_logret_fwd_1d"].sum().abs().max() < 1e-12


def test_triple_barrier_columns_are_those_of_the_configured_tb_10d():
    bars = _daily()
    out = build_label_set("equities_xs", bars).set_index(["symbol", "date"])
    tb = triple_barrier_on_bars(bars, pt_sl=(1.0, 1.0), max_holding=10, vol_span=100, vol_min_periods=20)
    tb = tb.assign(date=pd.to_datetime(tb["date"]).dt.date).set_index(["symbol", "date"]).reindex(out.index)
    np.testing.assert_array_equal(out["tb_10d_label"].astype("float64").to_numpy(), tb["label"].to_numpy())
    np.testing.assert_allclose(out["tb_10d_ret"].to_numpy(), tb["ret"].to_numpy())


def test_label_horizon_is_the_longest_forward_window_of_the_sets_labels():
    assert label_horizon("equities_xs") == 20  # max(horizons 1/5/20, tb_10d max_holding 10)
    assert label_horizon("sigma") == 5


def test_complete_through_counts_xnys_sessions_across_holidays():
    # 20 sessions before 2024-07-05: the July 4th and Juneteenth holidays are not sessions.
    window = calendar.sessions("2024-06-01", "2024-07-05")
    assert complete_through("equities_xs", "2024-07-05") == window[-21].date()
    assert complete_through("equities_xs", "2024-07-06") == window[-21].date()  # a Saturday: its last session is the 5th


def test_no_row_is_produced_after_complete_through():
    out = build_label_set("equities_xs", _daily())
    assert max(out["date"]) == complete_through("equities_xs", DAYS[-1])
    assert out[out["date"] == max(out["date"])]["logret_fwd_20d"].notna().all()


@settings(max_examples=10, deadline=None)
@given(extra=st.integers(1, len(DAYS) - 60), seed=st.integers(0, 1000))
def test_appending_sessions_leaves_every_produced_label_unchanged(extra, seed):
    base = _daily()
    short = base[base["date"] <= DAYS[59]]
    longer = base[base["date"] <= DAYS[59 + extra]].copy()
    later = longer["date"] > DAYS[59]
    longer.loc[later, "close"] = 50.0 * np.exp(np.random.default_rng(seed).standard_normal(int(later.sum())) * 0.2)
    before = build_label_set("equities_xs", short)
    after = build_label_set("equities_xs", longer)
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)


def test_a_label_at_d_ignores_data_beyond_d_plus_its_horizon():
    bars = _daily()
    d = DAYS[30]
    beyond = calendar.next_session(d, 20)
    changed = bars.copy()
    changed.loc[pd.to_datetime(changed["date"]) > beyond, "close"] *= 3.0
    a = build_label_set("equities_xs", bars)
    b = build_label_set("equities_xs", changed)
    pd.testing.assert_frame_equal(a[a["date"] <= d.date()], b[b["date"] <= d.date()])


def _catalog_doc(**sets) -> dict:
    return {"labels": {"fwd": {"builder": "forward_returns", "horizons": [1, 5]}}, "sets": sets}


def test_a_set_naming_an_undefined_label_is_rejected_with_the_defined_ones():
    with pytest.raises(ValueError, match=r"sets.s: label 'nope' is not defined under `labels:` \(defined: fwd\)"):
        LabelSets.from_config(_catalog_doc(s={"labels": ["nope"]}))


def test_a_declared_horizon_must_match_its_labels():
    with pytest.raises(ValueError, match=r"declared 20, but its labels need 5 sessions"):
        LabelSets.from_config(_catalog_doc(s={"labels": ["fwd"], "horizon_sessions": 20}))
    assert LabelSets.from_config(_catalog_doc(s={"labels": ["fwd"]})).sets["s"].horizon_sessions == 5


def test_an_unknown_set_is_an_error_listing_the_defined_sets():
    with pytest.raises(ValueError, match=r"no label set 'nope'.*equities_xs"):
        label_set("nope")


# --- Sigma (spec 000) per session, from hourly bars ---------------------------------------------

SIGMA_DAYS = calendar.sessions("2024-03-04", "2024-03-15")  # across the DST switch of 2024-03-10
HOURS = [f"{h:02d}:30" for h in range(9, 16)]  # 09:30 .. 15:30 bar starts


def _hourly(symbols: str = "AB", seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.DatetimeIndex([pd.Timestamp(f"{d.date()} {h}", tz="America/New_York") for d in SIGMA_DAYS for h in HOURS]).tz_convert("UTC")
    frames = []
    for s in symbols:
        close = 100.0 * np.exp(np.cumsum(rng.standard_normal(len(ts)) * 0.003))
        open_ = close * np.exp(rng.standard_normal(len(ts)) * 0.001)
        frames.append(pd.DataFrame({"symbol": s, "ts": ts, "open": open_, "high": np.maximum(open_, close) * 1.001,
                                    "low": np.minimum(open_, close) * 0.999, "close": close, "volume": 1000.0}))
    return pd.concat(frames, ignore_index=True)


def test_sigma_yields_one_row_per_symbol_and_session_with_the_table_columns():
    out = build_label_set("sigma", _hourly())
    assert list(out.columns) == SIGMA_LABELS.schema.names
    pa.Table.from_pandas(out, schema=SIGMA_LABELS.schema, preserve_index=False)
    last = complete_through("sigma", SIGMA_DAYS[-1])
    assert last == SIGMA_DAYS[-6].date()
    expected_days = [d.date() for d in SIGMA_DAYS if d.date() <= last]
    assert sorted(set(out["date"])) == expected_days and len(out) == 2 * len(expected_days)


def test_sigma_returns_are_first_hour_overnight_and_five_session_close_to_close():
    bars = _hourly()
    out = build_label_set("sigma", bars).set_index(["symbol", "date"])
    a = bars[bars["symbol"] == "A"].assign(local=lambda f: f["ts"].dt.tz_convert("America/New_York"))
    day, nxt, fifth = SIGMA_DAYS[1], SIGMA_DAYS[2], SIGMA_DAYS[6]

    def bar(d, hhmm, col):
        return a.loc[a["local"] == pd.Timestamp(f"{d.date()} {hhmm}", tz="America/New_York"), col].item()

    row = out.loc[("A", day.date())]
    assert row["first_hour_ret"] == pytest.approx(bar(day, "10:30", "close") / bar(day, "09:30", "close") - 1)
    assert row["overnight_ret"] == pytest.approx(bar(nxt, "09:30", "open") / bar(day, "15:30", "close") - 1)
    assert row["fwd_5d_ret"] == pytest.approx(bar(fifth, "15:30", "close") / bar(day, "15:30", "close") - 1)
    assert row["fwd_5d_y"] == ("UP" if row["fwd_5d_ret"] > 0.001 else "DOWN" if row["fwd_5d_ret"] < -0.001 else "FLAT")


def test_sigma_labels_are_unchanged_when_later_sessions_arrive():
    full = _hourly()
    cut = full[full["ts"] < pd.Timestamp(f"{SIGMA_DAYS[-2].date()}", tz="America/New_York")]
    before = build_label_set("sigma", cut)
    after = build_label_set("sigma", full)
    pd.testing.assert_frame_equal(after[after["date"] <= max(before["date"])], before)
    assert max(before["date"]) < max(after["date"])


def test_the_shipped_sets_are_the_ones_of_the_label_tables():
    assert label_set("equities_xs").table == "labels/equities_xs" and label_set("sigma").table == "labels/sigma"
    assert dt.date(2024, 1, 2) == complete_through("sigma", "2024-01-09")


def test_sigma_on_minute_bars_takes_the_first_hour_from_the_opening_minute():
    days = calendar.sessions("2024-05-13", "2024-05-24")
    starts = pd.DatetimeIndex([calendar.session_open_close(d)[0] for d in days])
    ts = (starts.repeat(390) + pd.to_timedelta(np.tile(np.arange(390), len(days)), unit="min")).tz_convert("UTC")
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(4).standard_normal(len(ts)) * 0.0005))
    bars = pd.DataFrame({"symbol": "X", "ts": ts, "open": close, "high": close, "low": close, "close": close, "volume": 10.0})
    out = build_label_set("sigma", bars).set_index("date")
    d = days[2]
    i0 = 2 * 390  # the 09:30 minute of the third session; 10:30 is 60 minutes later
    assert out.loc[d.date(), "first_hour_ret"] == pytest.approx(close[i0 + 60] / close[i0] - 1)
    assert out.loc[d.date(), "fwd_5d_ret"] == pytest.approx(close[(2 + 5) * 390 + 389] / close[i0 + 389] - 1)
    assert len(out) == len(days) - 5

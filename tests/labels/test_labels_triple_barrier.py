"""triple_barrier_labels and daily_volatility (AFML ch. 3 semantics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labels_factory import random_walk_panel, reference_triple_barrier

from trademl.labels import daily_volatility, triple_barrier_labels

IDX = pd.date_range("2024-01-01", periods=8, freq="D")


def series(prices: list[float]) -> pd.Series:
    return pd.Series(prices, index=IDX[: len(prices)], name="close", dtype="float64")


def one_event(prices, target=0.02, pt_sl=(1.0, 1.0), max_holding=3, **kw) -> pd.Series:
    close = series(prices)
    return triple_barrier_labels(
        close, close.index[:1], pt_sl, target=target, max_holding=max_holding, **kw
    ).iloc[0]


def test_upper_barrier_touched_first_gives_plus_one_with_t1_at_touch():
    row = one_event([100, 101, 103, 96])
    assert row["label"] == 1
    assert row["t1"] == IDX[2]
    assert row["ret"] == pytest.approx(0.03)


def test_lower_barrier_touched_first_gives_minus_one():
    row = one_event([100, 99, 97, 104])
    assert row["label"] == -1
    assert row["t1"] == IDX[2]
    assert row["ret"] == pytest.approx(-0.03)


def test_no_horizontal_touch_gives_zero_with_t1_at_vertical_barrier():
    row = one_event([100, 101, 99, 100.5, 150])
    assert row["label"] == 0
    assert row["t1"] == IDX[3]
    assert row["ret"] == pytest.approx(0.005)


def test_closing_exactly_on_the_upper_barrier_counts_as_a_touch():
    row = one_event([1.0, 1.25, 1.0, 1.0], target=0.25)
    assert (row["label"], row["ret"]) == (1, 0.25)


def test_closing_exactly_on_the_lower_barrier_counts_as_a_touch():
    row = one_event([1.0, 0.75, 1.0, 1.0], target=0.25)
    assert (row["label"], row["ret"]) == (-1, -0.25)


def test_closing_just_inside_the_barriers_is_not_a_touch():
    assert one_event([1.0, 1.2499, 0.7501, 1.0], target=0.25)["label"] == 0


def test_ret_is_the_return_to_the_touch_bar_even_when_a_gap_overshoots():
    row = one_event([100, 110, 90, 100])
    assert (row["label"], row["ret"]) == (1, pytest.approx(0.10))


def test_asymmetric_multipliers_scale_each_barrier_separately():
    # upper = 2 x 1% = 2% (not reached by +1.5%), lower = 1 x 1% (reached by -1.2%)
    row = one_event([100, 101.5, 98.8, 100], target=0.01, pt_sl=(2.0, 1.0))
    assert (row["label"], row["t1"]) == (-1, IDX[2])


def test_zero_multiplier_disables_that_barrier():
    row = one_event([100, 150, 160, 170], target=0.01, pt_sl=(0.0, 1.0))
    assert (row["label"], row["t1"], row["ret"]) == (0, IDX[3], pytest.approx(0.7))


def test_incomplete_window_at_end_of_data_is_nan_by_default():
    row = one_event([100, 105], max_holding=3)
    assert np.isnan(row["label"]) and np.isnan(row["ret"]) and pd.isna(row["t1"])


def test_incomplete_window_with_observed_touch_is_labelled_when_full_window_not_required():
    assert one_event([100, 105], max_holding=3, require_full_window=False)["label"] == 1
    assert np.isnan(one_event([100, 101], max_holding=3, require_full_window=False)["label"])


def test_missing_close_before_the_touch_leaves_the_event_unlabelled():
    assert np.isnan(one_event([100, np.nan, 110, 100], require_full_window=False)["label"])


def test_missing_close_after_the_touch_only_matters_when_full_window_required():
    prices = [100, 110, np.nan, 100]
    assert np.isnan(one_event(prices)["label"])
    assert one_event(prices, require_full_window=False)["label"] == 1


def test_nan_target_leaves_the_event_unlabelled():
    close = series([100, 101, 103, 96, 90])
    out = triple_barrier_labels(close, close.index[:2], target=np.array([np.nan, 0.02]), max_holding=3)
    assert np.isnan(out["label"].iloc[0]) and out["label"].iloc[1] == -1


def test_panel_events_read_only_their_own_symbol():
    wide = pd.DataFrame({"A": [100, 101, 103, 96], "B": [50, 40, 70, 20]}, index=IDX[:4], dtype="float64")
    events = pd.DataFrame({"t0": [IDX[0], IDX[0]], "symbol": ["A", "B"]})
    out = triple_barrier_labels(wide, events, target=0.02, max_holding=3)
    assert out["label"].tolist() == [1, -1]
    shocked = wide.assign(B=[50.0, 90.0, 10.0, 99.0])
    again = triple_barrier_labels(shocked, events, target=0.02, max_holding=3)
    assert again.iloc[0].equals(out.iloc[0])


def test_long_multiindex_close_gives_the_same_labels_as_the_wide_frame():
    wide = random_walk_panel(60, ["A", "B", "C"], seed=3)
    long = wide.stack().rename_axis(["date", "symbol"]).swaplevel().sort_index()
    events = pd.DataFrame({"t0": list(wide.index[:40]) * 3, "symbol": np.repeat(["A", "B", "C"], 40)})
    a = triple_barrier_labels(wide, events, target=0.02, max_holding=10)
    b = triple_barrier_labels(long, events, target=0.02, max_holding=10)
    pd.testing.assert_frame_equal(a, b)


def test_close_shaped_target_is_read_at_each_events_t0_and_symbol():
    wide = random_walk_panel(80, ["A", "B"], seed=5)
    vol = daily_volatility(wide, span=10, min_periods=5)
    events = pd.DataFrame({"t0": [wide.index[30], wide.index[40]], "symbol": ["B", "A"]})
    by_lookup = triple_barrier_labels(wide, events, target=vol, max_holding=10)
    by_value = triple_barrier_labels(
        wide, events, target=[vol.loc[wide.index[30], "B"], vol.loc[wide.index[40], "A"]], max_holding=10
    )
    pd.testing.assert_frame_equal(by_lookup, by_value)


def test_numpy_scalar_target_applies_to_every_event():
    close = series([100, 101, 103, 96, 90])
    out = triple_barrier_labels(close, close.index[:2], target=np.float64(0.02), max_holding=2)
    assert out["label"].tolist() == [1.0, -1.0]


def test_output_keeps_the_events_index():
    close = series([100, 101, 103, 96, 90])
    events = pd.DataFrame({"t0": close.index[:2]}, index=["e1", "e2"])
    assert list(triple_barrier_labels(close, events, target=0.02, max_holding=2).index) == ["e1", "e2"]


def _reference_frame(wide, events, target, pt_sl, h, full):
    rows = []
    for t0, sym, trg in zip(events["t0"], events["symbol"], target, strict=True):
        col = wide[sym].to_numpy()
        i, r, lab = reference_triple_barrier(col, wide.index.get_loc(t0), trg, *pt_sl, h, full)
        rows.append((wide.index[i] if i >= 0 else pd.NaT, r, lab))
    return pd.DataFrame(rows, columns=["t1", "ret", "label"], index=events.index)


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("pt_sl", [(1.0, 1.0), (2.0, 0.5), (0.0, 1.5)])
def test_vectorised_labels_match_a_bar_by_bar_reference_loop_on_random_panels(full, pt_sl):
    rng = np.random.default_rng(11)
    wide = random_walk_panel(250, ["A", "B", "C"], seed=7)
    wide = wide.mask(rng.random(wide.shape) < 0.01)  # a few missing closes
    events = pd.DataFrame(
        {"t0": wide.index[rng.integers(0, 250, 300)], "symbol": rng.choice(["A", "B", "C"], 300)}
    )
    target = rng.uniform(0.005, 0.05, 300)
    got = triple_barrier_labels(
        wide, events, pt_sl, target=target, max_holding=15, require_full_window=full, chunk_size=37
    )
    want = _reference_frame(wide, events, target, pt_sl, 15, full)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["label"].notna().sum() > 150


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(-0.06, 0.06), min_size=5, max_size=40),
    h=st.integers(1, 8),
    target=st.floats(0.005, 0.08),
    pt=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    sl=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
)
def test_property_first_touch_equals_reference_loop(steps, h, target, pt, sl):
    prices = 100 * np.exp(np.cumsum(np.r_[0.0, steps]))
    close = pd.Series(prices, index=pd.RangeIndex(len(prices)))
    got = triple_barrier_labels(close, close.index, (pt, sl), target=target, max_holding=h)
    for i0 in range(len(prices)):
        i, r, lab = reference_triple_barrier(prices, i0, target, pt, sl, h)
        assert (np.isnan(lab) and np.isnan(got["label"].iloc[i0])) or got["label"].iloc[i0] == lab
        if i >= 0:
            assert got["t1"].iloc[i0] == i and got["ret"].iloc[i0] == r


def test_perturbing_closes_after_the_vertical_barrier_or_before_t0_changes_nothing():
    wide = random_walk_panel(120, ["A"], seed=9)
    t0 = wide.index[50]
    base = triple_barrier_labels(wide["A"], pd.DatetimeIndex([t0]), target=0.01, max_holding=10)
    shocked = wide["A"].copy()
    shocked.iloc[61:] *= 5.0
    shocked.iloc[:50] *= 0.2
    again = triple_barrier_labels(shocked, pd.DatetimeIndex([t0]), target=0.01, max_holding=10)
    pd.testing.assert_frame_equal(base, again)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_holding": 0}, ">= 1"),
        ({"max_holding": -3}, ">= 1"),
        ({"pt_sl": (-1.0, 1.0)}, "pt_sl"),
        ({"pt_sl": (1.0,)}, "pair"),
        ({"target": -0.01}, "> 0"),
        ({"target": [0.01, 0.02, 0.03]}, "3 values for 2 events"),
        ({"target": np.nan}, "NaN-only"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, message):
    close = series([100, 101, 103, 96])
    params = {"pt_sl": (1.0, 1.0), "target": 0.02, "max_holding": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        triple_barrier_labels(close, close.index[:2], params.pop("pt_sl"), **params)


def test_event_not_on_the_close_index_raises():
    close = series([100, 101, 103])
    with pytest.raises(ValueError, match="not in the index"):
        triple_barrier_labels(close, pd.DatetimeIndex(["2023-05-05"]), target=0.02, max_holding=1)


def test_unsorted_close_index_raises():
    close = series([100, 101, 103]).iloc[[1, 0, 2]]
    with pytest.raises(ValueError, match="not sorted"):
        triple_barrier_labels(close, close.index[:1], target=0.02, max_holding=1)


def test_duplicate_close_timestamps_raise():
    close = pd.Series([1.0, 2.0, 3.0], index=[IDX[0], IDX[0], IDX[1]])
    with pytest.raises(ValueError, match="duplicate"):
        triple_barrier_labels(close, IDX[:1], target=0.02, max_holding=1)


def test_nan_only_close_raises():
    with pytest.raises(ValueError, match="NaN-only"):
        triple_barrier_labels(series([np.nan] * 3), IDX[:1], target=0.02, max_holding=1)


def test_panel_events_without_symbol_raise():
    wide = pd.DataFrame({"A": [1.0, 2.0], "B": [1.0, 2.0]}, index=IDX[:2])
    with pytest.raises(ValueError, match="symbol"):
        triple_barrier_labels(wide, IDX[:1], target=0.02, max_holding=1)


def test_unknown_event_symbol_raises():
    wide = pd.DataFrame({"A": [1.0, 2.0]}, index=IDX[:2])
    with pytest.raises(ValueError, match="not a column"):
        triple_barrier_labels(
            wide, pd.DataFrame({"t0": IDX[:1], "symbol": ["Z"]}), target=0.02, max_holding=1
        )


# ---------------------------------------------------------------- daily_volatility


def ewm_std_by_hand(x: np.ndarray, span: int) -> float:
    """Bias-corrected exponentially weighted std of x (last value most recent), alpha = 2 / (span + 1)."""
    alpha = 2.0 / (span + 1.0)
    w = (1 - alpha) ** np.arange(len(x))[::-1]
    mean = np.sum(w * x) / np.sum(w)
    return float(np.sqrt(np.sum(w * (x - mean) ** 2) / (np.sum(w) - np.sum(w**2) / np.sum(w))))


def test_daily_volatility_is_the_weighted_std_of_returns_so_far():
    close = series([100, 102, 99, 103, 101, 104])
    rets = np.array([102 / 100, 99 / 102, 103 / 99, 101 / 103, 104 / 101]) - 1
    vol = daily_volatility(close, span=3, min_periods=2)
    assert np.isnan(vol.iloc[0]) and np.isnan(vol.iloc[1])
    for t in range(2, 6):
        assert vol.iloc[t] == pytest.approx(ewm_std_by_hand(rets[:t], 3), rel=1e-12)


def test_daily_volatility_at_t_ignores_every_close_after_t():
    close = random_walk_panel(100, ["A"], seed=1)["A"]
    shocked = close.copy()
    shocked.iloc[60:] *= np.linspace(1.0, 3.0, 40)
    pd.testing.assert_series_equal(
        daily_volatility(close, 20).iloc[:60], daily_volatility(shocked, 20).iloc[:60]
    )


def test_daily_volatility_of_a_panel_is_computed_per_column():
    wide = random_walk_panel(80, ["A", "B"], seed=2)
    vol = daily_volatility(wide, 10)
    pd.testing.assert_series_equal(vol["A"], daily_volatility(wide["A"], 10).rename("A"))
    long = wide.stack().rename_axis(["date", "symbol"]).swaplevel().sort_index().rename("close")
    long_vol = daily_volatility(long, 10)
    assert long_vol.index.equals(long.index)
    assert long_vol[("B", wide.index[40])] == pytest.approx(vol.loc[wide.index[40], "B"], rel=1e-12)


def test_daily_volatility_rejects_bad_span_and_nan_only_input():
    with pytest.raises(ValueError, match=">= 1"):
        daily_volatility(series([1.0, 2.0, 3.0]), span=0)
    with pytest.raises(ValueError, match="min_periods"):
        daily_volatility(series([1.0, 2.0, 3.0]), span=5, min_periods=1)
    with pytest.raises(ValueError, match="NaN-only"):
        daily_volatility(series([np.nan, np.nan]), span=5)

"""Labels by name from configs/labels.yml: the file's parameters reach the builders, code overrides them."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labels_factory import bars, random_walk_panel

from trademl.labels import (
    build_label,
    daily_volatility,
    forward_return_labels,
    label_names,
    label_next_hour_direction,
    label_spec,
    triple_barrier_labels,
    triple_barrier_on_bars,
)
from trademl.labels.configured import BUILDERS


def long_bars(n_bars: int = 60, symbols=("AAA", "BBB"), seed: int = 3) -> pd.DataFrame:
    """Long daily bars (symbol, date, close) on XNYS sessions, symbol-major like a vendor sends them."""
    wide = random_walk_panel(n_bars, list(symbols), seed)
    frame = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="symbol", value_name="close")
    return frame.sort_values(["symbol", "date"], ignore_index=True)[["symbol", "date", "close"]]


def test_every_configured_label_names_a_builder_that_takes_its_parameters():
    assert label_names()
    for name in label_names():
        builder, params = label_spec(name)
        inspect.signature(BUILDERS[builder]).bind(pd.DataFrame(), **params)


def test_configured_forward_returns_equal_the_direct_call_with_the_files_horizons():
    frame = long_bars()
    _, params = label_spec("fwd_returns")
    expected = forward_return_labels(frame, params["horizons"], kind=params["kind"])
    pd.testing.assert_frame_equal(build_label("fwd_returns", frame), expected)


def test_keyword_arguments_override_the_configured_parameters():
    frame = long_bars()
    out = build_label("fwd_returns", frame, horizons=[3])
    assert [c for c in out.columns if c.startswith("ret_fwd")] == ["ret_fwd_3d"]


def test_configured_intraday_label_equals_the_direct_call():
    hourly = bars("2024-03-07 14:30", [100, 101, 100, 100, 102, 101, 103], step_minutes=60)
    _, params = label_spec("next_hour")
    pd.testing.assert_frame_equal(build_label("next_hour", hourly), label_next_hour_direction(hourly, **params))


def test_unknown_label_lists_the_configured_names():
    with pytest.raises(ValueError, match="no label 'nope'.*fwd_returns"):
        build_label("nope", long_bars())


def test_unknown_parameter_is_reported_with_the_label_name():
    with pytest.raises(ValueError, match="label 'fwd_returns' \\(forward_returns\\).*horizon_days"):
        build_label("fwd_returns", long_bars(), horizon_days=5)


def test_triple_barrier_on_bars_equals_the_wide_call_with_volatility_targets():
    frame = long_bars()
    out = triple_barrier_on_bars(frame, pt_sl=(1.0, 2.0), max_holding=5, vol_span=10, vol_min_periods=5)
    wide = frame.pivot(index="date", columns="symbol", values="close")
    events = pd.DataFrame({"t0": frame["date"], "symbol": frame["symbol"]})
    expected = triple_barrier_labels(wide, events, (1.0, 2.0), target=daily_volatility(wide, 10, min_periods=5), max_holding=5)
    pd.testing.assert_frame_equal(out[["t1", "ret", "label"]], expected)
    assert out[["symbol", "date"]].equals(frame[["symbol", "date"]])


def test_triple_barrier_on_bars_is_nan_until_volatility_and_the_window_exist():
    frame = long_bars(40, symbols=("AAA",))
    out = triple_barrier_on_bars(frame, max_holding=5, vol_span=10, vol_min_periods=5)
    assert out["label"].iloc[:5].isna().all()  # fewer than 5 returns: no barrier width yet
    assert out["label"].iloc[-5:].isna().all()  # the 5-bar window runs past the data
    assert out["label"].iloc[5:-5].notna().all()


def test_duplicate_bars_are_rejected():
    frame = long_bars(10, symbols=("AAA",))
    with pytest.raises(ValueError, match="duplicate"):
        triple_barrier_on_bars(pd.concat([frame, frame.tail(1)]), max_holding=3, vol_span=3, vol_min_periods=2)


@settings(max_examples=25, deadline=None)
@given(t=st.integers(10, 40), bump=st.floats(0.5, 2.0))
def test_triple_barrier_label_at_t_ignores_prices_after_its_window(t, bump):
    frame = long_bars(60, symbols=("AAA",))
    h = 5
    later = frame.copy()
    later.loc[later.index > t + h, "close"] *= bump  # only bars after t's holding window change
    a = triple_barrier_on_bars(frame, max_holding=h, vol_span=10, vol_min_periods=5)
    b = triple_barrier_on_bars(later, max_holding=h, vol_span=10, vol_min_periods=5)
    pd.testing.assert_series_equal(a.loc[: t, "label"], b.loc[: t, "label"])
    assert np.array_equal(a.loc[: t, "ret"].to_numpy(), b.loc[: t, "ret"].to_numpy(), equal_nan=True)

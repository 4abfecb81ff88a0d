"""session_factors / adjust_from_factors: stored factors are point in time and reproduce adjusted_ohlcv exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate_frames import bars, days, dividend, events, split
from trademl.curate import adjust_from_factors, adjusted_ohlcv, session_factors

D = days("2024-03-04", 10)


def test_factors_are_cumulative_products_of_events_on_or_before_each_session():
    b = bars("AAA", D[:5], [100, 100, 50, 49, 49])
    out = session_factors(b, events(split("AAA", D[2], 2.0), dividend("AAA", D[3], 1.0)))
    assert out["split_factor"].tolist() == [1.0, 1.0, 2.0, 2.0, 2.0]
    assert out["div_factor_crsp"].tolist() == pytest.approx([1, 1, 1, 0.98, 0.98])  # 1 - 1/50
    assert out["div_factor_alpha_vantage"].tolist() == pytest.approx([1, 1, 1, 49 / 50, 49 / 50])
    assert list(out.columns) == ["date", "symbol", "open", "high", "low", "close", "volume", "split_factor",
                                 "div_factor_crsp", "div_factor_alpha_vantage", "delisting_return"]


def test_a_later_event_leaves_every_stored_row_before_its_ex_date_unchanged():
    b = bars("AAA", D[:6], [100, 100, 50, 49, 49, 20])
    before = session_factors(b, events(split("AAA", D[2], 2.0)))
    after = session_factors(b, events(split("AAA", D[2], 2.0), split("AAA", D[5], 2.5)))
    pd.testing.assert_frame_equal(before.iloc[:5], after.iloc[:5])
    assert after["split_factor"].iloc[5] == 5.0


def test_seeded_factors_continue_the_stored_products():
    b = bars("AAA", D[:6], [100, 100, 50, 49, 49, 24])
    ev = events(split("AAA", D[2], 2.0), dividend("AAA", D[3], 1.0), split("AAA", D[5], 2.0))
    whole = session_factors(b, ev)
    seed = whole.iloc[[3]]
    tail = session_factors(b.iloc[4:], ev, seed=seed)
    pd.testing.assert_frame_equal(tail.reset_index(drop=True), whole.iloc[4:].reset_index(drop=True))


def test_seed_close_is_the_previous_close_of_a_dividend_on_the_first_bar():
    b = bars("AAA", D[:3], [100, 100, 98])
    seed = session_factors(b.iloc[:2], events()).iloc[[1]]
    tail = session_factors(b.iloc[2:], events(dividend("AAA", D[2], 2.0)), seed=seed)
    assert tail["div_factor_crsp"].iloc[0] == pytest.approx(0.98)


def test_delisting_return_lands_on_its_symbol_and_session():
    b = bars("AAA", D[:3], [10, 11, 12])
    dl = pd.DataFrame({"symbol": ["AAA"], "date": [D[2]], "delisting_return": [-0.3]})
    out = session_factors(b, events(), delisting=dl)
    assert out["delisting_return"].isna().tolist() == [True, True, False]
    assert out["delisting_return"].iloc[2] == -0.3


@st.composite
def market(draw):
    """Two symbols over 10 sessions with random closes and a few random splits and dividends."""
    frames, evs = [], []
    for sym in ("AAA", "BBB"):
        closes = draw(st.lists(st.floats(5, 500), min_size=10, max_size=10))
        frames.append(bars(sym, D, closes, draw(st.lists(st.integers(0, 10**6), min_size=10, max_size=10))))
        for i in draw(st.sets(st.integers(1, 9), max_size=3)):
            if draw(st.booleans()):
                evs.append(split(sym, D[i], draw(st.sampled_from([0.5, 2.0, 3.0, 1.5]))))
            else:
                evs.append(dividend(sym, D[i], draw(st.floats(0.01, 4.0))))
    return pd.concat(frames, ignore_index=True), events(*evs)


@settings(max_examples=25, deadline=None)
@given(market(), st.integers(0, 9), st.sampled_from(["crsp", "alpha_vantage"]))
def test_adjust_from_stored_factors_equals_adjusted_ohlcv_exactly(m, k, convention):
    b, ev = m
    direct = adjusted_ohlcv(b, ev, convention=convention, asof=D[k])
    stored = adjust_from_factors(session_factors(b, ev), asof=D[k], convention=convention)
    for col in ("adj_open", "adj_high", "adj_low", "adj_close", "adj_volume"):
        np.testing.assert_array_equal(direct[col].to_numpy(), stored[col].to_numpy())


@settings(max_examples=25, deadline=None)
@given(market(), st.integers(0, 8), st.sampled_from(["crsp", "alpha_vantage"]))
def test_events_and_bars_after_t_leave_adjusted_as_of_t_unchanged(m, k, convention):
    b, ev = m
    t = pd.Timestamp(D[k])
    known_b = b[pd.to_datetime(b["date"]) <= t]
    known_ev = ev[pd.to_datetime(ev["ex_date"]) <= t]
    changed_after_t = b.assign(close=np.where(pd.to_datetime(b["date"]) > t, b["close"] * 3.0, b["close"]))
    late = [split("AAA", D[k + 1], 4.0), dividend("BBB", D[9], 1.0)]
    full = adjusted_ohlcv(changed_after_t, events(*ev.to_dict("records"), *late), convention=convention, asof=D[k])
    known = adjusted_ohlcv(known_b, known_ev, convention=convention, asof=D[k])
    np.testing.assert_allclose(full["adj_close"].to_numpy(), known["adj_close"].to_numpy(), rtol=0, atol=0)
    assert pd.to_datetime(full["date"]).max() <= t

"""check_corp_actions: one bad input per test, each naming its symbol and session; blocked events adjust nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from curate_frames import bars, days, dividend, events, split
from trademl.curate import BLOCKING_CODES, adjusted_ohlcv, check_corp_actions, session_factors

D = days("2024-03-04", 5)
B = bars("AAA", D, [100, 100, 50, 50, 50])


def problems(ev, b=B, window=D):
    return check_corp_actions(ev, b, window)


def only(found: pd.DataFrame, code: str) -> pd.Series:
    rows = found[found["qc_code"] == code]
    assert len(rows) == 1, found
    return rows.iloc[0]


def test_zero_split_ratio_is_blocking_and_named():
    row = only(problems(events(split("AAA", D[2], 0.0))), "SPLIT_RATIO_INVALID")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[2])
    assert "SPLIT_RATIO_INVALID" in BLOCKING_CODES


def test_negative_split_ratio_is_blocking_and_adjusts_nothing():
    ev = events(split("AAA", D[2], -2.0))
    row = only(problems(ev), "SPLIT_RATIO_INVALID")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[2])
    assert adjusted_ohlcv(B, ev)["adj_close"].tolist() == pytest.approx([100, 100, 50, 50, 50])


def test_dividend_at_or_above_previous_close_is_blocking_and_adjusts_nothing():
    ev = events(dividend("AAA", D[2], 100.0))
    row = only(problems(ev), "DIVIDEND_EXCEEDS_CLOSE")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[2])
    assert "DIVIDEND_EXCEEDS_CLOSE" in BLOCKING_CODES
    assert session_factors(B, ev)["div_factor_crsp"].tolist() == [1.0] * 5


def test_conflicting_duplicate_events_are_blocking_and_both_excluded():
    ev = events(split("AAA", D[2], 2.0), split("AAA", D[2], 3.0))
    row = only(problems(ev), "CORP_ACTION_CONFLICT")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[2])
    assert session_factors(B, ev)["split_factor"].tolist() == [1.0] * 5


def test_identical_duplicate_events_are_amber_and_applied_once():
    ev = events(split("AAA", D[2], 2.0), split("AAA", D[2], 2.0))
    row = only(problems(ev), "CORP_ACTION_DUPLICATE")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[2])
    assert "CORP_ACTION_DUPLICATE" not in BLOCKING_CODES
    assert session_factors(B, ev)["split_factor"].tolist() == [1, 1, 2, 2, 2]


def test_event_on_a_non_session_is_amber_and_applies_from_the_next_session():
    saturday = pd.Timestamp(D[4]) + pd.Timedelta(days=1)
    b = bars("AAA", days("2024-03-04", 6), [100, 100, 100, 100, 100, 50])
    ev = events(split("AAA", saturday.date(), 2.0))
    row = only(check_corp_actions(ev, b, days("2024-03-04", 6)), "CORP_ACTION_NON_SESSION")
    assert (row["symbol"], row["date"]) == ("AAA", saturday)
    assert "CORP_ACTION_NON_SESSION" not in BLOCKING_CODES
    assert session_factors(b, ev)["split_factor"].tolist() == [1, 1, 1, 1, 1, 2]


def test_missing_bar_inside_the_window_is_amber_and_named():
    gap = B.drop(index=3)
    row = only(problems(events(), gap), "BARS_MISSING")
    assert (row["symbol"], row["date"].date()) == ("AAA", D[3])
    assert "BARS_MISSING" not in BLOCKING_CODES


def test_sessions_before_a_symbols_first_bar_are_not_missing():
    late_listing = B.iloc[2:]
    assert problems(events(), late_listing).empty


def test_clean_input_has_no_problems():
    assert problems(events(split("AAA", D[2], 2.0), dividend("AAA", D[3], 0.5))).empty

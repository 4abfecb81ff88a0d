"""forward_return_labels: forward k-session returns on a long daily panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl.calendar import sessions
from trademl.labels import forward_return_labels


def daily(dates: list[str], closes: list[float], symbol: str = "AAA") -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbol, "date": pd.to_datetime(dates), "close": closes})


FIVE_SESSIONS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]


def test_one_session_simple_return_is_next_close_over_close():
    out = forward_return_labels(daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]), 1)
    expected = [0.10, -0.10, 22 / 99, -1 / 11, np.nan]
    np.testing.assert_allclose(out["ret_fwd_1d"], expected, rtol=1e-12)


def test_two_session_return_skips_one_session_and_leaves_last_two_nan():
    out = forward_return_labels(daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]), 2)
    np.testing.assert_allclose(out["ret_fwd_2d"], [-0.01, 0.10, 110 / 99 - 1, np.nan, np.nan], rtol=1e-12)


def test_log_kind_is_log_of_gross_return_and_both_gives_both_columns():
    out = forward_return_labels(daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]), [1, 3], kind="both")
    assert list(out.columns) == [
        "symbol",
        "date",
        "ret_fwd_1d",
        "logret_fwd_1d",
        "ret_fwd_3d",
        "logret_fwd_3d",
    ]
    np.testing.assert_allclose(
        out["logret_fwd_3d"], [np.log(1.21), np.log(1.0), np.nan, np.nan, np.nan], rtol=1e-12
    )
    only_log = forward_return_labels(daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]), 1, kind="log")
    assert "ret_fwd_1d" not in only_log and "logret_fwd_1d" in only_log


def test_horizon_counts_xnys_sessions_so_july_fourth_and_weekend_are_skipped():
    # 2024-07-04 is a holiday and 07-06/07 a weekend: one session after 07-03 is 07-05, after 07-05 is 07-08.
    out = forward_return_labels(
        daily(["2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"], [10, 11, 12, 15]), 1
    )
    np.testing.assert_allclose(out["ret_fwd_1d"], [0.1, 1 / 11, 0.25, np.nan], rtol=1e-12)


def test_missing_session_in_a_symbols_history_gives_nan_instead_of_the_next_bar():
    # 2024-01-04 is missing: one session after 01-03 is absent, so no label (a row shift would use 01-05).
    out = forward_return_labels(
        daily(["2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"], [10, 11, 12, 15]), 1
    )
    np.testing.assert_allclose(out["ret_fwd_1d"], [0.1, np.nan, 0.25, np.nan], rtol=1e-12)


def test_symbols_never_borrow_each_others_future_rows_in_a_date_sorted_panel():
    a = daily(FIVE_SESSIONS[:3], [100, 101, 102], "A")
    b = daily(FIVE_SESSIONS, [50, 55, 60, 65, 70], "B")
    panel = pd.concat([a, b]).sort_values(["date", "symbol"]).reset_index(drop=True)
    out = forward_return_labels(panel, 1)
    got = out.set_index(["symbol", "date"])["ret_fwd_1d"]
    assert np.isnan(got[("A", pd.Timestamp("2024-01-04"))])
    assert got[("A", pd.Timestamp("2024-01-02"))] == pytest.approx(0.01)
    assert got[("B", pd.Timestamp("2024-01-05"))] == pytest.approx(70 / 65 - 1)


def test_result_keeps_the_input_index_and_row_order():
    frame = daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]).set_index(pd.Index(list("vwxyz")))
    out = forward_return_labels(frame, 1)
    assert list(out.index) == list("vwxyz")
    assert out.loc["w", "ret_fwd_1d"] == pytest.approx(-0.1)


def test_nan_close_at_either_end_gives_nan_label_only_there():
    out = forward_return_labels(daily(FIVE_SESSIONS, [100, np.nan, 99, 121, 110]), 1)
    np.testing.assert_allclose(out["ret_fwd_1d"], [np.nan, np.nan, 22 / 99, -1 / 11, np.nan], rtol=1e-12)


def test_frame_without_symbol_column_is_one_instrument():
    frame = daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]).drop(columns="symbol")
    out = forward_return_labels(frame, 1, price_col="close")
    assert list(out.columns) == ["date", "ret_fwd_1d"]
    assert out["ret_fwd_1d"].iloc[0] == pytest.approx(0.1)


@settings(max_examples=40, deadline=None)
@given(
    closes=st.lists(st.floats(1.0, 1000.0), min_size=8, max_size=30),
    k=st.integers(1, 5),
    data=st.data(),
)
def test_perturbing_closes_outside_t_to_t_plus_k_changes_no_label_at_t(closes, k, data):
    n = len(closes)
    dates = sessions("2024-01-02", "2024-06-28")[:n]
    frame = pd.DataFrame({"symbol": "A", "date": dates, "close": closes})
    t = data.draw(st.integers(0, n - 1))
    outside = [i for i in range(n) if i < t or i > t + k]
    if not outside:
        return
    i = data.draw(st.sampled_from(outside))
    shocked = frame.copy()
    shocked.loc[i, "close"] = shocked.loc[i, "close"] * 3.7
    base = forward_return_labels(frame, k)[f"ret_fwd_{k}d"].iloc[t]
    after = forward_return_labels(shocked, k)[f"ret_fwd_{k}d"].iloc[t]
    assert (np.isnan(base) and np.isnan(after)) or base == after
    if t + k >= n:
        assert np.isnan(base)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizons": -1}, ">= 1"),
        ({"horizons": 0}, ">= 1"),
        ({"horizons": 2.5}, "positive integer"),
        ({"horizons": []}, "empty"),
        ({"horizons": 1, "kind": "excess"}, "kind"),
        ({"horizons": 1, "price_col": "adj_close"}, "missing required column"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        forward_return_labels(daily(FIVE_SESSIONS, [100, 110, 99, 121, 110]), **kwargs)


def test_unsorted_dates_within_a_symbol_raise():
    frame = daily(["2024-01-03", "2024-01-02", "2024-01-04"], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unsorted"):
        forward_return_labels(frame, 1)


def test_duplicate_dates_within_a_symbol_raise():
    frame = daily(["2024-01-02", "2024-01-02", "2024-01-04"], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="duplicate"):
        forward_return_labels(frame, 1)


def test_nan_only_prices_raise():
    with pytest.raises(ValueError, match="NaN-only"):
        forward_return_labels(daily(FIVE_SESSIONS[:3], [np.nan] * 3), 1)


def test_non_session_date_raises():
    with pytest.raises(ValueError, match="not an XNYS session"):
        forward_return_labels(daily(["2024-07-03", "2024-07-04"], [1.0, 2.0]), 1)


def test_non_positive_price_raises():
    with pytest.raises(ValueError, match="non-positive"):
        forward_return_labels(daily(FIVE_SESSIONS[:2], [1.0, 0.0]), 1)


def test_empty_frame_raises():
    with pytest.raises(ValueError, match="empty"):
        forward_return_labels(daily([], []), 1)

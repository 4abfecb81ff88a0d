"""The synthetic market is a pure function of its config: same request, same bytes; ranges never matter."""

from __future__ import annotations

import pandas as pd
import pytest
from synthetic_requests import fetch


@pytest.mark.parametrize("dataset", ["equities_eod", "equities_minute", "options_chains", "universe", "macros_fred"])
def test_same_request_to_two_connectors_gives_identical_frames(make_connector, dataset):
    a = fetch(make_connector(), dataset, "2024-03-04", "2024-03-06")
    b = fetch(make_connector(), dataset, "2024-03-04", "2024-03-06")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("dataset", ["equities_eod", "equities_minute", "corp_actions", "index_membership", "macros_fred"])
def test_sub_range_equals_slice_of_larger_range(make_connector, dataset):
    big = fetch(make_connector(signal_strength=0.05), dataset, "2024-01-02", "2024-12-31" if dataset != "equities_minute" else "2024-01-10")
    small = fetch(make_connector(signal_strength=0.05), dataset, "2024-01-08", "2024-01-09")
    day = pd.to_datetime(big["date"])
    expected = big[(day >= "2024-01-08") & (day <= "2024-01-09")].reset_index(drop=True)
    assert len(small) > 0 or dataset == "corp_actions"
    pd.testing.assert_frame_equal(small, expected)


def test_a_session_is_the_same_after_a_request_that_simulated_further(make_connector):
    conn = make_connector()
    first = fetch(conn, "equities_eod", "2023-06-01", "2023-06-01")
    fetch(conn, "equities_eod", "2025-06-02", "2025-06-02")  # extends the cached simulation horizon
    pd.testing.assert_frame_equal(fetch(conn, "equities_eod", "2023-06-01", "2023-06-01"), first)


def test_different_seeds_give_different_prices(make_connector):
    a = fetch(make_connector(seed=1), "equities_eod", "2024-03-04", "2024-03-04")
    b = fetch(make_connector(seed=2), "equities_eod", "2024-03-04", "2024-03-04")
    assert not a["close"].equals(b["close"])


def test_ingested_at_is_session_close_plus_publication_lag(make_connector):
    frame = fetch(make_connector(publication_lag_minutes=15), "equities_eod", "2024-11-29", "2024-12-02")
    by_day = frame.groupby(frame["date"].dt.strftime("%Y-%m-%d"))["ingested_at"].unique()
    # 2024-11-29 is a half day (close 13:00 ET = 18:00 UTC); 2024-12-02 closes 16:00 ET = 21:00 UTC.
    assert list(by_day["2024-11-29"]) == [pd.Timestamp("2024-11-29 18:15", tz="UTC")]
    assert list(by_day["2024-12-02"]) == [pd.Timestamp("2024-12-02 21:15", tz="UTC")]
    assert set(frame["source_name"]) == {"synthetic"}
    assert frame["source_uri"].str.startswith("synthetic://equities_eod?date=").all()

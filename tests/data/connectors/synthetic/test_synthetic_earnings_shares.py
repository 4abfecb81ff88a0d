"""The synthetic market's earnings calendar and shares outstanding: quarterly, PIT, consistent with the bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from synthetic_requests import fetch

from trademl import calendar
from trademl.schemas import conform

BUSY = {"n_symbols": 30, "lifecycle": {"ipo_fraction": 0.5, "delist_fraction": 0.5, "lifecycle_years": 1.5, "stable_symbols": 2}}
START, END = "2023-01-03", "2024-12-31"


@pytest.fixture(scope="module")
def busy():
    import datetime as dt

    from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

    base = {"origin": dt.date(2023, 1, 3), "minute_missing_prob": 0.0, "outages": (), **BUSY}
    conn = SyntheticConnector(SyntheticConfig().with_overrides(**base))
    return {
        "conn": conn,
        "bars": fetch(conn, "equities_eod", START, END),
        "earnings": fetch(conn, "earnings_calendar", START, END),
        "shares": fetch(conn, "shares_outstanding", START, END),
        "delist": fetch(conn, "delistings", START, END),
    }


def test_earnings_and_shares_fit_their_schemas(busy):
    conform("earnings_calendar", busy["earnings"], vendor="synthetic")
    conform("shares_outstanding", busy["shares"], vendor="synthetic")


def test_each_listed_symbol_reports_once_a_quarter(busy):
    e = busy["earnings"]
    stable = e[e["symbol"].isin(["SYN001", "SYN002"])]
    quarters = pd.to_datetime(stable["earnings_date"]).dt.to_period("Q")
    per = stable.groupby([stable["symbol"], quarters]).size()
    assert (per == 1).all()
    # Every quarter of the two years has its announcement (one for Q4 2024 results may be known already).
    expected = set(pd.period_range("2023Q1", "2024Q4", freq="Q"))
    for _, q in quarters.groupby(stable["symbol"]):
        assert expected <= set(q) <= expected | {pd.Period("2025Q1", freq="Q")}


def test_earnings_are_announced_four_to_six_weeks_ahead(busy):
    e = busy["earnings"]
    listed = busy["conn"].roster.frame().set_index("symbol")["listed_date"]
    # Announcements due before a name's first session (or the origin) are known from that session on.
    clipped = pd.to_datetime(e["known_date"]).to_numpy() <= listed[e["symbol"]].to_numpy()
    assert (pd.to_datetime(e["known_date"]).to_numpy() >= listed[e["symbol"]].to_numpy()).all()
    later = e[~clipped & (pd.to_datetime(e["known_date"]) > pd.Timestamp("2023-03-01"))]
    notice = (pd.to_datetime(later["earnings_date"]) - pd.to_datetime(later["known_date"])).dt.days
    assert notice.between(28 - 4, 42).all()  # -4: the known day rolls forward over a weekend or holiday
    assert (e["date"] == e["known_date"]).all()
    assert set(e["time_of_day"]) <= {"bmo", "amc", "dmh"} and {"bmo", "amc"} <= set(e["time_of_day"])


def test_earnings_dates_are_sessions_while_the_symbol_trades(busy):
    e, bars = busy["earnings"], busy["bars"]
    e = e[pd.to_datetime(e["earnings_date"]) <= pd.Timestamp(END)]
    traded = set(zip(bars["symbol"], pd.to_datetime(bars["date"])))
    assert all((s, d) in traded for s, d in zip(e["symbol"], pd.to_datetime(e["earnings_date"])))


def test_a_read_through_t_sees_only_earnings_known_by_t(busy):
    t = "2024-03-15"
    early = fetch(busy["conn"], "earnings_calendar", START, t)
    assert (pd.to_datetime(early["known_date"]) <= pd.Timestamp(t)).all()
    full = busy["earnings"]
    assert early.equals(full[pd.to_datetime(full["date"]) <= pd.Timestamp(t)].reset_index(drop=True))


def test_share_counts_are_filed_30_to_45_days_after_the_quarter_end(busy):
    s = busy["shares"]
    lag = (pd.to_datetime(s["filing_date"]) - pd.to_datetime(s["period_end"])).dt.days
    assert lag.between(30, 45).all()
    rolled = calendar.sessions_on_or_after(pd.to_datetime(s["filing_date"]))
    assert (pd.DatetimeIndex(pd.to_datetime(s["date"])) == rolled).all()
    assert (pd.to_datetime(s["period_end"]).dt.is_quarter_end).all()


def test_market_value_from_shares_matches_the_size_traits(busy):
    """close x reported shares stays within a few percent of the market's own shares (buybacks drift slowly)."""
    s, conn = busy["shares"], busy["conn"]
    panel = conn.panel(len(conn.timeline))
    t = conn.timeline.sessions.searchsorted(pd.to_datetime(s["period_end"]), side="right") - 1
    idx = conn.roster.index_of(s["symbol"].to_numpy())
    ok = t >= 0
    ratio = s["shares_outstanding"].to_numpy()[ok] / panel.shares[t[ok], idx[ok]]
    assert np.all((ratio > 0.9) & (ratio < 1.1))
    assert ratio.std() > 0.001  # buybacks and issuance do move the count
    log_mcap = np.log(s["shares_outstanding"].to_numpy()[ok] * panel.close[t[ok], idx[ok]])
    assert 16.0 < np.median(log_mcap) < 27.0  # $10m .. $500bn: sensible market values


def test_delisted_names_stop_filing_at_their_delisting(busy):
    s, d = busy["shares"], busy["delist"]
    gone = d.set_index("symbol")["delist_date"].map(pd.Timestamp)
    filed = s[s["symbol"].isin(gone.index)]
    assert len(filed) > 0
    assert (pd.to_datetime(filed["date"]).to_numpy() < gone[filed["symbol"]].to_numpy()).all()


def test_new_streams_leave_existing_universe_unchanged(busy):
    """Earnings and shares draw from their own streams: the bars do not depend on having fetched them."""
    import datetime as dt

    from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

    base = {"origin": dt.date(2023, 1, 3), "minute_missing_prob": 0.0, "outages": (), **BUSY}
    fresh = SyntheticConnector(SyntheticConfig().with_overrides(**base))
    bars = fetch(fresh, "equities_eod", START, END)
    assert bars.equals(busy["bars"])


@hsettings(max_examples=15, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(calendar.sessions(START, END)) - 1))
def test_partitions_through_t_do_not_depend_on_later_sessions(busy, cut):
    """A request ending at t returns exactly the stored rows of a longer request up to t (both tables)."""
    t = calendar.sessions(START, END)[cut]
    for dataset in ("earnings_calendar", "shares_outstanding"):
        short = fetch(busy["conn"], dataset, START, t.date().isoformat())
        full = busy["earnings" if dataset == "earnings_calendar" else "shares"]
        pd.testing.assert_frame_equal(short, full[pd.to_datetime(full["date"]) <= t].reset_index(drop=True))

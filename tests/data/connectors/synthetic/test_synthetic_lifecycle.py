"""Splits, dividends, IPOs and delistings agree between the reference tables and the as-traded bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_requests import fetch

from trademl import calendar

BUSY = {
    "n_symbols": 30,
    "corporate": {"split_above": 60.0, "split_target": 30.0, "reverse_split_below": 1.0},
    "lifecycle": {"ipo_fraction": 0.5, "delist_fraction": 0.5, "lifecycle_years": 1.5, "stable_symbols": 2},
}
START, END = "2023-01-03", "2024-12-31"


@pytest.fixture
def busy(make_connector):
    conn = make_connector(**BUSY)
    return {
        "bars": fetch(conn, "equities_eod", START, END),
        "corp": fetch(conn, "corp_actions", START, END),
        "delist": fetch(conn, "delistings", START, END),
        "universe": fetch(conn, "universe", START, END),
    }


def _closes(bars: pd.DataFrame) -> pd.DataFrame:
    return bars.pivot(index="date", columns="symbol", values="close")


def test_split_is_a_corp_action_row_and_a_ratio_jump_in_raw_close(busy):
    splits = busy["corp"][busy["corp"]["event_type"] == "SPLIT"]
    assert len(splits) >= 3
    closes = _closes(busy["bars"])
    for row in splits.itertuples():
        pos = closes.index.get_loc(row.ex_date)
        prev, ex = closes[row.symbol].iloc[pos - 1], closes[row.symbol].iloc[pos]
        assert abs(np.log(ex * row.ratio / prev)) < 0.25  # continuous once adjusted
        assert abs(np.log(ex / prev)) > abs(np.log(row.ratio)) - 0.25  # a visible jump in raw prices


def test_dividend_rows_have_positive_amount_below_the_previous_close(busy):
    divs = busy["corp"][busy["corp"]["event_type"] == "DIVIDEND"]
    assert len(divs) >= 10
    closes = _closes(busy["bars"])
    prev = np.array([closes[r.symbol].iloc[closes.index.get_loc(r.ex_date) - 1] for r in divs.itertuples()])
    assert ((divs["amount"] > 0) & (divs["amount"].to_numpy() < 0.2 * prev)).all()
    assert (divs["record_date"] > divs["ex_date"]).all() and (divs["pay_date"] > divs["record_date"]).all()


def test_delisted_symbol_has_no_bars_from_its_delisting_date(busy):
    delist = busy["delist"]
    assert len(delist) >= 2
    bars = busy["bars"]
    for row in delist.itertuples():
        own = bars.loc[bars["symbol"] == row.symbol, "date"]
        assert own.max() == calendar.previous_session(row.delist_date)
        assert (own < row.delist_date).all()


def test_ipo_symbol_has_no_bars_before_its_listing_date(busy):
    uni = busy["universe"]
    ipos = uni.loc[uni["listed_date"] > pd.Timestamp(START), ["symbol", "listed_date"]].drop_duplicates()
    assert len(ipos) >= 2
    bars = busy["bars"]
    for row in ipos.itertuples():
        assert bars.loc[bars["symbol"] == row.symbol, "date"].min() == row.listed_date


def test_universe_listed_symbols_equal_symbols_with_bars_every_session(busy):
    uni, bars = busy["universe"], busy["bars"]
    listed = uni[uni["is_listed"]].groupby("date")["symbol"].apply(frozenset)
    traded = bars.groupby("date")["symbol"].apply(frozenset)
    pd.testing.assert_series_equal(listed, traded, check_names=False)
    gone = uni[~uni["is_listed"]]
    assert len(gone) > 0 and (gone["exclusion_reason"] == "DELISTED").all() and (gone["date"] >= gone["delist_date"]).all()


def test_universe_symbols_matches_the_universe_table(make_connector):
    conn = make_connector(**BUSY)
    uni = fetch(conn, "universe", "2024-06-03", "2024-06-03")
    assert conn.universe_symbols(pd.Timestamp("2024-06-03").date()) == sorted(uni.loc[uni["is_listed"], "symbol"])
    assert conn.universe_symbols(pd.Timestamp("2022-12-30").date()) == []

"""Proof on real data: the crsp convention reproduces Yahoo's dividend adjustment.

Yahoo's Close is split-adjusted and its Adj Close split+dividend adjusted as of the download, so
Adj Close / Close is Yahoo's cumulative dividend factor; normalised to the last row (2019-12-30) it
must equal our D(T)/D(t) as of T = 2019-12-30, computed from Alpha Vantage's unadjusted AAPL bars
and its event table. AAPL is the one Yahoo file with dividends whose unadjusted history we have
(SPY's dividends are not in the event table; AMZN, GOOG, TSLA pay none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from real_corp_actions import av_bars, av_events
from trademl.curate import adjusted_ohlcv


def dividend_factors(root, symbol: str, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """(ours, Yahoo's) dividend factor relative to 2019-12-30 on Yahoo's dates."""
    yahoo = pd.read_csv(root / "daily_bars" / "yahoo" / f"{symbol}.csv")
    asof = yahoo["Date"].iloc[-1]
    out = adjusted_ohlcv(av_bars(root, [symbol]), av_events(root, [symbol]), convention=convention, asof=asof)
    out["Date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    both = out.merge(yahoo, on="Date")
    assert len(both) == len(yahoo) == 1258
    theirs = both["Adj Close"] / both["Close"]
    # no split inside 2014-12-31 .. 2019-12-30, so adj_close / close is our dividend factor ratio
    return (both["adj_close"] / both["close"]).to_numpy(), (theirs / theirs.iloc[-1]).to_numpy()


def test_crsp_dividend_factors_match_yahoo_for_aapl(real_data_dir):
    ours, theirs = dividend_factors(real_data_dir, "AAPL", "crsp")
    assert np.abs(ours / theirs - 1).max() < 2e-6
    assert theirs.min() < 0.93  # 5 years of dividends: the comparison is not trivial


def test_alpha_vantage_convention_misses_yahoo_by_more_than_crsp(real_data_dir):
    ours, theirs = dividend_factors(real_data_dir, "AAPL", "alpha_vantage")
    assert np.abs(ours / theirs - 1).max() > 1e-4


def test_non_dividend_payers_have_unit_dividend_factors_like_yahoo(real_data_dir):
    for symbol in ("AMZN", "GOOG", "TSLA"):
        ours, theirs = dividend_factors(real_data_dir, symbol, "crsp")
        assert np.abs(ours - 1).max() < 1e-12 and np.abs(theirs - 1).max() < 1e-6, symbol

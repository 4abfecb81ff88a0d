"""Proof on real data: the alpha_vantage convention reproduces Alpha Vantage's adjusted_close.

270 S&P 500 tickers, 1999-11-01 .. 2021-04-21, events from the shared dividends/splits table.
Every row must lie within 1e-4 relative on at least 98% of the tickers. The three exceptions are
known and explained below; the CRSP convention is shown NOT to be Alpha Vantage's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from real_corp_actions import av_bars, av_events
from trademl.curate import adjusted_ohlcv, check_corp_actions

# TRMB: a 2:1 split (close 56.09 -> 27.62 by 2007-02-26) is missing from the source's
# split_coefficient, but Alpha Vantage's adjusted_close applies it from 2007-02-23 on: every
# earlier row is off by 2.
# TMUS: the 2013-05-01 MetroPCS recombination (a 1-for-2 reverse split, booked by the source only as
# an 8.1 "dividend") is missing as a split: earlier rows are off by 0.5.
# KSU: the 2000-07-13 Stilwell spin-off is booked as a 181.0 dividend on a 93.75 previous close;
# a dividend >= the previous close is blocked (DIVIDEND_EXCEEDS_CLOSE), so we do not apply it.
EXCEPTIONS = {"TMUS", "TRMB", "KSU"}


@pytest.fixture(scope="module")
def adjusted(real_data_dir):
    bars = av_bars(real_data_dir)
    out = adjusted_ohlcv(bars, av_events(real_data_dir), convention="alpha_vantage")
    out["rel"] = (out["adj_close"] / out["adjusted_close"] - 1.0).abs()
    return out


def test_alpha_vantage_convention_matches_adjusted_close_on_98_percent_of_tickers(adjusted):
    worst = adjusted.groupby("symbol")["rel"].max()
    good = worst[worst <= 1e-4]
    assert len(worst) == 270
    assert len(good) / len(worst) >= 0.98
    assert set(worst.index) - set(good.index) == EXCEPTIONS


def test_trmb_mismatch_is_the_missing_2007_split(adjusted):
    trmb = adjusted[adjusted["symbol"] == "TRMB"].set_index(pd.to_datetime(adjusted.loc[adjusted["symbol"] == "TRMB", "date"]))
    ratio = trmb["adjusted_close"] / trmb["adj_close"]
    assert ratio[:"2007-02-22"].to_numpy() == pytest.approx(0.5, rel=1e-4)
    assert ratio["2007-02-23":].to_numpy() == pytest.approx(1.0, rel=1e-4)


def test_tmus_mismatch_is_the_missing_2013_reverse_split(adjusted):
    tmus = adjusted[adjusted["symbol"] == "TMUS"].set_index(pd.to_datetime(adjusted.loc[adjusted["symbol"] == "TMUS", "date"]))
    ratio = tmus["adjusted_close"] / tmus["adj_close"]
    assert ratio[:"2013-04-30"].to_numpy() == pytest.approx(2.0, rel=1e-3)
    assert ratio["2013-05-01":].to_numpy() == pytest.approx(1.0, rel=1e-4)


def test_ksu_spin_off_dividend_is_flagged_as_blocking(real_data_dir):
    bars = av_bars(real_data_dir, ["KSU"])
    found = check_corp_actions(av_events(real_data_dir, ["KSU"]), bars, pd.DatetimeIndex(pd.to_datetime(bars["date"])))
    blocked = found[found["qc_code"] == "DIVIDEND_EXCEEDS_CLOSE"]
    assert blocked[["symbol", "date"]].values.tolist() == [["KSU", pd.Timestamp("2000-07-13")]]


def test_crsp_convention_is_not_alpha_vantages(real_data_dir):
    bars = av_bars(real_data_dir, ["KO", "JNJ", "XOM"])
    out = adjusted_ohlcv(bars, av_events(real_data_dir, ["KO", "JNJ", "XOM"]), convention="crsp")
    rel = np.abs(out["adj_close"] / out["adjusted_close"] - 1.0)
    assert rel.groupby(out["symbol"]).max().min() > 1e-3

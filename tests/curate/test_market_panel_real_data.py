"""The market panel on the shared real slice: Alpha Vantage bars curated with their splits and dividends.

Alpha Vantage's own adjusted_close (split- and dividend-adjusted, its convention) is the independent
reference: the panel's total returns under the alpha_vantage convention must match its returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trademl.curate.market_panel import market_panel
from trademl.curate import session_factors

pytestmark = pytest.mark.realdata

TICKERS = ["AAPL", "JNJ"]  # AAPL: 7:1 split 2014-06-09 and 4:1 2020-08-31; both pay quarterly dividends
START, END = "2013-01-02", "2021-04-21"


@pytest.fixture(scope="module")
def bars_and_panel(real_data_dir: Path) -> tuple[pd.DataFrame, object]:
    bars = pd.read_parquet(
        real_data_dir / "daily_bars" / "alphavantage_sp500_daily_adjusted.parquet",
        filters=[("ticker", "in", TICKERS)],
    ).rename(columns={"ticker": "symbol"})
    bars["date"] = pd.to_datetime(bars["date"])
    bars = bars[(bars["date"] >= START) & (bars["date"] <= END)].reset_index(drop=True)
    splits = bars[bars["split_coefficient"] != 1.0]
    divs = bars[bars["dividend_amount"] != 0.0]
    events = pd.concat([
        pd.DataFrame({"symbol": splits["symbol"], "event_type": "SPLIT", "ex_date": splits["date"],
                      "ratio": splits["split_coefficient"], "amount": np.nan}),
        pd.DataFrame({"symbol": divs["symbol"], "event_type": "DIVIDEND", "ex_date": divs["date"],
                      "ratio": np.nan, "amount": divs["dividend_amount"]}),
    ], ignore_index=True)
    rows = session_factors(bars, events)
    return bars, market_panel(rows, convention="alpha_vantage")


def test_panel_total_returns_match_alpha_vantage_adjusted_close(bars_and_panel):
    bars, panel = bars_and_panel
    for symbol in TICKERS:  # two symbols
        ref = bars[bars["symbol"] == symbol].set_index(bars.loc[bars["symbol"] == symbol, "date"].dt.date)["adjusted_close"]
        ref_returns = (ref / ref.shift(1) - 1.0).iloc[1:]
        ours = panel.returns[symbol].reindex(ref_returns.index)
        assert len(ours) > 2000
        # same convention, same events: equal up to float rounding (measured < 1e-9)
        np.testing.assert_allclose(ours.to_numpy(), ref_returns.to_numpy(), atol=1e-8)


def test_split_day_is_not_a_return_jump_and_adv_counts_earlier_volume_in_post_split_shares(bars_and_panel):
    bars, panel = bars_and_panel
    split_day = pd.Timestamp("2020-08-31")
    assert abs(panel.returns.loc[split_day.date(), "AAPL"]) < 0.10  # the as-traded close fell 75 %
    aapl = bars[(bars["symbol"] == "AAPL") & (bars["date"] <= split_day)].tail(20)
    restated = np.where(aapl["date"] < split_day, 4.0, 1.0) * aapl["volume"].to_numpy(float)
    assert panel.adv.loc[split_day.date(), "AAPL"] == pytest.approx(restated.mean())

"""equities_xs on real Alpha Vantage bars (../shared/data/real): sessions missing inside a range
(KIM), zero-volume rows (ODFL), the 2020-08-31 splits of AAPL (4:1) and TSLA (5:1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from xs_reference import naive_raw

from trademl.features.equities_xs import EquitiesXsConfig, build_features

pytestmark = pytest.mark.realdata

TICKERS = ["AAPL", "KIM", "KO", "ODFL", "TSLA"]
PARQUET = Path("daily_bars") / "alphavantage_sp500_daily_adjusted.parquet"
V1 = EquitiesXsConfig()
BEFORE_SPLIT = pd.Timestamp("2020-08-28")  # last session before the AAPL / TSLA ex-date 2020-08-31
RETURN_BASED = ["mom_5", "mom_20", "mom_60", "mom_126", "gap_overnight_20", "gap_intraday_20", "drawdown_20", "drawdown_60",
                "rv_20", "rv_60", "downside_vol_20", "adv_20", "amihud_20"]  # fmt: skip


@pytest.fixture(scope="module")
def as_traded(real_data_dir: Path) -> pd.DataFrame:
    """As-traded bars of the tickers over 2000-01-03..2021-04-21 with their split coefficients."""
    table = pq.read_table(
        real_data_dir / PARQUET,
        columns=["ticker", "date", "open", "high", "low", "close", "volume", "split_coefficient"],
        filters=[("ticker", "in", TICKERS)],
    )
    frame = table.to_pandas(date_as_object=False).rename(columns={"ticker": "symbol"})
    frame["date"] = frame["date"].astype("datetime64[ns]")
    return frame[frame["date"] >= "2000-01-03"].reset_index(drop=True)


def split_adjusted(frame: pd.DataFrame) -> pd.DataFrame:
    """Back-adjusted for splits as of the last row: prices / (product of later split coefficients), volume x it."""
    frame = frame.sort_values(["symbol", "date"]).reset_index(drop=True)
    later = frame.groupby("symbol")["split_coefficient"].transform(lambda s: s[::-1].cumprod()[::-1].shift(-1, fill_value=1.0))
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out[column] = frame[column] / later
    out["volume"] = frame["volume"] * later
    return out


def test_real_bars_with_gaps_and_zero_volume_match_the_naive_reference(as_traded):
    panel = as_traded[as_traded["symbol"].isin(["KIM", "KO", "ODFL"]) & (as_traded["date"] >= "2002-01-02")]
    panel = panel[panel["date"] <= "2006-12-29"]  # ODFL zero volumes up to 2002-09, KIM gaps in 2006
    assert panel.groupby("symbol").size()["KIM"] < panel.groupby("symbol").size()["KO"]  # KIM misses sessions here
    ours = build_features(panel, V1, standardize=False)
    ref = naive_raw(panel, V1)
    pd.testing.assert_frame_equal(ours[list(ref.columns)], ref, check_exact=False, rtol=1e-9, atol=1e-12, check_dtype=False)


def test_the_2020_splits_leave_features_before_the_ex_date_unchanged(as_traded):
    panel = as_traded[as_traded["date"] >= "2019-06-03"]
    # Adjusted as of t: the splits before t (ODFL 3:2 on 2020-03-24) are applied, the 2020-08-31 ones unknown.
    as_of_t = build_features(split_adjusted(panel[panel["date"] <= BEFORE_SPLIT]), V1, standardize=False)
    as_of_later = build_features(split_adjusted(panel), V1, standardize=False)
    a = as_of_t[as_of_t["date"] == BEFORE_SPLIT].reset_index(drop=True)
    b = as_of_later[as_of_later["date"] == BEFORE_SPLIT].reset_index(drop=True)
    assert a["symbol"].tolist() == TICKERS and a["mom_126"].notna().all()
    pd.testing.assert_frame_equal(a[RETURN_BASED], b[RETURN_BASED], check_exact=False, rtol=1e-9)
    std_t = build_features(split_adjusted(panel[panel["date"] <= BEFORE_SPLIT]), V1)
    std_later = build_features(split_adjusted(panel), V1)
    cols = [f"feat_{c}" for c in RETURN_BASED]
    np.testing.assert_allclose(
        std_t.loc[std_t["date"] == BEFORE_SPLIT, cols].to_numpy(), std_later.loc[std_later["date"] == BEFORE_SPLIT, cols].to_numpy(), rtol=1e-9
    )


def test_unadjusted_prices_across_the_split_would_show_a_fake_crash(as_traded):
    panel = as_traded[as_traded["date"] >= "2019-06-03"]
    t = pd.Timestamp("2020-09-15")
    raw = build_features(panel, V1, standardize=False).set_index(["date", "symbol"])
    adj = build_features(split_adjusted(panel), V1, standardize=False).set_index(["date", "symbol"])
    assert raw.loc[(t, "AAPL"), "mom_20"] - adj.loc[(t, "AAPL"), "mom_20"] == pytest.approx(np.log(1 / 4), abs=1e-6)
    assert raw.loc[(t, "TSLA"), "mom_20"] - adj.loc[(t, "TSLA"), "mom_20"] == pytest.approx(np.log(1 / 5), abs=1e-6)

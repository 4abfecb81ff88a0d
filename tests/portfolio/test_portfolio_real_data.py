"""The portfolio constructor on real S&P 500 daily returns (shared/data/real, Alpha Vantage adjusted closes)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from trademl.portfolio import build, build_targets, risk_config

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def closes(real_data_dir) -> pd.DataFrame:
    """Adjusted closes (sessions x 269 tickers) from 2019-09-03 to 2020-06-30."""
    path = real_data_dir / "daily_bars" / "alphavantage_sp500_daily_adjusted.parquet"
    if not path.is_file():
        pytest.skip(f"real daily bars not found at {path}")
    table = pq.read_table(
        path,
        columns=["ticker", "date", "adjusted_close"],
        filters=[("date", ">=", dt.date(2019, 9, 3)), ("date", "<=", dt.date(2020, 6, 30))],
    )
    return table.to_pandas().pivot(index="date", columns="ticker", values="adjusted_close").sort_index()


def reversal_scores(closes: pd.DataFrame, asof: dt.date) -> pd.DataFrame:
    """Minus the 20-session return up to `asof` of every ticker (a short-term reversal score)."""
    past = closes.loc[:asof]
    score = -(past.iloc[-1] / past.iloc[-21] - 1.0).dropna()
    return pd.DataFrame({"date": asof, "symbol": score.index, "score": score.to_numpy()})


def test_march_2020_book_is_scaled_down_to_the_vol_target_within_every_limit(closes):
    cfg = risk_config()
    returns = closes.pct_change(fill_method=None).iloc[1:]
    result = build(reversal_scores(closes, dt.date(2020, 3, 20)), cfg, returns=returns)
    w = result["weights"]
    assert result["binding"]["vol_target"] and result["ex_ante_vol"] == pytest.approx(cfg.vol_target)
    assert result["gross"] < cfg.gross_cap
    assert w.abs().max() <= cfg.per_name_cap and -w[w < 0].sum() <= cfg.short_gross_cap
    assert abs(result["net"]) < 1e-12


def test_calm_january_2020_book_uses_the_full_gross_below_the_vol_target(closes):
    cfg = risk_config()
    returns = closes.pct_change(fill_method=None).iloc[1:]
    result = build(reversal_scores(closes, dt.date(2020, 1, 31)), cfg, returns=returns)
    assert result["gross"] == pytest.approx(cfg.gross_cap)
    assert result["ex_ante_vol"] < cfg.vol_target and not result["binding"]["vol_target"]
    assert 0.0 < result["shrinkage"] < 1.0


def test_real_targets_over_a_month_keep_the_turnover_limit(closes):
    cfg = risk_config()
    returns = closes.pct_change(fill_method=None).iloc[1:]
    days = [d for d in returns.index if dt.date(2020, 2, 3) <= d <= dt.date(2020, 2, 28)]
    scores = pd.concat([reversal_scores(closes, d) for d in days], ignore_index=True)
    targets = build_targets(scores, returns, cfg)
    wide = targets.pivot(index="date", columns="symbol", values="weight").fillna(0.0)
    assert (wide.diff().abs().sum(axis=1).iloc[1:] <= cfg.turnover_limit + 1e-12).all()
    assert np.allclose(wide.sum(axis=1), 0.0, atol=1e-12)

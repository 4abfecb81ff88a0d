"""Built-ins on the real daily bars of ../shared/data/real: TA-Lib parity and spec 003 formulas.

Tickers cover the README's anomalies: zero-volume rows (ODFL, MNST, CHTR, TTWO, ABMD), sessions
missing inside a range (KIM, VIAC), splits and reverse splits (AAPL, NVDA, TSLA, AIG, C, BKNG),
spin-offs booked as dividends (KSU, GOOGL), symbol re-use (ANTM) and a high price level (BKNG).
Prices are as traded (unadjusted), which is what TA-Lib gets too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import talib
from indicator_bars import assert_same_values
from spec003_reference import SPEC003_CASES, spec003_expected, spec003_id
from talib_reference import TALIB_CASES, case_id, reference_columns

from trademl.features.indicators import compute_indicator_set, get_indicator, load_indicator_set

pytestmark = pytest.mark.realdata

TICKERS = [
    "AAPL", "ABMD", "AIG", "ANTM", "BKNG", "BRK.B", "C", "CHTR", "GE", "GOOGL", "KIM", "KO",
    "KSU", "MNST", "NVDA", "ODFL", "TSLA", "TTWO", "VIAC", "XOM",
]  # fmt: skip
PARQUET = Path("daily_bars") / "alphavantage_sp500_daily_adjusted.parquet"


@pytest.fixture(scope="module")
def real_panel(real_data_dir: Path) -> pd.DataFrame:
    """The chosen tickers' as-traded daily bars as a ``symbol``/``date`` panel sorted by symbol, date."""
    table = pq.read_table(
        real_data_dir / PARQUET,
        columns=["ticker", "date", "open", "high", "low", "close", "volume"],
        filters=[("ticker", "in", TICKERS)],
    )
    frame = table.to_pandas().rename(columns={"ticker": "symbol"})
    frame["volume"] = frame["volume"].astype(np.float64)
    return frame.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


def _by_symbol(panel: pd.DataFrame) -> list[tuple[str, pd.Index]]:
    return [(symbol, rows.index) for symbol, rows in panel.groupby("symbol", sort=True)]


def test_real_panel_has_the_anomalies_it_is_chosen_for(real_panel: pd.DataFrame) -> None:
    assert set(real_panel["symbol"]) == set(TICKERS)
    assert (real_panel["volume"] == 0).sum() > 100
    assert real_panel["close"].max() > 2_000


@pytest.mark.parametrize("case", TALIB_CASES, ids=case_id)
def test_builtin_matches_talib_on_real_daily_bars(real_panel: pd.DataFrame, case) -> None:
    name, params, _ = case
    result = get_indicator(name)(**params).calculate(real_panel)
    for symbol, rows in _by_symbol(real_panel):
        bars = {col: real_panel.loc[rows, col].to_numpy(np.float64) for col in ("high", "low", "close", "volume")}
        for column, expected in reference_columns(case, bars).items():
            actual = result.loc[rows, column].to_numpy()
            try:
                assert_same_values(actual, expected, rtol=1e-9, atol=1e-8)
            except AssertionError as exc:
                raise AssertionError(f"{symbol} {column}: {exc}") from None


@pytest.mark.parametrize(
    "case", [case for case in SPEC003_CASES if case[0] != "time_of_day"], ids=spec003_id
)
def test_spec003_feature_matches_its_formula_on_real_daily_bars(real_panel: pd.DataFrame, case) -> None:
    name, params = case
    result = get_indicator(name)(**params).calculate(real_panel)
    for symbol, rows in _by_symbol(real_panel):
        for column, expected in spec003_expected(case, real_panel.loc[rows]).items():
            actual = result.loc[rows, column].to_numpy()
            try:
                assert_same_values(actual, expected, rtol=1e-8, atol=1e-10)
            except AssertionError as exc:
                raise AssertionError(f"{symbol} {column}: {exc}") from None


def test_minimal_set_on_real_panel_matches_talib_for_aapl(real_panel: pd.DataFrame) -> None:
    result = compute_indicator_set(real_panel, load_indicator_set("minimal"))
    rows = real_panel.index[real_panel["symbol"] == "AAPL"]
    h, l, c = (real_panel.loc[rows, col].to_numpy(np.float64) for col in ("high", "low", "close"))  # noqa: E741
    assert_same_values(result.loc[rows, "atr_14"].to_numpy(), talib.ATR(h, l, c, 14), rtol=1e-10, atol=1e-10)
    assert_same_values(result.loc[rows, "sma_20"].to_numpy(), talib.SMA(c, 20), rtol=1e-10, atol=1e-10)


def test_newest_first_csv_is_rejected_until_sorted(real_data_dir: Path) -> None:
    """Alpha Vantage delivers SPY newest first: the raw file must be refused, the sorted one accepted."""
    raw = pd.read_csv(real_data_dir / "daily_bars" / "spy_daily_alphavantage_unadjusted.csv")
    bars = raw.rename(columns={"timestamp": "date"})
    with pytest.raises(ValueError, match="not strictly increasing"):
        get_indicator("rsi")().calculate(bars)
    ordered = bars.sort_values("date").reset_index(drop=True)
    result = get_indicator("rsi")().calculate(ordered)
    assert_same_values(result["rsi_14"].to_numpy(), talib.RSI(ordered["close"].to_numpy(np.float64), 14), rtol=1e-10)


def test_time_features_and_vwap_distance_on_real_minute_bars(real_data_dir: Path) -> None:
    """SPY 1-minute bars stamped in ET with offsets: the encoding uses the wall clock written in the file."""
    path = next((real_data_dir / "minute_bars").glob("SPY_1min_*_polygon_et.csv.gz"))
    raw = pd.read_csv(path, nrows=20_000)
    bars = raw.assign(ts=pd.to_datetime(raw["datetime"], utc=True)).drop(columns="datetime")
    wall = raw["datetime"].str.slice(11, 16)
    minutes = wall.str.slice(0, 2).astype(int) * 60 + wall.str.slice(3, 5).astype(int)
    time_features = get_indicator("time_of_day")(timezone="America/New_York").calculate(bars)
    np.testing.assert_allclose(time_features["time_sin"], np.sin(2 * np.pi * minutes / 1440), atol=1e-12)
    np.testing.assert_allclose(time_features["time_cos"], np.cos(2 * np.pi * minutes / 1440), atol=1e-12)

    distance = get_indicator("dist_vwap")(period=30).calculate(bars)["dist_vwap_30"]
    expected = spec003_expected(("dist_vwap", {"period": 30}), bars)["dist_vwap_30"]
    assert_same_values(distance.to_numpy(), expected, rtol=1e-9, atol=1e-12)

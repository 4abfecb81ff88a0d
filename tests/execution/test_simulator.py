"""Specification of the fill simulator (trademl.execution.simulator): SSOT 4.9 orders in, fills out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from trademl.execution.cost import CostModel
from trademl.execution.simulator import simulate
from trademl.schemas.execution import FILL_SCHEMA

CLOSE_UTC = pd.Timestamp("2024-01-04 21:00", tz="UTC")  # 16:00 New York, session 2024-01-04
MODEL = CostModel(fee_per_share=0.005, fee_bps=1.0, impact_coef=0.5)


def orders(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "ts": [CLOSE_UTC, CLOSE_UTC],
            "symbol": ["A", "B"],
            "side": ["BUY", "SELL"],
            "qty": [10_000.0, 250_000.0],
            "order_type": ["MKT", "MKT"],
            "limit_price": [float("nan"), float("nan")],
            "tif": ["DAY", "DAY"],
            "strategy_tag": ["equities_xs", "equities_xs"],
        }
    )
    return frame.assign(**overrides)


def market() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["A", "B"],
            "date": [dt.date(2024, 1, 4), dt.date(2024, 1, 4)],
            "price": [50.0, 20.0],
            "adv": [1_000_000.0, 4_000_000.0],
            "sigma_daily": [0.02, 0.015],
            "spread": [0.02, 0.0],
        }
    )


def test_buy_fills_above_and_sell_below_the_reference_by_half_spread_plus_impact():
    # A: half spread 0.010 + impact 0.5*0.02*sqrt(0.01)*50 = 0.050 -> 50.060
    # B: half spread 0 + impact 0.5*0.015*sqrt(0.0625)*20 = 0.0375 -> 19.9625
    fills, _ = simulate(orders(), MODEL, market())
    assert fills["price"].tolist() == pytest.approx([50.060, 19.9625])


def test_fees_go_into_fee_not_the_price():
    # A: (0.005 + 1bp * 50) * 10,000 = 100; B: (0.005 + 1bp * 20) * 250,000 = 1,750
    fills, _ = simulate(orders(), MODEL, market())
    assert fills["fee"].tolist() == pytest.approx([100.0, 1750.0])


def test_summary_cost_equals_the_cost_model_total():
    fills, summary = simulate(orders(), MODEL, market())
    expected = MODEL.estimate([10_000, 250_000], [50.0, 20.0], [1e6, 4e6], [0.02, 0.015], [0.02, 0.0])["cost"].sum()
    assert summary["total_cost"] == pytest.approx(expected)
    assert summary["fees"] == pytest.approx(1850.0)
    assert summary["slippage_cost"] == pytest.approx(0.060 * 10_000 + 0.0375 * 250_000)
    assert summary["slippage_bps"] == pytest.approx(summary["slippage_cost"] / (500_000 + 5_000_000) * 1e4)
    assert (summary["n_orders"], summary["n_fills"]) == (2, 2)


def test_fills_conform_to_the_ssot_fill_schema():
    fills, _ = simulate(orders(), MODEL, market())
    table = pa.Table.from_pandas(fills, schema=FILL_SCHEMA, preserve_index=False)
    assert table.num_rows == 2
    assert fills["order_id"].tolist() == ["o1", "o2"]
    assert fills["liquidity_flag"].tolist() == ["TAKER", "TAKER"]
    assert fills["fill_id"].is_unique


def test_limit_buy_below_the_modelled_price_does_not_fill():
    limit = orders(order_type=["LMT", "LMT"], limit_price=[50.05, 19.95])
    fills, summary = simulate(limit, MODEL, market())
    assert fills["order_id"].tolist() == ["o2"]  # 19.9625 >= 19.95 sells; 50.06 > 50.05 does not buy
    assert summary["n_fills"] == 1


def test_unknown_side_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"unknown side value\(s\) \['HOLD'\]"):
        simulate(orders(side=["BUY", "HOLD"]), MODEL, market())


def test_missing_order_column_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"lack column\(s\) \['tif'\]"):
        simulate(orders().drop(columns="tif"), MODEL, market())


@pytest.mark.parametrize("qty", [0.0, -5.0, float("nan")])
def test_non_positive_qty_is_rejected(qty):
    with pytest.raises(ValueError, match=r"qty must be positive.*\['o2'\]"):
        simulate(orders(qty=[10.0, qty]), MODEL, market())


def test_order_without_market_data_for_its_session_is_rejected():
    next_day = orders(ts=[CLOSE_UTC + pd.Timedelta(days=1)] * 2)
    with pytest.raises(ValueError, match="no market data for 2 order"):
        simulate(next_day, MODEL, market())


def test_naive_order_timestamps_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware UTC"):
        simulate(orders(ts=[CLOSE_UTC.tz_localize(None)] * 2), MODEL, market())

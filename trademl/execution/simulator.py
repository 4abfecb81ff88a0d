"""The fill simulator (SSOT 4.9, 7): orders in, fills out, with the pre-trade cost model's price.

One simulator for the backtest and paper trading. An order fills in full at its session's reference price
moved against it by the modelled per-share cost of trademl.execution.cost (half effective spread + square-root
impact go into the price; fees go into `fee`), so a fill's cost (price slippage x qty + fee) is exactly the
cost model's total for that order. A limit order fills only when that price is within its limit. Vectorised
over orders; frames follow trademl.schemas.execution (ORDER_SCHEMA in, FILL_SCHEMA out; UTC timestamps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.execution.cost import CostModel
from trademl.schemas.execution import FILL_COLUMNS, ORDER_COLUMNS, ORDER_SIDES, ORDER_TYPES, TIME_IN_FORCE

__all__ = ["MARKET_DATA_COLUMNS", "simulate", "validate_orders"]

# One row per (symbol, session date): reference price, ADV (shares), daily return vol (decimal), effective
# spread (currency per share).
MARKET_DATA_COLUMNS: tuple[str, ...] = ("symbol", "date", "price", "adv", "sigma_daily", "spread")


def validate_orders(orders: pd.DataFrame) -> None:
    """Raise ValueError naming the problem when `orders` does not follow the SSOT 4.9 order schema."""
    missing = [c for c in ORDER_COLUMNS if c not in orders.columns]
    if missing:
        raise ValueError(f"orders lack column(s) {missing}; the order schema needs {list(ORDER_COLUMNS)}")
    for column, allowed in (("side", ORDER_SIDES), ("order_type", ORDER_TYPES), ("tif", TIME_IN_FORCE)):
        bad = sorted(set(orders[column].astype(str)) - set(allowed))
        if bad:
            raise ValueError(f"orders have unknown {column} value(s) {bad}; allowed: {list(allowed)}")
    qty = pd.to_numeric(orders["qty"], errors="coerce").to_numpy(np.float64)
    if not (np.isfinite(qty) & (qty > 0)).all():
        bad_ids = orders.loc[~(np.isfinite(qty) & (qty > 0)), "order_id"].astype(str).tolist()[:5]
        raise ValueError(f"order qty must be positive and finite (direction is `side`); bad orders: {bad_ids}")
    if orders["order_id"].duplicated().any():
        dup = orders.loc[orders["order_id"].duplicated(), "order_id"].astype(str).tolist()[:5]
        raise ValueError(f"order_id must be unique; repeated: {dup}")
    ts = pd.DatetimeIndex(orders["ts"])
    if len(orders) and ts.tz is None:
        raise ValueError("order ts must be timezone-aware UTC")
    if ts.isna().any():
        raise ValueError("order ts contains missing values")
    limit = pd.to_numeric(orders["limit_price"], errors="coerce").to_numpy(np.float64)
    is_limit = orders["order_type"].astype(str).to_numpy() == "LMT"
    if not (np.isfinite(limit[is_limit]) & (limit[is_limit] > 0)).all():
        raise ValueError("LMT orders need a positive limit_price")


def _market_rows(orders: pd.DataFrame, market_data: pd.DataFrame) -> pd.DataFrame:
    """Each order's market row (price, adv, sigma_daily, spread) of its symbol and session (ts -> local date)."""
    missing = [c for c in MARKET_DATA_COLUMNS if c not in market_data.columns]
    if missing:
        raise ValueError(f"market_data lacks column(s) {missing}; it needs {list(MARKET_DATA_COLUMNS)}")
    md = market_data.loc[:, list(MARKET_DATA_COLUMNS)].copy()
    md["symbol"] = md["symbol"].astype(str)
    md["date"] = pd.to_datetime(md["date"]).dt.normalize()
    if md.duplicated(["symbol", "date"]).any():
        raise ValueError("market_data has more than one row per (symbol, date)")
    key = pd.MultiIndex.from_arrays(
        [orders["symbol"].astype(str).to_numpy(), calendar.session_of(pd.DatetimeIndex(orders["ts"]).tz_convert("UTC"))]
    )
    rows = md.set_index(["symbol", "date"]).reindex(key)
    absent = rows["price"].isna().to_numpy()
    if absent.any():
        first = [f"{s} {d.date()}" for s, d in key[absent][:5]]
        raise ValueError(f"no market data for {int(absent.sum())} order(s), e.g. {first}")
    return rows.reset_index(drop=True)


def simulate(
    orders: pd.DataFrame, cost_model: CostModel, market_data: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fill `orders` (ORDER_SCHEMA) against `market_data` (MARKET_DATA_COLUMNS) under `cost_model`.

    A fill's price is the reference price + (half spread + impact) per share for a BUY, minus it for a SELL;
    its fee is the model's fee per share x qty; liquidity TAKER; fill_id = order_id + "-F"; ts = the order's.
    Summary (currency unless noted): n_orders, n_fills, notional (sum |qty| x reference price), fees,
    slippage_cost (price slippage x qty), total_cost, slippage_bps and cost_bps (of notional).
    """
    validate_orders(orders)
    if len(orders) == 0:
        fills = pd.DataFrame({c: pd.Series(dtype=object) for c in FILL_COLUMNS})
        return fills, {"n_orders": 0, "n_fills": 0, "notional": 0.0, "fees": 0.0, "slippage_cost": 0.0,
                       "total_cost": 0.0, "slippage_bps": float("nan"), "cost_bps": float("nan")}
    orders = orders.reset_index(drop=True)
    rows = _market_rows(orders, market_data)
    qty = orders["qty"].to_numpy(np.float64)
    ref = rows["price"].to_numpy(np.float64)
    costs = cost_model.estimate(qty, ref, rows["adv"], rows["sigma_daily"], rows["spread"])
    sign = np.where(orders["side"].astype(str).to_numpy() == "BUY", 1.0, -1.0)
    per_share_slip = (costs["spread"] + costs["impact"]).to_numpy()
    price = ref + sign * per_share_slip
    limit = pd.to_numeric(orders["limit_price"], errors="coerce").to_numpy(np.float64)
    is_limit = orders["order_type"].astype(str).to_numpy() == "LMT"
    filled = ~is_limit | (sign * (limit - price) >= 0)
    fee = costs["fee"].to_numpy() * qty
    fills = pd.DataFrame(
        {
            "fill_id": orders["order_id"].astype(str) + "-F",
            "order_id": orders["order_id"].astype(str),
            "ts": pd.DatetimeIndex(orders["ts"]).tz_convert("UTC"),
            "symbol": orders["symbol"].astype(str),
            "side": orders["side"].astype(str),
            "qty": qty,
            "price": price,
            "fee": fee,
            "liquidity_flag": "TAKER",
        }
    )[filled].reset_index(drop=True)
    notional = float((qty * ref)[filled].sum())
    slippage = float((per_share_slip * qty)[filled].sum())
    fees = float(fee[filled].sum())
    total = slippage + fees
    bps = (lambda x: x / notional * 1e4) if notional > 0 else (lambda x: float("nan"))
    summary = {
        "n_orders": int(len(orders)),
        "n_fills": int(filled.sum()),
        "notional": notional,
        "fees": fees,
        "slippage_cost": slippage,
        "total_cost": total,
        "slippage_bps": bps(slippage),
        "cost_bps": bps(total),
    }
    return fills, summary

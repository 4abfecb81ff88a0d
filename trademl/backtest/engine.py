"""The vectorised daily backtest: target weights in, gross/net returns, costs, turnover and equity out.

Conventions (contract of issue 12): targets decided at the close of session t trade at that close, with the
cost of trademl.execution.cost from t's price, ADV, sigma and spread, and are held over t -> t+1. Between
rebalance sessions (the dates present in the targets) positions drift with their returns, so a rebalance
trades |target - drifted weight|. Weights are fractions of equity; the rest is cash earning 0. Costs are paid
from cash at the trade; borrow (annual bps, ACT/252 per session) is charged on the short weight held over
each session. Per session t, as fractions of the previous close's equity E[t-1]:

    returns_net[t] = returns_gross[t] - costs[t] - borrow[t]

The span is the first target session through the session after the last one (the last targets' holding
period). No Python loop over sessions or symbols: everything is array algebra over the session x symbol
panel; the only loop is the fixed point of equity <-> square-root impact, over per-session scalars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.backtest.panel import MarketPanel
from trademl.execution.cost import CostModel
from trademl.execution.simulator import simulate
from trademl.validation import metrics as vm

__all__ = ["PERIODS_PER_YEAR", "BacktestResult", "backtest_metrics", "run_backtest", "strategy_returns"]

PERIODS_PER_YEAR = 252
_FIXED_POINT_TOL = 1e-14
_FIXED_POINT_MAX_PASSES = 200


@dataclass(frozen=True)
class BacktestResult:
    """A backtest's per-session series (indexed by session date) and its metrics.

    returns_gross/returns_net/costs/borrow are fractions of the previous session's equity; costs_cash is the
    cost in currency; turnover is two-sided sum |w - drifted w| per session; equity is the currency value at
    each close after trading; weights the post-trade weights (session x symbol). orders/fills/fill_summary are
    set for the sessions asked for with `orders_between` (SSOT 4.9 frames through the shared simulator).
    """

    returns_gross: pd.Series
    returns_net: pd.Series
    costs: pd.Series
    costs_cash: pd.Series
    borrow: pd.Series
    turnover: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    metrics: dict[str, float]
    orders: pd.DataFrame | None = None
    fills: pd.DataFrame | None = None
    fill_summary: dict[str, Any] | None = field(default=None)


def _targets_wide(targets_long: pd.DataFrame, market: MarketPanel) -> pd.DataFrame:
    """Targets as a rebalance-session x symbol frame (0 for a symbol absent on a rebalance session)."""
    missing = [c for c in ("date", "symbol", "weight") if c not in targets_long.columns]
    if missing:
        raise ValueError(f"targets lack column(s) {missing}; expected long date, symbol, weight")
    if len(targets_long) == 0:
        raise ValueError("targets are empty")
    weight = pd.to_numeric(targets_long["weight"], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(weight).all():
        raise ValueError("target weights must be finite numbers")
    date_codes, target_dates = pd.factorize(targets_long["date"], sort=True)
    if isinstance(target_dates, pd.DatetimeIndex) or not isinstance(target_dates[0], dt.date):
        target_dates = pd.Index(pd.to_datetime(target_dates).date)
    symbol_codes, target_symbols = pd.factorize(targets_long["symbol"].astype(str))
    date_pos = market.dates.get_indexer(target_dates)
    symbol_pos = market.symbols.get_indexer(target_symbols)
    if (date_pos < 0).any():
        raise ValueError(f"target dates not in the market panel: {sorted(target_dates[date_pos < 0])[:5]}")
    if (symbol_pos < 0).any():
        raise ValueError(f"target symbols not in the market panel: {sorted(target_symbols[symbol_pos < 0])[:5]}")
    rebalance = np.unique(date_pos)
    rows = np.searchsorted(rebalance, date_pos[date_codes])
    cols = symbol_pos[symbol_codes]
    cell = rows.astype(np.int64) * len(market.symbols) + cols
    if np.unique(cell).size != cell.size:
        dup = pd.Series(cell).duplicated().to_numpy()
        raise ValueError(
            f"targets have more than one weight per (date, symbol), e.g. {targets_long.loc[dup, ['date', 'symbol']].head(3).to_dict('records')}"
        )
    wide = np.zeros((rebalance.size, len(market.symbols)))
    wide[rows, cols] = weight
    return pd.DataFrame(wide, index=market.dates[rebalance], columns=market.symbols)


def _drift(weights_at_rebalance: np.ndarray, is_rebalance: np.ndarray, returns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gross returns, pre-trade (drifted) and post-trade weights, all (sessions x symbols) in closed form.

    Over session t the book is the last rebalance sigma <= t-1, grown by prod(1 + r) since sigma: with
    R = growth since sigma, V = 1 - sum(w_sigma) + sum(w_sigma * R) (equity relative to the rebalance),
    gross[t] = V[t] / V[t-1] - 1 and the drifted weight is w_sigma * R[t] / V[t].
    """
    n = returns.shape[0]
    seg = np.maximum.accumulate(np.where(is_rebalance, np.arange(n), 0))
    log_growth = np.cumsum(np.log(np.maximum(1.0 + returns, 1e-300)), axis=0)
    sigma = seg[:-1]
    w_sigma = weights_at_rebalance[sigma]
    cash = 1.0 - w_sigma.sum(axis=1)
    grown_now = w_sigma * np.exp(log_growth[1:] - log_growth[sigma])
    grown_before = w_sigma * np.exp(log_growth[:-1] - log_growth[sigma])
    v_now = cash + grown_now.sum(axis=1)
    v_before = cash + grown_before.sum(axis=1)
    gross = np.concatenate([[0.0], v_now / v_before - 1.0])
    drifted = np.vstack([np.zeros((1, returns.shape[1])), grown_now / v_now[:, None]])
    post = np.where(is_rebalance[:, None], weights_at_rebalance, drifted)
    return gross, drifted, post


def run_backtest(
    targets_long: pd.DataFrame,
    market: MarketPanel,
    cost_model: CostModel,
    *,
    capital: float = 1e6,
    borrow_bps: float = 0.0,
    orders_between: tuple[dt.date, dt.date] | None = None,
    strategy_tag: str = "equities_xs",
) -> BacktestResult:
    """Backtest long `date, symbol, weight` targets over `market` with `cost_model` (see module doc).

    capital: starting equity (currency); borrow_bps: annual borrow fee on short weight, in bps;
    orders_between: an inclusive session range whose trades are also emitted as SSOT 4.9 orders and
    filled by trademl.execution.simulator.simulate (their fills' cost equals costs_cash of those sessions).
    A symbol with no close on a rebalance session can only be set to 0 there: it is closed at no cost
    (its last value, with any delisting return, is already booked); any other trade needs price, ADV,
    sigma and spread.
    """
    if not np.isfinite(capital) or capital <= 0:
        raise ValueError(f"capital must be positive, got {capital}")
    if not np.isfinite(borrow_bps) or borrow_bps < 0:
        raise ValueError(f"borrow_bps must be finite and non-negative, got {borrow_bps}")
    targets = _targets_wide(targets_long, market)
    dates = market.dates
    i0 = dates.get_loc(targets.index[0])
    i1 = min(dates.get_loc(targets.index[-1]) + 1, len(dates) - 1)
    span = dates[i0 : i1 + 1]
    n = len(span)
    returns = np.nan_to_num(market.returns.iloc[i0 : i1 + 1].to_numpy(np.float64), nan=0.0)
    returns[0] = 0.0
    is_rebalance = span.isin(targets.index)
    at_rebalance = targets.reindex(span).to_numpy(np.float64)
    gross, drifted, post = _drift(np.nan_to_num(at_rebalance), is_rebalance, returns)
    delta = np.where(is_rebalance[:, None], post - drifted, 0.0)
    turnover = np.abs(delta).sum(axis=1)
    short = np.concatenate([[0.0], np.maximum(-post[:-1], 0.0).sum(axis=1)])
    borrow = short * borrow_bps * 1e-4 / PERIODS_PER_YEAR

    rows, cols = np.nonzero(delta)
    close = market.close.iloc[i0 : i1 + 1].to_numpy(np.float64)[rows, cols]
    unpriced = np.isnan(close)
    if (unpriced & (post[rows, cols] != 0)).any():
        k = np.flatnonzero(unpriced & (post[rows, cols] != 0))[:5]
        raise ValueError(f"targets hold symbols with no close: {[(span[rows[j]], market.symbols[cols[j]]) for j in k]}")
    rows, cols, close = rows[~unpriced], cols[~unpriced], close[~unpriced]
    inputs = {
        name: getattr(market, name).iloc[i0 : i1 + 1].to_numpy(np.float64)[rows, cols]
        for name in ("adv", "sigma_daily", "spread")
    }
    bad = ~(np.isfinite(inputs["adv"]) & np.isfinite(inputs["sigma_daily"]) & np.isfinite(inputs["spread"]))
    if bad.any():
        k = np.flatnonzero(bad)[:5]
        raise ValueError(
            "trades need adv, sigma_daily and spread (NaN before a full window of history): "
            f"{[(span[rows[j]], market.symbols[cols[j]]) for j in k]}"
        )
    dw = delta[rows, cols]

    def trade_shares(equity_before: np.ndarray) -> np.ndarray:
        pre_trade = equity_before * (1.0 + gross - borrow)
        return dw * pre_trade[rows] / close

    def cost_breakdown(equity_before: np.ndarray) -> pd.DataFrame:
        return cost_model.estimate(trade_shares(equity_before), close, inputs["adv"], inputs["sigma_daily"], inputs["spread"])

    # Costs depend on equity through the traded shares, and equity on past costs. Fee and spread costs are
    # homogeneous of degree 1 in the pre-trade equity, square-root impact of degree 1.5: from the model's
    # breakdown at one equity path, the session cost at any pre-trade equity P is lin[t] * P + imp[t] * P**1.5,
    # so the fixed point of equity <-> costs iterates over session scalars only.
    equity_before = capital * np.concatenate([[1.0], np.cumprod(1.0 + gross - borrow)[:-1]])
    costs_cash = np.zeros(n)
    if rows.size:
        pre_trade = equity_before * (1.0 + gross - borrow)
        breakdown = cost_breakdown(equity_before)
        size = np.abs(dw) / close  # shares per unit of pre-trade equity
        lin = np.bincount(rows, weights=((breakdown["fee"] + breakdown["spread"]).to_numpy() * size), minlength=n)
        imp = np.bincount(rows, weights=breakdown["impact"].to_numpy() * size / np.sqrt(pre_trade[rows]), minlength=n)
        for _ in range(_FIXED_POINT_MAX_PASSES):
            pre_trade = equity_before * (1.0 + gross - borrow)
            costs_cash = lin * pre_trade + imp * pre_trade**1.5
            updated = capital * np.concatenate([[1.0], np.cumprod(1.0 + gross - borrow - costs_cash / equity_before)[:-1]])
            converged = np.max(np.abs(updated - equity_before) / equity_before) <= _FIXED_POINT_TOL
            equity_before = updated
            if converged:
                break
        costs_cash = np.bincount(rows, weights=cost_breakdown(equity_before)["cost"].to_numpy(), minlength=n)
    costs = costs_cash / equity_before
    net = gross - borrow - costs
    equity = capital * np.cumprod(1.0 + net)

    index = pd.Index(span, name="date")
    series = {k: pd.Series(v, index=index, name=k) for k, v in (
        ("returns_gross", gross), ("returns_net", net), ("costs", costs), ("costs_cash", costs_cash),
        ("borrow", borrow), ("turnover", turnover), ("equity", equity))}
    weights = pd.DataFrame(post, index=index, columns=market.symbols)
    result_metrics = backtest_metrics(series["returns_net"], series["turnover"], equity_before)

    orders = fills = summary = None
    if orders_between is not None:
        lo, hi = (calendar.as_date(d) for d in orders_between)
        in_range = (np.asarray(span)[rows] >= lo) & (np.asarray(span)[rows] <= hi)
        shares = trade_shares(equity_before)[in_range]
        sel_rows, sel_cols = rows[in_range], cols[in_range]
        orders = _orders(span, market.symbols, sel_rows, sel_cols, shares, strategy_tag)
        market_rows = pd.DataFrame(
            {
                "symbol": np.asarray(market.symbols)[sel_cols],
                "date": pd.to_datetime(pd.Index(np.asarray(span)[sel_rows])),
                "price": close[in_range],
                "adv": inputs["adv"][in_range],
                "sigma_daily": inputs["sigma_daily"][in_range],
                "spread": inputs["spread"][in_range],
            }
        )
        fills, summary = simulate(orders, cost_model, market_rows)
    return BacktestResult(
        **series, weights=weights, metrics=result_metrics, orders=orders, fills=fills, fill_summary=summary
    )


def _orders(
    span: pd.Index, symbols: pd.Index, rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, strategy_tag: str
) -> pd.DataFrame:
    """Market DAY orders (ORDER_SCHEMA) of the selected trades, stamped at their session's close (UTC)."""
    if rows.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in
                             ("order_id", "ts", "symbol", "side", "qty", "order_type", "limit_price", "tif", "strategy_tag")})
    session_dates = np.asarray(span)[rows]
    table = calendar.session_table(min(session_dates), max(session_dates))
    close_of = pd.Series(pd.DatetimeIndex(table["close_utc"]), index=pd.Index(table["session"].dt.date))
    symbol = np.asarray(symbols)[cols].astype(str)
    order_id = pd.Series(session_dates.astype(str)).radd(strategy_tag + "-").str.cat(symbol, sep="-")
    return pd.DataFrame(
        {
            "order_id": order_id.to_numpy(),
            "ts": pd.DatetimeIndex(close_of.reindex(session_dates)).tz_convert("UTC"),
            "symbol": symbol,
            "side": np.where(shares > 0, "BUY", "SELL"),
            "qty": np.abs(shares),
            "order_type": "MKT",
            "limit_price": np.nan,
            "tif": "DAY",
            "strategy_tag": strategy_tag,
        }
    )


def backtest_metrics(returns_net: pd.Series, turnover: pd.Series, equity_before: np.ndarray) -> dict[str, float]:
    """The contract's metrics of net daily returns via trademl.validation.metrics (NaN with < 2 sessions).

    sharpe/sortino annualised with 252 sessions; sqn over daily returns; profit_factor of daily PnL in
    currency; hit_rate = share of sessions with a positive net return; turnover = mean two-sided per session;
    max_drawdown a positive fraction; cum_return compounded.
    """
    r = returns_net.to_numpy(np.float64)
    out = {"n_sessions": float(r.size), "turnover": float(turnover.mean()) if len(turnover) else float("nan")}
    if r.size < 2:
        out.update(dict.fromkeys(("sharpe", "sortino", "sqn", "profit_factor", "max_drawdown", "hit_rate", "cum_return"),
                                 float("nan")))
        return out
    out.update(
        sharpe=vm.sharpe_ratio(r, periods_per_year=PERIODS_PER_YEAR),
        sortino=vm.sortino_ratio(r, periods_per_year=PERIODS_PER_YEAR),
        sqn=vm.sqn(r),
        profit_factor=vm.profit_factor(r * equity_before),
        max_drawdown=vm.max_drawdown(r),
        hit_rate=vm.win_rate(r),
        cum_return=vm.cum_return(r),
    )
    return {k: float(v) for k, v in out.items()}


def strategy_returns(
    scores_long: pd.DataFrame,
    market: MarketPanel,
    risk_cfg: Any,
    cost_model: CostModel,
    *,
    borrow_bps: float | None = None,
    capital: float = 1e6,
    targets_fn: Callable[[pd.DataFrame, pd.DataFrame, Any], pd.DataFrame] | None = None,
) -> pd.Series:
    """Net daily returns of the production strategy on `scores_long` (date, symbol, score): the portfolio's
    targets (default trademl.portfolio.build_targets(scores, market.returns, risk_cfg)) through run_backtest.

    borrow_bps: annual borrow fee on shorts; None takes the portfolio config's `risk_cfg.borrow_cost_bps`.
    This is the callable the models layer receives (partially applied) to turn OOS scores into returns.
    """
    if targets_fn is None:
        from trademl.portfolio import build_targets

        targets_fn = build_targets
    if borrow_bps is None:
        borrow_bps = float(risk_cfg.borrow_cost_bps)
    targets = targets_fn(scores_long, market.returns, risk_cfg)
    return run_backtest(targets, market, cost_model, capital=capital, borrow_bps=borrow_bps).returns_net

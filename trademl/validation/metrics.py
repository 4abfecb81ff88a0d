"""Performance metrics of strategy returns, trades, positions and forecasts (spec 000 "Evaluation").

Conventions:

* Returns are **simple** per-period returns (0.01 = +1 %) in time order. NaN entries are treated as
  missing periods and skipped; an input with no finite value is rejected.
* Ratios (Sharpe, Sortino) are **per period** by default, the convention PSR/DSR need. Pass
  ``periods_per_year`` (252 for daily sessions, 252 * 6.5 for hourly bars) to annualise by
  ``sqrt(periods_per_year)``, which assumes iid returns.
* Drawdowns are positive fractions of the running peak of compounded equity (0.2 = 20 % below).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import numpy as np
import pandas as pd


def _vector(values: Any, name: str, *, min_count: int = 1) -> np.ndarray:
    """1-D float array with NaNs dropped; rejects other shapes, infinities and too few values."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if np.isinf(array).any():
        raise ValueError(f"{name} contains infinite values")
    finite = array[~np.isnan(array)]
    if finite.size == 0:
        raise ValueError(f"{name} has no finite values (empty or all NaN)")
    if finite.size < min_count:
        raise ValueError(f"{name} needs at least {min_count} finite values, got {finite.size}")
    return finite


def _annualisation(periods_per_year: float | None) -> float:
    if periods_per_year is None:
        return 1.0
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, numbers.Real):
        raise ValueError(f"periods_per_year must be a positive number, got {periods_per_year!r}")
    if not math.isfinite(periods_per_year) or periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive and finite, got {periods_per_year}")
    return math.sqrt(periods_per_year)


def _positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def sharpe_ratio(returns: Any, eps: float = 1e-9, *, periods_per_year: float | None = None) -> float:
    """Sharpe ratio ``mean / std`` (sample std, ddof=1) of returns in excess of the risk-free rate.

    Per period unless ``periods_per_year`` is given (then times ``sqrt(periods_per_year)``).
    ``eps`` floors the standard deviation so a constant series does not divide by zero.
    """
    r = _vector(returns, "returns", min_count=2)
    eps = _positive(eps, "eps")
    return float(r.mean() / max(r.std(ddof=1), eps) * _annualisation(periods_per_year))


def sortino_ratio(
    returns: Any, eps: float = 1e-9, *, target: float = 0.0, periods_per_year: float | None = None
) -> float:
    """Sortino ratio ``(mean - target) / downside deviation``.

    Downside deviation is ``sqrt(mean(min(r - target, 0)^2))`` over all periods (Sortino & Price
    1994). Per period unless ``periods_per_year`` is given; ``eps`` floors the denominator.
    """
    r = _vector(returns, "returns", min_count=2)
    eps = _positive(eps, "eps")
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not math.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    downside = math.sqrt(float(np.mean(np.minimum(r - target, 0.0) ** 2)))
    return float((r.mean() - target) / max(downside, eps) * _annualisation(periods_per_year))


def _log_growth(returns: Any) -> np.ndarray:
    r = _vector(returns, "returns")
    if (r < -1.0).any():
        raise ValueError("returns below -1 (-100 %) would make compounded equity negative")
    with np.errstate(divide="ignore"):
        return np.log1p(r)


def cum_return(returns: Any) -> float:
    """Compounded total return ``prod(1 + r) - 1`` of simple per-period returns."""
    return float(np.expm1(_log_growth(returns).sum()))


def max_drawdown(returns: Any) -> float:
    """Largest peak-to-trough fall of compounded equity, as a positive fraction in [0, 1].

    Equity starts at 1 before the first return, so an initial loss counts as a drawdown.
    """
    log_equity = np.cumsum(_log_growth(returns))
    log_peak = np.maximum.accumulate(np.maximum(log_equity, 0.0))
    with np.errstate(invalid="ignore"):
        drawdown = -np.expm1(log_equity - log_peak)
    # A -100 % period makes log equity -inf; the fall is then total.
    drawdown = np.where(np.isneginf(log_equity), 1.0, drawdown)
    return float(np.clip(drawdown.max(), 0.0, 1.0))


def win_rate(trade_returns: Any) -> float:
    """Share of trades (or periods) with a strictly positive return; flat ones count as non-wins."""
    r = _vector(trade_returns, "trade_returns")
    return float(np.mean(r > 0))


def sqn(trade_returns: Any, eps: float = 1e-9) -> float:
    """Van Tharp's System Quality Number ``sqrt(n) * mean / std`` (ddof=1) over the trades.

    Use R-multiples or per-trade returns; ``eps`` floors the std. Needs at least two trades.
    """
    r = _vector(trade_returns, "trade_returns", min_count=2)
    eps = _positive(eps, "eps")
    return float(math.sqrt(r.size) * r.mean() / max(r.std(ddof=1), eps))


def profit_factor(trade_pnls: Any) -> float:
    """Gross profit over gross loss of the trades' PnL.

    ``inf`` when there are profits but no losses; ``nan`` when every trade is flat.
    """
    pnl = _vector(trade_pnls, "trade_pnls")
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    if gross_loss == 0.0:
        return math.inf if gross_profit > 0 else math.nan
    return gross_profit / gross_loss


def turnover(weights: Any) -> float:
    """Mean per-period two-sided turnover ``sum_i |w[t, i] - w[t-1, i]|`` of portfolio weights.

    ``weights`` is a (periods x assets) array or DataFrame in time order (1-D for one asset);
    NaN means "not held" (weight 0). Halve the result for one-sided turnover. The first row is
    the starting book and is not counted as trading.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2:
        raise ValueError(f"weights must be 1-D or 2-D (periods x assets), got shape {w.shape}")
    if w.shape[0] < 2:
        raise ValueError(f"weights needs at least 2 periods to measure turnover, got {w.shape[0]}")
    if np.isinf(w).any():
        raise ValueError("weights contains infinite values")
    if np.isnan(w).all():
        raise ValueError("weights has no finite values (all NaN)")
    w = np.nan_to_num(w, nan=0.0)
    return float(np.abs(np.diff(w, axis=0)).sum(axis=1).mean())


def hit_rate(predictions: Any, outcomes: Any) -> float:
    """Directional accuracy: share of samples where ``sign(prediction) == sign(outcome)``.

    Samples where either side is zero (no call / no move) or NaN are excluded.
    """
    p = np.asarray(predictions, dtype=np.float64)
    o = np.asarray(outcomes, dtype=np.float64)
    if p.ndim != 1 or o.ndim != 1 or p.size != o.size:
        raise ValueError(f"predictions and outcomes must be 1-D of equal length, got {p.shape} and {o.shape}")
    if np.isinf(p).any() or np.isinf(o).any():
        raise ValueError("predictions and outcomes must not contain infinite values")
    valid = (p != 0) & (o != 0) & ~np.isnan(p) & ~np.isnan(o)
    if not valid.any():
        raise ValueError("no sample has both a non-zero prediction and a non-zero outcome")
    return float(np.mean(np.sign(p[valid]) == np.sign(o[valid])))


def information_coefficient(
    scores: Any, outcomes: Any, dates: Any, *, method: Literal["pearson", "spearman"] = "pearson"
) -> pd.Series:
    """Cross-sectional IC per date: correlation of scores with realised outcomes within each date.

    ``method="pearson"`` is the linear IC, ``"spearman"`` the rank IC (Pearson of within-date
    average ranks). Rows with a NaN score or outcome are ignored. Returns a Series indexed by the
    sorted unique dates, NaN where a date has fewer than two rows or no dispersion.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}")
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    d = pd.Series(dates).reset_index(drop=True)
    if x.ndim != 1 or y.ndim != 1 or not x.size == y.size == len(d):
        raise ValueError(
            f"scores, outcomes and dates must be 1-D of equal length, got {x.shape}, {y.shape}, {len(d)}"
        )
    if x.size == 0:
        raise ValueError("scores is empty")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("scores and outcomes must not contain infinite values")
    if bool(d.isna().any()):
        raise ValueError("dates contains missing values")
    frame = pd.DataFrame({"date": d.to_numpy(), "x": x, "y": y})
    all_dates = pd.Index(frame["date"].unique()).sort_values()
    frame = frame.dropna(subset=["x", "y"])
    if frame.empty:
        raise ValueError("no row has both a finite score and a finite outcome")
    grouped = frame.groupby("date", sort=True)
    if method == "spearman":
        frame["x"] = grouped["x"].rank()
        frame["y"] = grouped["y"].rank()
        grouped = frame.groupby("date", sort=True)
    dx = frame["x"] - grouped["x"].transform("mean")
    dy = frame["y"] - grouped["y"].transform("mean")
    sums = pd.DataFrame({"date": frame["date"], "xy": dx * dy, "xx": dx * dx, "yy": dy * dy}).groupby(
        "date", sort=True
    )
    moments = sums.sum()
    ic = moments["xy"] / np.sqrt(moments["xx"] * moments["yy"])
    # Exact checks: a constant column has no dispersion even if rounding leaves tiny deviations.
    dispersed = (grouped["x"].max() > grouped["x"].min()) & (grouped["y"].max() > grouped["y"].min())
    ic = ic.where(dispersed & (sums.size() >= 2))
    ic = ic.reindex(all_dates)
    ic.index.name = "date"
    ic.name = f"ic_{method}"
    return ic.astype(np.float64)

"""The daily report's numbers from a strategy's daily net returns and its target weights, as of one session.

Conventions: returns are simple daily net returns (fraction of capital) indexed by the XNYS session at
whose close they are realised (the return over t-1 -> t is labelled t); weights are decided at the close
of their date. Windows are the `window_sessions` XNYS sessions ending at the as-of session (k sessions,
not k rows). Annualisation is sqrt(252); standard deviations use ddof 1. VaR and ES are historical,
one-session, at 95 %, and are positive fractions of capital for a loss (a negative value means the 5 %
tail of the window is a gain).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.validation import metrics as vm

PERIODS_PER_YEAR = 252
VAR_LEVEL = 0.95


def window_start(asof: dt.date, window_sessions: int) -> dt.date:
    """The first of the `window_sessions` XNYS sessions ending at `asof` (itself a session)."""
    return calendar.previous_session(asof, window_sessions - 1).date() if window_sessions > 1 else asof


def returns_to_date(net_returns: pd.Series, asof: dt.date) -> pd.Series:
    """The returns realised up to and including `asof`, which must hold one (clear error otherwise)."""
    history = net_returns[net_returns.index <= asof]
    if len(history) == 0 or history.index[-1] != asof:
        raise ValueError(f"no net return on the as-of session {asof} (the returns end at {history.index.max() if len(history) else 'nothing'})")
    return history


def pnl(net_returns: pd.Series, asof: dt.date) -> dict[str, float]:
    """`daily`: the return of the as-of session; `cumulative`: the returns up to it compounded, prod(1 + r) - 1."""
    history = returns_to_date(net_returns, asof)
    return {"daily": float(history.iloc[-1]), "cumulative": vm.cum_return(history.to_numpy())}


def risk_metrics(net_returns: pd.Series, asof: dt.date, *, window_sessions: int) -> dict[str, Any]:
    """Realised vol (annualised, ddof 1), historical VaR/ES 95 % over the window and max drawdown to date.

    VaR_95 = -q where q is the 5 % quantile of the window's returns (numpy's linear interpolation);
    ES_95 = -mean of the window's returns at or below q. max_drawdown is over every return up to `asof`
    (a positive fraction of the running peak of compounded equity). With a single return in the window
    realized_vol is NaN (ddof 1 needs two).
    """
    history = returns_to_date(net_returns, asof)
    first = window_start(asof, window_sessions)
    window = history[history.index >= first].to_numpy(dtype=np.float64)
    q = float(np.quantile(window, 1.0 - VAR_LEVEL))
    vol = float(window.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR)) if window.size >= 2 else math.nan
    return {
        "realized_vol": vol,
        "max_drawdown": vm.max_drawdown(history.to_numpy()),
        "var_95": -q,
        "es_95": -float(window[window <= q].mean()),
        "window_sessions": int(window_sessions),
        "n_returns": int(window.size),
        "window_first": first,
        "window_last": asof,
        "convention": (
            "historical over the window's daily net returns; var_95 and es_95 are one-session losses as positive "
            "fractions of capital (var_95 = -5% quantile with linear interpolation, es_95 = -mean of the returns "
            "at or below it); realized_vol annualised by sqrt(252), ddof 1; max_drawdown to date, positive fraction"
        ),
    }


def weights_wide(targets: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Targets (long date, symbol, weight) as a session x symbol frame over the XNYS sessions first..last,
    0 where a symbol has no target (not held)."""
    days = [d.date() for d in calendar.sessions(first, last)]
    part = targets[(targets["date"] >= first) & (targets["date"] <= last)]
    wide = part.pivot_table(index="date", columns="symbol", values="weight", aggfunc="sum")
    return wide.reindex(index=days).fillna(0.0)


def session_turnover(targets: pd.DataFrame, asof: dt.date) -> float:
    """Two-sided turnover of the as-of session: sum |w[asof] - w[previous session]| (no previous target = 0)."""
    prev = calendar.previous_session(asof).date()
    wide = weights_wide(targets, prev, asof)
    return float(wide.diff().iloc[-1].abs().sum())


def strategy_metrics(
    net_returns: pd.Series, targets: pd.DataFrame, asof: dt.date, *, window_sessions: int
) -> dict[str, float]:
    """One sleeve's `sharpe` (annualised, over the window's returns), `turnover` (mean per-session two-sided
    turnover over the window) and `contribution` (its return of the as-of session, fraction of capital)."""
    history = returns_to_date(net_returns, asof)
    first = window_start(asof, window_sessions)
    window = history[history.index >= first].to_numpy(dtype=np.float64)
    sharpe = vm.sharpe_ratio(window, periods_per_year=PERIODS_PER_YEAR) if window.size >= 2 else math.nan
    wide = weights_wide(targets, calendar.previous_session(first).date(), asof)
    turnover = vm.turnover(wide.to_numpy()) if wide.shape[1] else 0.0  # nothing targeted in the window
    return {"sharpe": sharpe, "turnover": turnover, "contribution": float(history.iloc[-1])}

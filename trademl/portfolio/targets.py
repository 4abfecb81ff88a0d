"""A sleeve's target book per session from its stored scores: `build_targets` over the lake's inputs.

Each session's targets use the scores of that session's tradable names (a close and a full window
of ADV and volatility), the curated total returns up to it (the covariance window) and the book of the session before (the turnover limit): what was stored for
that previous session, else flat. Sessions without scores get no targets (and are listed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from trademl import calendar
from trademl.curate.market_panel import market_panel
from trademl.data.lake import Lake
from trademl.portfolio.build import build_targets
from trademl.portfolio.risk_config import RiskConfig, risk_config

CURATED = "curated/equities_ohlcv_adj"
TARGETS = "portfolio/targets"
TARGET_COLUMNS = ["date", "symbol", "weight", "score", "strategy_tag", "model_version"]


@dataclass(frozen=True)
class SessionTargets:
    """Targets of a session range (portfolio/targets rows) and the sessions that had no scores."""

    frame: pd.DataFrame
    sessions_without_scores: tuple[dt.date, ...]


def previous_book(lake: Lake, day: dt.date, strategy_tag: str) -> pd.Series:
    """The stored targets of the session before `day` (symbol -> weight); empty (flat) when none."""
    before = calendar.previous_session(day).date()
    rows = lake.read(TARGETS, before, before, columns=["symbol", "weight", "strategy_tag"]).to_pandas()
    rows = rows[rows["strategy_tag"] == strategy_tag]
    return pd.Series(rows["weight"].to_numpy(), index=rows["symbol"].astype(str).to_numpy(), dtype="float64")


def session_targets(
    scores_table: str,
    first: dt.date | str,
    last: dt.date | str,
    *,
    lake: Lake,
    strategy_tag: str,
    risk: RiskConfig | None = None,
) -> SessionTargets:
    """Targets of every scored session of [first, last] from `scores_table` (date, symbol, score,
    model_version), with the covariance window's curated returns and the previous stored book."""
    risk = risk or risk_config()
    start, end = calendar.as_date(first, "first"), calendar.as_date(last, "last")
    scores = lake.read(scores_table, start, end).to_pandas()
    sessions = [d.date() for d in calendar.sessions(start, end)]
    if scores.empty:
        return SessionTargets(pd.DataFrame(columns=TARGET_COLUMNS), tuple(sessions))
    scores["date"] = pd.to_datetime(scores["date"]).dt.date
    history_start = calendar.previous_session(start, risk.cov_lookback + 1).date()
    curated = lake.read(CURATED, history_start, end).to_pandas()
    market = market_panel(curated)
    tradable = market.tradable(scores[["date", "symbol", "score"]])  # a name without a cost history gets no weight
    targets = market.tradable(build_targets(tradable, market.returns, risk, initial=previous_book(lake, start, strategy_tag)))
    targets["date"] = pd.to_datetime(targets["date"]).dt.date
    frame = targets.merge(scores[["date", "symbol", "score", "model_version"]], on=["date", "symbol"], how="left")
    frame["strategy_tag"] = strategy_tag
    scored = set(scores["date"])
    return SessionTargets(frame[TARGET_COLUMNS], tuple(d for d in sessions if d not in scored))

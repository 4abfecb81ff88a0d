"""Fixtures of the portfolio tests: an explicit risk config, small score frames and return panels."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.portfolio import RiskConfig

RISK_DOC = {
    "per_name_cap": 0.05,
    "gross_cap": 1.0,
    "vol_target": 0.10,
    "covariance": {"lookback_sessions": 60, "min_history": 20, "shrinkage": "constant_correlation", "fallback_vol": 0.30},
    "kelly": {"fraction": 0.25, "ic": 0.02, "haircut": 0.5},
    "turnover_limit": 0.5,
    "shorts": {"max_short_weight": 0.05, "short_gross_cap": 0.5, "borrow_cost_bps": 50},
}

# 120 XNYS sessions ending 2024-06-28; the as-of session of the one-session tests is the last.
SESSIONS = [d.date() for d in calendar.sessions("2024-01-02", "2024-06-28")][-120:]
ASOF = SESSIONS[-1]


@pytest.fixture
def sessions() -> list[dt.date]:
    """The 120 sessions of the `returns` panels; the last one is the as-of session of `scores`."""
    return list(SESSIONS)


@pytest.fixture
def risk_doc() -> dict:
    """A fresh copy of the explicit configs/portfolio.yml mapping the tests start from."""
    return copy.deepcopy(RISK_DOC)


@pytest.fixture
def cfg() -> RiskConfig:
    """The RiskConfig of RISK_DOC (tests change single fields with dataclasses.replace)."""
    return RiskConfig.from_config(RISK_DOC)


@pytest.fixture
def scores() -> Callable[..., pd.DataFrame]:
    """scores(values, symbols=None, date=ASOF): a one-session score frame (symbols S00, S01, ... by default)."""

    def make(values: Sequence[float], symbols: Sequence[str] | None = None, date: dt.date = ASOF) -> pd.DataFrame:
        names = list(symbols) if symbols is not None else [f"S{i:02d}" for i in range(len(values))]
        return pd.DataFrame({"date": date, "symbol": names, "score": np.asarray(values, dtype=np.float64)})

    return make


@pytest.fixture
def returns() -> Callable[..., pd.DataFrame]:
    """returns(vols, seed=0, market=0.0): wide daily returns over SESSIONS, column i with daily vol vols[i]
    (plus a common market factor of daily vol `market`), symbols S00, S01, ..."""

    def make(vols: Sequence[float], seed: int = 0, market: float = 0.0) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        vols = np.asarray(vols, dtype=np.float64)
        common = rng.normal(0.0, market, size=(len(SESSIONS), 1))
        values = common + rng.normal(0.0, 1.0, size=(len(SESSIONS), vols.size)) * vols
        return pd.DataFrame(values, index=pd.Index(SESSIONS, name="date"), columns=[f"S{i:02d}" for i in range(vols.size)])

    return make

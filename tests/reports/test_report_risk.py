"""The daily report's numbers as of a session (trademl.reports.risk): session windows and point-in-time."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trademl import calendar
from trademl.reports import risk

DAYS = [d.date() for d in calendar.sessions("2025-06-02", "2025-06-27")]  # 20 sessions
ASOF = DAYS[-1]
returns_values = st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=len(DAYS), max_size=len(DAYS))
later_values = st.lists(st.floats(-0.9, 0.9, allow_nan=False), min_size=1, max_size=5)


def _later(n: int) -> list[dt.date]:
    return [d.date() for d in calendar.sessions(calendar.next_session(ASOF).date(), calendar.next_session(ASOF, n).date())]


def test_the_window_counts_sessions_not_rows():
    returns = pd.Series(0.01, index=DAYS).drop(DAYS[-3])  # no return on one session of the window
    out = risk.risk_metrics(returns, ASOF, window_sessions=5)
    assert (out["window_first"], out["n_returns"]) == (DAYS[-5], 4)


def test_a_single_return_in_the_window_has_no_realized_vol_but_a_var():
    out = risk.risk_metrics(pd.Series([-0.03], index=[ASOF]), ASOF, window_sessions=5)
    assert math.isnan(out["realized_vol"]) and out["var_95"] == pytest.approx(0.03) and out["es_95"] == pytest.approx(0.03)


def test_an_all_gain_window_has_a_negative_var():
    out = risk.risk_metrics(pd.Series([0.01, 0.02, 0.03], index=DAYS[-3:]), ASOF, window_sessions=3)
    assert out["var_95"] == pytest.approx(-0.011)  # -(0.01 + 0.05 * 2 * 0.01)


def test_session_turnover_against_no_previous_target_is_the_gross():
    targets = pd.DataFrame({"date": [ASOF, ASOF], "symbol": ["AAA", "BBB"], "weight": [0.3, -0.2]})
    assert risk.session_turnover(targets, ASOF) == pytest.approx(0.5)


def test_strategy_turnover_without_targets_in_the_window_is_zero():
    targets = pd.DataFrame({"date": [DAYS[0]], "symbol": ["AAA"], "weight": [0.3]})
    returns = pd.Series(0.001, index=DAYS)
    assert risk.strategy_metrics(returns, targets, ASOF, window_sessions=5)["turnover"] == 0.0


@settings(max_examples=25, deadline=None)
@given(values=returns_values, later=later_values)
def test_returns_after_asof_leave_pnl_and_risk_of_asof_unchanged(values, later):
    returns = pd.Series(values, index=DAYS)
    extended = pd.concat([returns, pd.Series(later, index=_later(len(later)))])
    assert risk.pnl(extended, ASOF) == risk.pnl(returns, ASOF)
    a, b = risk.risk_metrics(returns, ASOF, window_sessions=10), risk.risk_metrics(extended, ASOF, window_sessions=10)
    assert a == b


@settings(max_examples=25, deadline=None)
@given(values=returns_values, later=later_values, weights=st.lists(st.floats(-0.5, 0.5), min_size=3, max_size=3))
def test_targets_and_returns_after_asof_leave_the_strategy_metrics_unchanged(values, later, weights):
    returns = pd.Series(values, index=DAYS)
    targets = pd.DataFrame({"date": [DAYS[-2], DAYS[-1], DAYS[-1]], "symbol": ["AAA", "AAA", "BBB"], "weight": weights})
    after = _later(len(later))
    more = pd.DataFrame({"date": after, "symbol": "AAA", "weight": np.asarray(later)})
    a = risk.strategy_metrics(returns, targets, ASOF, window_sessions=10)
    b = risk.strategy_metrics(pd.concat([returns, pd.Series(later, index=after)]), pd.concat([targets, more]), ASOF,
                              window_sessions=10)
    assert a == b
    assert risk.session_turnover(targets, ASOF) == risk.session_turnover(pd.concat([targets, more]), ASOF)

"""The training data gate: GREEN share per dependency over the training window (trademl.models.readiness)."""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_rows import write_ledger

from trademl import calendar
from trademl.data import control
from trademl.models import Dependency, TrainingGate, check_readiness, training_gate

ASOF = dt.date(2025, 6, 30)
WINDOW = [d.date() for d in calendar.sessions(calendar.previous_session(ASOF, 9), ASOF)]  # 10 sessions


@pytest.fixture
def engine(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


GATE = TrainingGate(lookback_sessions=10, dependencies=(Dependency("curated/equities_ohlcv_adj", 0.9),))


def test_the_shipped_equities_xs_gate_parses():
    gate = training_gate("equities_xs")
    assert gate.lookback_sessions == 756
    shares = {d.table: d.min_green for d in gate.dependencies}
    assert shares["curated/equities_ohlcv_adj"] == 0.98 and shares["reference/corp_actions"] == 0.99
    assert shares["reference/delistings"] == 0.99
    assert {d.table: d.lag_sessions for d in gate.dependencies}["labels/equities_xs"] == 20


def test_an_all_green_window_is_ready(engine):
    write_ledger(engine, "curated/equities_ohlcv_adj", {d: "GREEN" for d in WINDOW})
    result = check_readiness(engine, GATE, ASOF)
    assert result.ready and result.reason() == ""
    assert (result.checks[0].first, result.checks[0].last, result.checks[0].sessions) == (WINDOW[0], ASOF, 10)


def test_amber_and_red_sessions_count_against_the_share_and_the_reason_names_the_table(engine):
    statuses = {d: "GREEN" for d in WINDOW}
    statuses[WINDOW[2]], statuses[WINDOW[5]] = "AMBER", "RED"
    write_ledger(engine, "curated/equities_ohlcv_adj", statuses)
    result = check_readiness(engine, GATE, ASOF)
    assert not result.ready
    assert result.checks[0].green_frac == 0.8
    assert result.reason() == (
        f"curated/equities_ohlcv_adj is 80.0% GREEN over {WINDOW[0]}..{ASOF} (8 of 10 sessions), needs 90.0%"
    )


def test_sessions_without_ledger_rows_are_not_green(engine):
    write_ledger(engine, "curated/equities_ohlcv_adj", {d: "GREEN" for d in WINDOW[5:]})
    assert check_readiness(engine, GATE, ASOF).checks[0].green == 5


def test_a_lagged_dependency_is_judged_on_the_window_before_its_lag(engine):
    gate = TrainingGate(10, (Dependency("labels/equities_xs", 1.0, lag_sessions=3),))
    lagged = [d.date() for d in calendar.sessions(calendar.previous_session(ASOF, 12), calendar.previous_session(ASOF, 3))]
    write_ledger(engine, "labels/equities_xs", {d: "GREEN" for d in lagged})
    result = check_readiness(engine, gate, ASOF)
    assert result.ready and result.checks[0].last == calendar.previous_session(ASOF, 3).date()


def test_lookback_override_and_a_non_session_asof(engine):
    write_ledger(engine, "curated/equities_ohlcv_adj", {d: "GREEN" for d in WINDOW[-3:]})
    result = check_readiness(engine, GATE, dt.date(2025, 7, 5), lookback_sessions=3)  # a Saturday
    assert result.asof == dt.date(2025, 7, 3)  # Friday 4 July is a holiday
    assert result.checks[0].sessions == 3


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"lookback_sessions": 0, "dependencies": [{"table": "raw/equities_bars", "min_green": 0.9}]}, "lookback_sessions must be"),
        ({"lookback_sessions": 5, "dependencies": [{"table": "raw/equities_bars", "min_green": 1.5}]}, r"min_green must be a share"),
        ({"lookback_sessions": 5, "dependencies": [{"table": "raw/nope", "min_green": 0.5}]}, "unknown table"),
        ({"lookback_sessions": 5, "dependencies": [{"table": "raw/equities_bars", "min_green": 0.5, "lag": 1}]}, r"dependencies\[0\] must be"),
        ({"lookback_sessions": 5, "dependencies": [{"table": "raw/equities_bars", "min_green": 0.5}] * 2}, "twice"),
        ({"lookback_sessions": 5, "dependencies": []}, "non-empty list"),
    ],
)
def test_a_bad_gate_config_is_a_clear_error(doc, message):
    with pytest.raises(ValueError, match=message):
        TrainingGate.from_config(doc)

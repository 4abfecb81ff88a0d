"""When the train sensor asks for a run: as-of session, cadence, and the data gate (trademl.models.train_schedule)."""

from __future__ import annotations

import datetime as dt

import pytest
from ledger_rows import write_ledger

from trademl import calendar
from trademl.data import control
from trademl.models import Dependency, TrainingGate, next_training
from trademl.models.train_schedule import latest_sessions, sessions_between

ASOF = dt.date(2025, 6, 30)
WINDOW = [d.date() for d in calendar.sessions(calendar.previous_session(ASOF, 9), ASOF)]  # 10 sessions
PRICES, LABELS = "curated/equities_ohlcv_adj", "labels/equities_xs"
GATE = TrainingGate(
    lookback_sessions=5,
    dependencies=(Dependency(PRICES, 1.0), Dependency(LABELS, 1.0, lag_sessions=2)),
    retrain_every_sessions=3,
)


@pytest.fixture
def engine(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


def _green(engine, table: str, days) -> None:
    write_ledger(engine, table, {d: "GREEN" for d in days})


def test_latest_sessions_reads_the_last_ledger_session_per_table(engine):
    _green(engine, PRICES, WINDOW)
    _green(engine, LABELS, WINDOW[:-2])
    assert latest_sessions(engine, [PRICES, LABELS, "features/equities_xs"]) == {
        PRICES: ASOF, LABELS: WINDOW[-3], "features/equities_xs": None,
    }


def test_sessions_between_counts_sessions_not_days():
    friday, monday = dt.date(2025, 6, 27), dt.date(2025, 6, 30)
    assert sessions_between(friday, monday) == 1
    assert sessions_between(monday, monday) == 0
    assert sessions_between(dt.date(2025, 7, 3), dt.date(2025, 7, 7)) == 1  # July 4th is a holiday


def test_no_ledger_rows_is_not_due_and_names_the_table(engine):
    call = next_training(engine, GATE, model="equities_xs", trained=[])
    assert not call.due and call.asof is None
    assert call.reason == f"equities_xs: no ledger rows yet for {PRICES}"


def test_all_green_inputs_are_due_as_of_the_last_session_the_undelayed_inputs_reached(engine):
    _green(engine, PRICES, WINDOW)
    _green(engine, LABELS, WINDOW[:-2])
    call = next_training(engine, GATE, model="equities_xs", trained=[])
    assert call.due and call.asof == ASOF
    assert call.readiness is not None and call.readiness.ready


def test_a_red_session_in_the_window_stops_training_with_the_tables_share(engine):
    statuses = {d: "GREEN" for d in WINDOW}
    statuses[WINDOW[-2]] = "RED"
    write_ledger(engine, PRICES, statuses)
    _green(engine, LABELS, WINDOW[:-2])
    call = next_training(engine, GATE, model="equities_xs", trained=[])
    assert not call.due and call.asof == ASOF
    assert call.reason == (
        f"equities_xs as of {ASOF}: {PRICES} is 80.0% GREEN over {WINDOW[-5]}..{ASOF} (4 of 5 sessions), needs 100.0%"
    )


def test_an_amber_label_session_inside_its_lagged_window_stops_training(engine):
    _green(engine, PRICES, WINDOW)
    statuses = {d: "GREEN" for d in WINDOW[:-2]}
    statuses[WINDOW[-3]] = "AMBER"
    write_ledger(engine, LABELS, statuses)
    call = next_training(engine, GATE, model="equities_xs", trained=[])
    assert not call.due and LABELS in call.reason and "80.0% GREEN" in call.reason


def test_a_model_trained_within_its_cadence_is_not_due(engine):
    _green(engine, PRICES, WINDOW)
    _green(engine, LABELS, WINDOW[:-2])
    call = next_training(engine, GATE, model="equities_xs", trained=[WINDOW[-3]])
    assert not call.due
    assert call.reason == (
        f"equities_xs was trained as of {WINDOW[-3]} (2 session(s) before {ASOF}); it retrains every 3 sessions"
    )


def test_a_model_trained_as_of_the_same_session_is_not_due_again(engine):
    _green(engine, PRICES, WINDOW)
    _green(engine, LABELS, WINDOW[:-2])
    call = next_training(engine, GATE, model="equities_xs", trained=[ASOF])
    assert not call.due and "as of this session" in call.reason


def test_a_model_trained_a_full_cadence_ago_is_due_again(engine):
    _green(engine, PRICES, WINDOW)
    _green(engine, LABELS, WINDOW[:-2])
    call = next_training(engine, GATE, model="equities_xs", trained=[WINDOW[-4]])
    assert call.due and call.asof == ASOF


def test_the_lookback_override_shortens_the_window_the_gate_judges(engine):
    statuses = {d: "GREEN" for d in WINDOW}
    statuses[WINDOW[-5]] = "RED"
    write_ledger(engine, PRICES, statuses)
    _green(engine, LABELS, WINDOW)
    assert not next_training(engine, GATE, model="m", trained=[]).due
    assert next_training(engine, GATE, model="m", trained=[], lookback_sessions=4).due


def test_the_cadence_key_is_validated():
    doc = {"lookback_sessions": 5, "dependencies": [{"table": PRICES, "min_green": 0.9}], "retrain_every_sessions": 0}
    with pytest.raises(ValueError, match="retrain_every_sessions must be an integer >= 1, got 0"):
        TrainingGate.from_config(doc)

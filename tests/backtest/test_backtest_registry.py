"""Specification of the backtest registry (spec 000): runs, folds and the leaderboard in the control db."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select

from trademl.backtest import create_backtest_folds, create_backtest_run, leaderboard
from trademl.backtest.registry import backtest_folds

UTC = dt.timezone.utc
START = dt.datetime(2026, 12, 4, 22, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    return create_engine(f"sqlite:///{tmp_path / 'control.db'}")


def run(engine, model_id: str, sharpe: float | None, max_drawdown: float = 0.1, **kw) -> dict:
    metrics = {"sharpe": sharpe, "max_drawdown": max_drawdown, "cum_return": 0.2}
    return create_backtest_run(engine, model_id=model_id, params={"window": 20}, metrics=metrics, started_at=START,
                               finished_at=START + dt.timedelta(minutes=3), **kw)


def test_a_run_round_trips_with_its_params_metrics_and_times(engine):
    created = run(engine, "equities_xs", 1.4, git_sha="abc123", tag="nightly", trades_total=12)
    [stored] = leaderboard(engine)
    assert stored["id"] == created["id"]
    assert (stored["model_id"], stored["git_sha"], stored["tag"], stored["trades_total"]) == ("equities_xs", "abc123", "nightly", 12)
    assert stored["params"] == {"window": 20}
    assert stored["metrics"] == {"sharpe": 1.4, "max_drawdown": 0.1, "cum_return": 0.2}
    assert stored["sharpe"] == 1.4
    assert stored["started_at"] == START and stored["finished_at"] == START + dt.timedelta(minutes=3)


def test_leaderboard_orders_best_sharpe_first_with_missing_values_last(engine):
    for model, sharpe in (("m1", 0.5), ("m2", None), ("m3", 2.0), ("m4", 1.0)):
        run(engine, model, sharpe)
    assert [r["model_id"] for r in leaderboard(engine)] == ["m3", "m4", "m1", "m2"]


def test_leaderboard_orders_drawdown_smallest_first(engine):
    for model, dd in (("m1", 0.3), ("m2", 0.05), ("m3", 0.1)):
        run(engine, model, 1.0, max_drawdown=dd)
    assert [r["model_id"] for r in leaderboard(engine, order_by="max_drawdown")] == ["m2", "m3", "m1"]


def test_leaderboard_filters_by_model_and_pages(engine):
    for sharpe in (0.1, 0.2, 0.3, 0.4):
        run(engine, "a", sharpe)
    run(engine, "b", 9.0)
    page = leaderboard(engine, model_id="a", limit=2, offset=1)
    assert [r["sharpe"] for r in page] == [0.3, 0.2]


def test_leaderboard_rejects_an_unknown_order_by(engine):
    with pytest.raises(ValueError, match="order_by must be one of"):
        leaderboard(engine, order_by="sharpe; DROP TABLE backtest_runs")


def test_non_finite_metrics_are_stored_as_null(engine):
    created = create_backtest_run(engine, model_id="m", params={}, metrics={"sharpe": float("nan"), "profit_factor": float("inf")},
                                  started_at=None, finished_at=None)
    [stored] = leaderboard(engine)
    assert created["sharpe"] is None and stored["profit_factor"] is None
    assert stored["metrics"] == {"sharpe": None, "profit_factor": None}


def test_folds_are_stored_under_their_run(engine):
    created = run(engine, "m", 1.0)
    create_backtest_folds(engine, created["id"], [
        {"fold": 0, "thr_used": 0.5, "cum_ret": 0.1, "sharpe_hourly": 0.2, "trades": 7},
        {"fold": 1, "cum_ret": -0.05, "trades": 3},
    ])
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(backtest_folds).order_by(backtest_folds.c.fold))]
    assert [(r["run_id"], r["fold"], r["cum_ret"], r["trades"]) for r in rows] == [(created["id"], 0, 0.1, 7), (created["id"], 1, -0.05, 3)]
    assert rows[1]["thr_used"] is None


def test_folds_of_an_unknown_run_are_rejected(engine):
    with pytest.raises(ValueError, match="no backtest run with id 99"):
        create_backtest_folds(engine, 99, [{"fold": 0}])


def test_naive_run_times_are_rejected(engine):
    with pytest.raises(ValueError, match="timezone-aware UTC"):
        create_backtest_run(engine, model_id="m", params={}, metrics={}, started_at=dt.datetime(2026, 1, 1), finished_at=None)


def test_the_registry_lives_beside_the_control_tables_of_a_control_engine(tmp_path):
    from trademl.data import control

    engine = control.make_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    created = run(engine, "equities_xs", 1.2)
    create_backtest_folds(engine, created["id"], [{"fold": 0, "sharpe": 1.1}])
    assert [r["id"] for r in leaderboard(engine, model_id="equities_xs")] == [created["id"]]
    assert control.read_partition_status(engine).empty

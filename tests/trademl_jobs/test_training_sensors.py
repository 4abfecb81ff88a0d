"""The model loop's sensors, evaluated as the daemon does (build_sensor_context on a real instance).

train_if_ready: a RunRequest for the as-of session only when every dependency is GREEN enough over
the window and the cadence is due; its skip reason names the short table and its share otherwise.
promote_if_beat_champion: one decision per challenger version, promoted only when every bar passes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from trademl import calendar
from trademl.data import control
from trademl.models import registry
from trademl.models.readiness import training_gate
from trademl_jobs.training import MODEL_KEY, promote_tick, train_tick
from trademl_resources import ControlDbResource
from trademl_resources.training import TrainingResource

ASOF = dt.date(2025, 6, 30)
LOOKBACK = 30
WINDOW = [d.date() for d in calendar.sessions(calendar.previous_session(ASOF, LOOKBACK + 25), ASOF)]
MODEL = "equities_xs"


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    monkeypatch.setenv("TRADEML_ENV", "local")
    monkeypatch.delenv("TRAINING_ENABLED", raising=False)
    uri = f"sqlite:///{tmp_path / 'node.sqlite'}"
    engine = control.make_engine(uri)
    yield ControlDbResource(db_uri=uri), engine
    engine.dispose()


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _ledger(engine, statuses: dict[str, dict[dt.date, str]]) -> None:
    rows = [
        {"source_name": "t", "table_name": table, "symbol": None, "dt": pd.Timestamp(d), "partition_key": None,
         "status": s, "qc_score": 1.0, "row_count": 1, "expected_rows": None, "qc_code": None if s == "GREEN" else "X"}
        for table, days in statuses.items() for d, s in days.items()
    ]
    control.upsert_partition_status(engine, pd.DataFrame(rows))


def _all_green(engine, *, override: dict[str, dict[dt.date, str]] | None = None) -> None:
    statuses = {}
    for dep in training_gate(MODEL).dependencies:
        days = WINDOW[: len(WINDOW) - dep.lag_sessions] if dep.lag_sessions else WINDOW
        statuses[dep.table] = {d: "GREEN" for d in days} | (override or {}).get(dep.table, {})
    _ledger(engine, statuses)


def _tick(instance, resource, training=None):
    with dg.build_sensor_context(instance=instance) as context:
        return train_tick(context, resource, training or TrainingResource(lookback_sessions=LOOKBACK))


def test_all_green_inputs_request_a_training_run_for_the_last_session(instance, db):
    resource, engine = db
    _all_green(engine)
    tick = _tick(instance, resource)
    assert isinstance(tick, dg.RunRequest)
    assert tick.partition_key == ASOF.isoformat() and tick.run_key == f"{MODEL}:{ASOF.isoformat()}"


def test_a_red_curated_session_skips_with_the_table_and_its_green_share(instance, db):
    resource, engine = db
    _all_green(engine, override={"curated/equities_ohlcv_adj": {WINDOW[-3]: "RED"}})
    tick = _tick(instance, resource)
    assert isinstance(tick, dg.SkipReason)
    assert "curated/equities_ohlcv_adj is 96.7% GREEN" in tick.skip_message and "needs 98.0%" in tick.skip_message


def test_amber_sessions_count_against_the_share_too(instance, db):
    resource, engine = db
    amber = {d: "AMBER" for d in WINDOW[-LOOKBACK:][:2]}
    _all_green(engine, override={"reference/corp_actions": amber})
    tick = _tick(instance, resource)
    assert isinstance(tick, dg.SkipReason) and "reference/corp_actions is 93.3% GREEN" in tick.skip_message


def test_a_model_already_trained_as_of_the_session_is_not_requested_again(instance, db):
    resource, engine = db
    _all_green(engine)
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=MODEL_KEY, partition=ASOF.isoformat()))
    tick = _tick(instance, resource)
    assert isinstance(tick, dg.SkipReason)
    assert tick.skip_message == f"{MODEL} was trained as of {ASOF} (as of this session {ASOF}); it retrains every 5 sessions"


def test_training_disabled_by_the_profile_skips_and_says_how_to_enable_it(instance, db, monkeypatch):
    resource, engine = db
    _all_green(engine)
    monkeypatch.setenv("TRADEML_ENV", "ci")
    tick = _tick(instance, resource, TrainingResource(lookback_sessions=LOOKBACK))
    assert isinstance(tick, dg.SkipReason) and "TRAINING_ENABLED=true" in tick.skip_message


# ---------------------------------------------------------------- promote_if_beat_champion

SIG, COST = "sha256:paths", "sha256:costs"


@pytest.fixture
def store(monkeypatch, mlflow_store):
    """A fresh tracking store (tests/conftest.py `mlflow_store`) with auto-promotion on."""
    monkeypatch.setenv("TRAINING_ENABLE_AUTO_PROMOTE", "true")


def _challenger(tmp_path: Path, name: str, *, sharpe: float) -> registry.ModelVersionRef:
    folder = tmp_path / f"art_{name}"
    folder.mkdir()
    (folder / "model.txt").write_text(f"tree {name}\n")
    return registry.log_training_run(
        MODEL, artifacts_dir=folder, params={"name": name},
        metrics={"oos_sharpe_net": sharpe, "max_drawdown": 0.1, "dsr_margin": 0.4, "pbo": 0.02},
        tags={"cpcv_signature": SIG, "cost_signature": COST, "asof": ASOF.isoformat(), "lookback_sessions": str(LOOKBACK)},
    )


def _promote(instance, resource, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
        return promote_tick(context, resource)


def test_a_challenger_passing_every_bar_is_promoted_and_the_decision_is_the_ticks_message(instance, db, store, tmp_path):
    resource, engine = db
    _all_green(engine)
    ref = _challenger(tmp_path, "a", sharpe=1.5)
    result = _promote(instance, resource)
    assert isinstance(result, dg.SensorResult) and result.cursor == ref.version
    assert result.skip_reason.skip_message.startswith("promoted: ")
    assert registry.champion(MODEL) == ref
    observation = result.asset_events[0]
    assert observation.metadata["promotion"].value == "promoted" and observation.asset_key == MODEL_KEY


def test_a_challenger_below_the_sharpe_bar_is_refused_with_the_bar_and_its_value(instance, db, store, tmp_path):
    resource, engine = db
    _all_green(engine)
    _challenger(tmp_path, "weak", sharpe=0.4)
    result = _promote(instance, resource)
    assert result.skip_reason.skip_message.startswith("refused: ")
    assert "min_sharpe" in result.skip_reason.skip_message or "Sharpe" in result.skip_reason.skip_message
    assert registry.champion(MODEL) is None
    bars = [f["bar"] for f in result.asset_events[0].metadata["failed_bars"].value]
    assert "min_sharpe" in bars


def test_a_challenger_whose_window_turned_red_is_refused(instance, db, store, tmp_path):
    resource, engine = db
    _all_green(engine, override={"features/equities_xs": {WINDOW[-2]: "RED"}})
    _challenger(tmp_path, "a", sharpe=1.5)
    result = _promote(instance, resource)
    assert registry.champion(MODEL) is None
    assert "green_required" in [f["bar"] for f in result.asset_events[0].metadata["failed_bars"].value]


def test_an_already_decided_challenger_is_not_decided_again(instance, db, store, tmp_path):
    resource, engine = db
    _all_green(engine)
    ref = _challenger(tmp_path, "a", sharpe=1.5)
    first = _promote(instance, resource)
    again = _promote(instance, resource, cursor=first.cursor)
    assert isinstance(again, dg.SkipReason) and f"v{ref.version} was already decided" in again.skip_message
    assert len(control.read_pipeline_runs(engine, "promote_if_beat_champion")) == 1


def test_no_challenger_skips(instance, db, store):
    resource, _ = db
    result = _promote(instance, resource)
    assert isinstance(result, dg.SkipReason) and "no challenger" in result.skip_message


def test_evaluate_job_shows_the_verdict_without_deciding_so_the_sensor_still_promotes(instance, db, store, tmp_path):
    from trademl_jobs.training import EvaluateConfig, evaluate_job

    resource, engine = db
    _all_green(engine)
    ref = _challenger(tmp_path, "a", sharpe=1.5)
    run = evaluate_job.execute_in_process(
        instance=instance, resources={"control_db": resource},
        run_config=dg.RunConfig(ops={"evaluate_op": EvaluateConfig(model=MODEL)}),
    )
    observations = [e.event_specific_data.asset_observation for e in run.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert [o.metadata["evaluation"].value for o in observations] == ["would be promoted"]
    assert observations[0].metadata["challenger_version"].value == ref.version
    assert registry.champion(MODEL) is None and "promotion.decision" not in registry.version_tags(MODEL, ref.version)
    assert _promote(instance, resource).skip_reason.skip_message.startswith("promoted: ")

"""promote_if_beat_champion / rollback_champion on a real MLflow sqlite store and a control db (SSOT 1.4, 6.3, 6.4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data import control
from trademl.models import registry
from trademl.models.policy import evaluation_signature
from trademl.models.promotion import (
    PROMOTE_PIPELINE,
    ROLLBACK_PIPELINE,
    auto_promote_enabled,
    promote_if_beat_champion,
    rollback_champion,
    shadow_trading_ok,
    training_enabled,
)

MODEL = "equities_xs"
SIG = evaluation_signature({"n_groups": 8, "embargo": 10, "window": ["2021-01-04", "2025-06-30"]})
OTHER_SIG = evaluation_signature({"n_groups": 8, "embargo": 10, "window": ["2020-01-02", "2024-12-31"]})
COST = evaluation_signature({"fee_bps": 0.5, "impact": "sqrt"})


@pytest.fixture
def engine(tmp_path, monkeypatch, mlflow_store):
    """A fresh tracking store and control db; auto-promotion switched by each test, env `local`."""
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    monkeypatch.setenv("TRADEML_ENV", "local")
    monkeypatch.delenv("TRAINING_ENABLE_AUTO_PROMOTE", raising=False)
    monkeypatch.delenv("TRAINING_ENABLED", raising=False)
    eng = control.make_engine(f"sqlite:///{tmp_path / 'node.sqlite'}")
    yield eng
    eng.dispose()


@pytest.fixture
def auto_on(monkeypatch):
    monkeypatch.setenv("TRAINING_ENABLE_AUTO_PROMOTE", "true")


def train(tmp_path: Path, name: str, *, sharpe: float = 1.4, pbo: float = 0.02, cpcv: str = SIG) -> registry.ModelVersionRef:
    """Register a challenger as the trainer does, with its CPCV metrics and evaluation signatures."""
    d = tmp_path / f"art_{name}"
    d.mkdir()
    (d / "model.txt").write_text(f"tree {name}\n")
    return registry.log_training_run(
        MODEL, artifacts_dir=d, params={"name": name},
        metrics={"oos_sharpe_net": sharpe, "max_drawdown": 0.1, "dsr_margin": 0.4, "pbo": pbo},
        tags={"cpcv_signature": cpcv, "cost_signature": COST},
    )


def runs(engine, name=PROMOTE_PIPELINE):
    return control.read_pipeline_runs(engine, name)


def test_auto_promotion_is_off_in_local_by_default(monkeypatch):
    monkeypatch.delenv("TRAINING_ENABLE_AUTO_PROMOTE", raising=False)
    monkeypatch.delenv("TRADEML_ENV", raising=False)
    assert auto_promote_enabled("local") is False
    assert auto_promote_enabled() is False  # no TRADEML_ENV: local


def test_an_unknown_environment_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="'staging' is not one of"):
        auto_promote_enabled("staging")


def test_auto_promotion_is_on_in_local_when_the_variable_says_so(monkeypatch):
    monkeypatch.setenv("TRAINING_ENABLE_AUTO_PROMOTE", "true")
    assert auto_promote_enabled("local") is True


def test_auto_promotion_follows_the_profiles_and_the_variable_wins(monkeypatch):
    monkeypatch.delenv("TRAINING_ENABLE_AUTO_PROMOTE", raising=False)
    assert (auto_promote_enabled("dev"), auto_promote_enabled("prod"), auto_promote_enabled("ci")) == (True, True, False)
    monkeypatch.setenv("TRAINING_ENABLE_AUTO_PROMOTE", "false")
    assert auto_promote_enabled("prod") is False


def test_an_unreadable_auto_promote_value_is_an_error_not_a_default(monkeypatch):
    monkeypatch.setenv("TRAINING_ENABLE_AUTO_PROMOTE", "maybe")
    with pytest.raises(ValueError, match="TRAINING_ENABLE_AUTO_PROMOTE='maybe'"):
        auto_promote_enabled("prod")


def test_training_is_disabled_in_ci_unless_a_test_enables_it(monkeypatch):
    monkeypatch.delenv("TRAINING_ENABLED", raising=False)
    assert training_enabled("ci") is False and training_enabled("local") is True
    monkeypatch.setenv("TRAINING_ENABLED", "true")
    assert training_enabled("ci") is True


def test_a_challenger_passing_every_bar_becomes_champion_when_auto_promotion_is_on(engine, tmp_path, auto_on):
    ref = train(tmp_path, "a")
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert decision.promote and decision.challenger_version == ref.version
    assert registry.champion(MODEL) == ref
    assert registry.version_tags(MODEL, ref.version)["promotion.decision"] == "promoted"
    row = runs(engine).iloc[0]
    assert row["status"] == "SUCCEEDED" and row["metrics_json"]["promote"] is True
    assert row["artifact_uri"] == f"models:/{MODEL}/{ref.version}"


def test_in_local_a_passing_challenger_is_not_promoted_by_default(engine, tmp_path):
    ref = train(tmp_path, "a")
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not decision.promote and decision.failed == [("auto_promote", False, True)]
    assert "auto-promotion is off in env 'local'" in decision.reason
    assert registry.champion(MODEL) is None
    assert registry.version_tags(MODEL, ref.version)["promotion.failed_bar"] == "auto_promote"


def test_a_manual_promotion_ignores_the_auto_switch_but_not_the_bars(engine, tmp_path):
    train(tmp_path, "a", pbo=0.4)
    assert promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine, manual=True).failed == [("max_pbo", 0.4, 0.05)]
    ref = train(tmp_path, "b")
    assert promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine, manual=True).promote
    assert registry.champion(MODEL) == ref


def test_a_failing_bar_is_refused_and_recorded_with_its_value(engine, tmp_path, auto_on):
    ref = train(tmp_path, "a", sharpe=0.7)
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert decision.failed == [("min_sharpe", 0.7, 1.0)]
    tags = registry.version_tags(MODEL, ref.version)
    assert (tags["promotion.decision"], tags["promotion.failed_bar"], tags["promotion.value"], tags["promotion.threshold"]) == (
        "refused", "min_sharpe", "0.7", "1.0")
    assert runs(engine).iloc[0]["metrics_json"]["failed"] == [["min_sharpe", 0.7, 1.0]]
    assert registry.champion(MODEL) is None


def test_inputs_short_of_green_refuse(engine, tmp_path, auto_on):
    train(tmp_path, "a")
    assert promote_if_beat_champion(MODEL, green_ok=False, control_engine=engine).failed_bars == ["green_required"]


def test_a_challenger_must_beat_the_champion_on_the_same_paths(engine, tmp_path, auto_on):
    first = train(tmp_path, "a", sharpe=1.5)
    assert promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine).promote
    train(tmp_path, "b", sharpe=1.3)
    assert promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine).failed == [("must_beat_champion", 1.3, 1.5)]
    train(tmp_path, "c", sharpe=1.9, cpcv=OTHER_SIG)
    assert promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine).failed_bars == ["same_cpcv_paths"]
    assert registry.champion(MODEL) == first
    best = train(tmp_path, "d", sharpe=1.9)
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert decision.promote and decision.champion_version == first.version
    assert registry.champion(MODEL) == best and registry.champion_history(MODEL) == [first.version, best.version]


def test_a_champion_re_evaluated_on_the_challengers_paths_can_be_passed_in(engine, tmp_path, auto_on):
    train(tmp_path, "a", sharpe=1.5, cpcv=OTHER_SIG)
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    train(tmp_path, "b", sharpe=1.6)
    re_evaluated = {"oos_sharpe_net": 1.7, "cpcv_signature": SIG, "cost_signature": COST}
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine, champion_metrics=re_evaluated)
    assert decision.failed == [("must_beat_champion", 1.6, 1.7)]


def test_a_missing_policy_refuses_promotion_with_a_clear_error(engine, tmp_path, monkeypatch, auto_on):
    configs = tmp_path / "configs"
    configs.mkdir()
    shutil.copy(REPO_ROOT / "configs" / "training.yml", configs / "training.yml")
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    ref = train(tmp_path, "a")
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not decision.promote and decision.failed_bars == ["policy"]
    assert "does not exist" in decision.reason and str(configs / "policy" / "equities_xs.yml") in decision.reason
    assert registry.champion(MODEL) is None
    assert registry.version_tags(MODEL, ref.version)["promotion.failed_bar"] == "policy"


def test_a_malformed_policy_refuses_promotion_naming_the_error(engine, tmp_path, monkeypatch, auto_on):
    configs = tmp_path / "configs"
    (configs / "policy").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "configs" / "training.yml", configs / "training.yml")
    doc = yaml.safe_load((REPO_ROOT / "configs" / "policy" / "equities_xs.yml").read_text())
    doc["bars"]["max_pbo"] = "low"
    (configs / "policy" / "equities_xs.yml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    train(tmp_path, "a")
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not decision.promote and "bars.max_pbo: expected a number, got 'low'" in decision.reason
    assert registry.champion(MODEL) is None


def test_the_shadow_trading_hook_is_asked_and_its_refusal_blocks_promotion(engine, tmp_path, auto_on):
    ref = train(tmp_path, "a")
    asked = []

    def shadow_not_yet(model_name: str, version: str) -> bool:
        asked.append((model_name, version))
        return False

    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine, shadow_check=shadow_not_yet)
    assert asked == [(MODEL, ref.version)]
    assert decision.failed == [("shadow_trading", False, True)]
    assert registry.champion(MODEL) is None


def test_the_default_shadow_hook_approves_until_shadow_trading_exists():
    assert shadow_trading_ok(MODEL, "1") is True


def test_deciding_again_on_the_champion_changes_nothing(engine, tmp_path, auto_on):
    ref = train(tmp_path, "a")
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    decided_at = registry.version_tags(MODEL, ref.version)["promotion.decided_at"]
    again = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not again.promote and again.failed == [] and "already is the champion" in again.reason
    assert registry.champion_history(MODEL) == [ref.version]
    assert registry.version_tags(MODEL, ref.version)["promotion.decided_at"] == decided_at


def test_without_a_challenger_nothing_is_promoted_and_the_run_is_recorded(engine, auto_on):
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not decision.promote and "no challenger" in decision.reason
    assert runs(engine)["status"].tolist() == ["SUCCEEDED"]


def test_rollback_champion_restores_the_previous_one_and_records_the_run(engine, tmp_path, auto_on):
    first = train(tmp_path, "a", sharpe=1.4)
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    train(tmp_path, "b", sharpe=1.6)
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert rollback_champion(MODEL, control_engine=engine) == first
    assert registry.champion(MODEL) == first
    row = runs(engine, ROLLBACK_PIPELINE).iloc[0]
    assert row["status"] == "SUCCEEDED" and row["params_json"]["from_version"] == "2"
    assert json.loads(json.dumps(row["metrics_json"])) == {"restored_version": first.version}


def test_a_rolled_back_challenger_is_not_promoted_again(engine, tmp_path, auto_on):
    first = train(tmp_path, "a", sharpe=1.4)
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    second = train(tmp_path, "b", sharpe=1.6)
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    rollback_champion(MODEL, control_engine=engine)
    assert registry.challenger(MODEL) == second
    decision = promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    assert not decision.promote and decision.failed_bars == ["rolled_back"]
    assert registry.champion(MODEL) == first


def test_a_failed_rollback_is_recorded_as_failed(engine, tmp_path, auto_on):
    train(tmp_path, "a")
    promote_if_beat_champion(MODEL, green_ok=True, control_engine=engine)
    with pytest.raises(ValueError, match="no previous champion"):
        rollback_champion(MODEL, control_engine=engine)
    assert runs(engine, ROLLBACK_PIPELINE)["status"].tolist() == ["FAILED"]

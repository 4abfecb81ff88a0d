"""The MLflow registry of trained models on a real sqlite tracking store: versions, aliases, history, decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trademl.models import registry
from trademl.models.policy import PromotionDecision

MODEL = "equities_xs"
PROMOTE = PromotionDecision(True, [], "every bar passed")
REFUSE = PromotionDecision(False, [("max_pbo", 0.3, 0.05), ("min_sharpe", 0.4, 1.0)], "refused: max_pbo: pbo 0.3 > 0.05")


@pytest.fixture
def store(tmp_path, monkeypatch, mlflow_store) -> Path:
    """A fresh tracking store (tests/conftest.py `mlflow_store`) and data root for one test."""
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    return mlflow_store


def artifact_dir(tmp_path: Path, name: str = "artifacts", booster: str = "tree\n") -> Path:
    """A model artifact directory as the trainer writes it (contract), with small stand-in contents."""
    d = tmp_path / name
    d.mkdir()
    (d / "model.txt").write_text(booster)
    (d / "feature_list.json").write_text(json.dumps(["mom_20", "vol_20"]))
    (d / "training_cfg.json").write_text(json.dumps({"asof": "2025-06-30"}))
    (d / "model_card.md").write_text("# equities_xs\n")
    return d


def log(tmp_path: Path, name: str, sharpe: float, **tags) -> registry.ModelVersionRef:
    return registry.log_training_run(
        MODEL,
        artifacts_dir=artifact_dir(tmp_path, name, booster=f"tree {name}\n"),
        params={"num_leaves": 31, "cpcv": {"n_groups": 8, "embargo": 10}},
        metrics={"oos_sharpe_net": sharpe, "pbo": 0.02},
        tags={"asof": "2025-06-30", "cpcv_signature": "sha256:aa", "cost_signature": "sha256:bb", **tags},
    )


def test_tracking_uri_defaults_to_sqlite_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "dl"))
    assert registry.tracking_uri() == f"sqlite:///{tmp_path / 'dl' / 'mlflow' / 'mlflow.db'}"
    assert (tmp_path / "dl" / "mlflow" / "artifacts").is_dir()
    assert registry.artifact_root() == tmp_path / "dl" / "mlflow" / "artifacts"


def test_tracking_uri_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert registry.tracking_uri() == "http://127.0.0.1:5999"
    assert registry.artifact_root() is None


def test_training_run_logs_params_metrics_tags_and_the_artifact_directory(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    run = registry.client().get_run(ref.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"num_leaves": "31", "cpcv.n_groups": "8", "cpcv.embargo": "10"}
    assert run.data.metrics == {"oos_sharpe_net": 1.3, "pbo": 0.02}
    assert run.data.tags["asof"] == "2025-06-30"
    assert run.info.run_name == "equities_xs asof 2025-06-30"
    local = registry.download_version(MODEL, ref.version, tmp_path / "dl")
    assert sorted(p.name for p in local.iterdir()) == ["feature_list.json", "model.txt", "model_card.md", "training_cfg.json"]
    assert (local / "model.txt").read_text() == "tree a\n"


def test_artifacts_live_beside_the_tracking_db(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    uri = registry.client().get_run(ref.run_id).info.artifact_uri
    assert uri.startswith((store.parent / "artifacts" / MODEL).as_uri())


def test_training_run_registers_a_version_aliased_challenger_with_the_run_as_source(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    mv = registry.client().get_model_version(MODEL, ref.version)
    assert ref.version == "1" and mv.run_id == ref.run_id
    assert mv.source == registry.client().get_run(ref.run_id).info.artifact_uri + "/model"
    assert registry.challenger(MODEL) == ref
    assert registry.champion(MODEL) is None


def test_a_second_training_run_is_a_new_version_and_the_challenger_alias_moves(store, tmp_path):
    first, second = log(tmp_path, "a", 1.3), log(tmp_path, "b", 1.5)
    assert (first.version, second.version) == ("1", "2")
    assert registry.challenger(MODEL) == second


def test_version_metrics_carry_the_evaluation_signatures(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    assert registry.version_metrics(MODEL, ref.version) == {
        "oos_sharpe_net": 1.3, "pbo": 0.02, "cpcv_signature": "sha256:aa", "cost_signature": "sha256:bb",
    }


def test_champion_of_an_unknown_model_is_none(store):
    assert registry.champion("no_such_model") is None


def test_set_champion_moves_the_alias_and_keeps_the_history(store, tmp_path):
    first, second = log(tmp_path, "a", 1.3), log(tmp_path, "b", 1.5)
    registry.set_champion(MODEL, first.version, decision=PROMOTE)
    assert registry.champion(MODEL) == first
    registry.set_champion(MODEL, second.version, decision=PROMOTE)
    assert registry.champion(MODEL) == second
    assert registry.champion_history(MODEL) == ["1", "2"]


def test_set_champion_refuses_a_decision_that_does_not_promote(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    with pytest.raises(ValueError, match="does not promote"):
        registry.set_champion(MODEL, ref.version, decision=REFUSE)
    assert registry.champion(MODEL) is None


def test_rollback_restores_the_previous_champion_which_keeps_its_tags(store, tmp_path):
    first, second = log(tmp_path, "a", 1.3), log(tmp_path, "b", 1.5)
    registry.record_decision(MODEL, first.version, PROMOTE)
    registry.set_champion(MODEL, first.version, decision=PROMOTE)
    registry.set_champion(MODEL, second.version, decision=PROMOTE)
    assert registry.rollback(MODEL) == first
    assert registry.champion(MODEL) == first
    assert registry.champion_history(MODEL) == ["1"]
    assert registry.version_tags(MODEL, "1")["promotion.decision"] == "promoted"
    assert "promotion.rolled_back_at" in registry.version_tags(MODEL, "2")


def test_rollback_without_a_previous_champion_raises(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    registry.set_champion(MODEL, ref.version, decision=PROMOTE)
    with pytest.raises(ValueError, match="no previous champion"):
        registry.rollback(MODEL)
    assert registry.champion(MODEL) == ref


def test_decision_is_recorded_as_version_tags_with_each_failing_bar(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    registry.record_decision(MODEL, ref.version, REFUSE)
    tags = registry.version_tags(MODEL, ref.version)
    assert tags["promotion.decision"] == "refused"
    assert tags["promotion.failed_bar"] == "max_pbo,min_sharpe"
    assert tags["promotion.value"] == "0.3,0.4"
    assert tags["promotion.threshold"] == "0.05,1.0"
    assert tags["promotion.reason"] == REFUSE.reason
    assert json.loads(tags["promotion.failed"]) == [["max_pbo", 0.3, 0.05], ["min_sharpe", 0.4, 1.0]]
    assert tags["promotion.decided_at"].endswith("+00:00")


def test_a_promoting_decision_records_no_failed_bar(store, tmp_path):
    ref = log(tmp_path, "a", 1.3)
    registry.record_decision(MODEL, ref.version, PROMOTE)
    tags = registry.version_tags(MODEL, ref.version)
    assert (tags["promotion.decision"], tags["promotion.failed_bar"]) == ("promoted", "none")


def test_secrets_never_reach_params_or_tags(store, tmp_path, monkeypatch):
    secret = "sk-live-9f8e7d6c5b4a"
    monkeypatch.setenv("ALPACA_API_SECRET", secret)
    ref = registry.log_training_run(
        MODEL,
        artifacts_dir=artifact_dir(tmp_path),
        params={"vendor_url": f"https://api.example.com/v2?apiKey={secret}", "echo": secret, "db_password": "hunter22"},
        metrics={"oos_sharpe_net": 1.0},
        tags={"note": f"trained with {secret}", "db": "postgresql://trademl:hunter22@db/x"},
    )
    run = registry.client().get_run(ref.run_id)
    logged = json.dumps({**run.data.params, **run.data.tags})
    assert secret not in logged and "hunter22" not in logged
    assert run.data.params["echo"] == "***" and run.data.params["db_password"] == "***"


def test_non_numeric_metrics_are_refused_before_logging(store, tmp_path):
    with pytest.raises(ValueError, match="cpcv_signature"):
        registry.log_training_run(MODEL, artifacts_dir=artifact_dir(tmp_path), params={}, metrics={"cpcv_signature": "x"}, tags={})
    assert registry.challenger(MODEL) is None


def test_logging_a_training_run_on_a_new_store_prints_nothing(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}")  # tables created now
    capfd.readouterr()
    log(tmp_path, "a", 1.3)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")

"""run_cpcv / train_and_evaluate on a small planted frame: paths, metrics, selection and artifacts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from models_market import random_frame, small_config

from trademl.models.equities_xs import load_model
from trademl.models.evaluation import run_cpcv, train_and_evaluate

CONTRACT_KEYS = {
    "oos_sharpe_net", "max_drawdown", "dsr", "dsr_margin", "pbo", "n_trials", "rank_ic_mean", "rank_ic_tstat",
    "ic_mean", "ic_tstat", "n_paths", "path_sharpe_mean", "path_sharpe_std",
}


def mean_label_strategy(frame: pd.DataFrame):
    """Net daily return of a book long the top-half scores and short the bottom half, earning the 1-session label."""
    outcome = frame.set_index(["date", "symbol"])["xs_logret_fwd_1d"]

    def strategy(scores: pd.DataFrame) -> pd.Series:
        s = scores.set_index(["date", "symbol"])["score"]
        side = np.sign(s - s.groupby(level="date").transform("median"))
        return (side * outcome.reindex(s.index)).groupby(level="date").mean() - 1e-4

    return strategy


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_frame(n_sessions=80, n_symbols=20, seed=4, signal=0.3)


@pytest.fixture(scope="module")
def report(frame):
    return run_cpcv(frame, small_config(), strategy=mean_label_strategy(frame))


def test_metrics_hold_the_contract_keys_as_floats(report):
    assert CONTRACT_KEYS <= set(report.metrics)
    assert all(isinstance(v, float) for v in report.metrics.values())


def test_there_are_n_paths_paths_each_scoring_every_row_once(report, frame):
    n_paths = int(report.metrics["n_paths"])
    assert n_paths == 3  # C(4, 2) * 2 / 4
    assert sorted(report.oof["path"].unique()) == list(range(n_paths))
    for _, path in report.oof.groupby("path"):
        assert len(path) == len(frame)
        assert not path.duplicated(["date", "symbol"]).any()
        assert path["score"].notna().all()


def test_each_path_returns_one_net_return_per_session(report, frame):
    assert report.path_returns.shape == (frame["date"].nunique(), int(report.metrics["n_paths"]))
    assert report.path_returns.notna().all().all()


def test_the_selected_trial_has_the_best_mean_path_sharpe(report):
    means = report.trial_sharpes.mean(axis=1)
    assert report.selected.name == means.idxmax() == "h1_small"
    assert report.metrics["path_sharpe_mean"] == pytest.approx(means.max())
    assert report.metrics["oos_sharpe_net"] == report.metrics["path_sharpe_mean"]


def test_the_oos_ic_finds_the_planted_signal(report):
    assert report.metrics["rank_ic_mean"] > 0.1
    assert report.metrics["rank_ic_tstat"] > 3


def test_pbo_and_dsr_are_probabilities_and_count_the_trials(report):
    assert 0.0 <= report.metrics["pbo"] <= 1.0 and 0.0 <= report.metrics["dsr"] <= 1.0
    assert report.metrics["n_trials"] == 2.0
    assert report.trial_returns.shape[1] == 2


def test_a_window_too_short_for_the_minimum_test_span_uses_fewer_groups(frame):
    from trademl.models.settings import CpcvSettings

    cfg = small_config(cpcv=CpcvSettings(n_groups=4, n_test_groups=2, embargo_sessions=2, min_test_sessions=60))
    report = run_cpcv(frame, cfg, strategy=mean_label_strategy(frame))
    assert report.metrics["n_groups"] == 3.0  # 80 sessions hold 2 groups of 30, so the floor: one training group
    assert report.metrics["n_paths"] == 2.0  # C(3, 2) * 2 / 3


def test_train_and_evaluate_writes_the_artifact_directory(frame, tmp_path):
    model, report, paths = train_and_evaluate(frame, small_config(), asof=frame["date"].max(), strategy=mean_label_strategy(frame), out_dir=tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"model.txt", "model.onnx", "feature_list.json", "training_cfg.json", "oof_predictions.parquet",
                     "model_card.json", "model_card.md"}
    oof = pd.read_parquet(paths["oof_predictions"])
    assert list(oof.columns) == ["path", "date", "symbol", "score", "label"]
    card = json.loads(paths["model_card_json"].read_text())
    assert card["metrics"]["pbo"] == report.metrics["pbo"]
    assert json.loads(paths["feature_list"].read_text()) == model.feature_list
    cfg = json.loads(paths["training_cfg"].read_text())
    assert cfg["selected_trial"] == report.selected.name and cfg["asof"] == model.asof.isoformat()
    np.testing.assert_array_equal(load_model(tmp_path).predict(frame), model.predict(frame))


def test_a_book_that_never_moves_has_no_dsr_and_is_refused(frame):
    from trademl.models.policy import decide_promotion, load_policy

    def flat(scores: pd.DataFrame) -> pd.Series:  # no names to trade: zero net return every session
        return pd.Series(0.0, index=pd.Index(sorted(scores["date"].unique()), name="date"))

    report = run_cpcv(frame, small_config(), strategy=flat)
    assert np.isnan(report.metrics["dsr"]) and report.metrics["oos_sharpe_net"] == 0.0
    decision = decide_promotion({**report.metrics, "cpcv_signature": "s", "cost_signature": "c"}, None, load_policy("equities_xs"),
                                green_ok=True)
    assert not decision.promote and {"min_sharpe", "min_dsr_margin"} <= set(decision.failed_bars), decision.failed_bars

"""TrainingConfig: configs/training/equities_xs.yml read into a frozen, validated dataclass."""

from __future__ import annotations

import dataclasses

import pytest

from trademl.config import load_config
from trademl.models import training_gate
from trademl.models.settings import CpcvSettings, TrainingConfig, label_horizon_of, training_config
from trademl.schemas import EQUITIES_XS_FEATURES


def repo_doc() -> dict:
    return load_config("training/equities_xs")


def test_repo_config_resolves_the_v1_features_the_next_session_label_and_the_ssot_cpcv():
    cfg = training_config()
    assert cfg.features == EQUITIES_XS_FEATURES
    assert (cfg.label, cfg.label_horizon_sessions) == ("xs_logret_fwd_1d", 1)
    assert cfg.cpcv == CpcvSettings(n_groups=8, n_test_groups=2, embargo_sessions=10, min_test_sessions=126)
    assert cfg.time_decay_half_life_sessions == 378
    assert cfg.retrain_every_sessions == 5


def test_repo_grid_varies_label_horizon_and_capacity():
    cfg = training_config()
    assert {t.horizon for t in cfg.grid} == {1, 5, 20}
    assert {t.params["num_leaves"] for t in cfg.grid} == {7, 31}
    assert all(label_horizon_of(t.label) == t.horizon for t in cfg.grid)


def test_the_gate_keys_in_the_same_file_still_build_the_training_gate():
    gate = training_gate("equities_xs")
    assert gate.lookback_sessions == training_config().lookback_sessions == 756
    assert "labels/equities_xs" in {d.table for d in gate.dependencies}


def test_params_are_deterministic_and_take_the_trial_overrides():
    cfg = dataclasses.replace(training_config(), num_threads=1)
    params = cfg.params_for(cfg.grid[1])
    assert params["deterministic"] is True and params["seed"] == cfg.seed and params["num_threads"] == 1
    assert params["num_leaves"] == cfg.grid[1].params["num_leaves"]


def test_zero_threads_means_the_machine_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert dataclasses.replace(training_config(), num_threads=0).threads == 6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": "close"}, "label 'close' is not a column"),
        ({"pbo_partitions": 5}, "pbo_partitions must be even"),
        ({"grid": [{"name": "only", "label": "xs_logret_fwd_1d"}]}, "at least 2 trials"),
        ({"cpcv": {"n_groups": 4, "n_test_groups": 4}}, "n_test_groups must be < n_groups"),
        ({"regime_masks": [{"start": "2020-02-01", "end": "2020-01-01", "weight": 0.5}]}, "start <= end"),
        ({"feature_version": 9}, "equities_xs v9 is unknown"),
    ],
)
def test_invalid_entries_are_refused_naming_the_file_and_key(change, message):
    with pytest.raises(ValueError, match="configs/training/equities_xs.yml") as err:
        TrainingConfig.from_config({**repo_doc(), **change})
    assert message in str(err.value)


def test_cpcv_keeps_its_groups_when_the_window_allows_the_minimum_test_span():
    assert CpcvSettings(8, 2, 10, 126).groups_for(756) == 8  # 756 / 8 = 94.5 sessions a group, 189 a test set


def test_cpcv_shrinks_the_groups_when_the_window_is_short():
    # 126-session test sets of 2 groups need 63 sessions a group: 400 sessions hold 6 of them
    assert CpcvSettings(8, 2, 10, 126).groups_for(400) == 6


def test_cpcv_never_goes_below_one_training_group():
    assert CpcvSettings(8, 2, 10, 126).groups_for(50) == 3


def test_regime_masks_parse_into_dates_and_weights():
    doc = {**repo_doc(), "regime_masks": [{"start": "2020-02-20", "end": "2020-04-30", "weight": 0.25}]}
    mask = TrainingConfig.from_config(doc).regime_masks[0]
    assert (mask.start.isoformat(), mask.end.isoformat(), mask.weight) == ("2020-02-20", "2020-04-30", 0.25)

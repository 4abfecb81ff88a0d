"""The go/no-go policy file and the promotion decision (SSOT 6.3, 6.4; spec 000 policy functions)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from trademl.models.policy import (
    PolicyError,
    decide_promotion,
    ensure_policy_exists,
    evaluation_signature,
    load_policy,
    policy_path,
    validate_policy_file,
)

CPCV_SIG = evaluation_signature({"n_groups": 8, "n_test_groups": 2, "embargo": 10, "window": ["2020-01-02", "2024-12-31"]})
COST_SIG = evaluation_signature({"fee_bps": 0.5, "impact_coef": 0.1})


def valid_doc() -> dict:
    return yaml.safe_load(policy_path("equities_xs").read_text())


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def challenger_metrics(**over) -> dict:
    base = {"oos_sharpe_net": 1.4, "max_drawdown": 0.12, "dsr_margin": 0.3, "pbo": 0.02,
            "cpcv_signature": CPCV_SIG, "cost_signature": COST_SIG}
    return {**base, **over}


@pytest.fixture
def policy():
    return load_policy("equities_xs")


def test_repository_policy_holds_the_ssot_bars(policy):
    assert (policy.min_sharpe, policy.max_drawdown, policy.min_dsr_margin, policy.max_pbo) == (1.0, 0.20, 0.0, 0.05)
    assert policy.must_beat_champion and policy.green_required
    assert policy.risk.per_name_cap == 0.05 and (policy.risk.gross_cap.min, policy.risk.gross_cap.max) == (1.0, 1.5)


def test_repository_policy_file_validates():
    assert validate_policy_file(policy_path("equities_xs")) == (True, [])


def test_validator_names_a_missing_key(tmp_path):
    doc = valid_doc()
    del doc["bars"]["max_pbo"]
    ok, errors = validate_policy_file(write(tmp_path, doc))
    assert not ok and errors == ["bars.max_pbo: missing"]


def test_validator_names_a_wrong_type(tmp_path):
    doc = valid_doc()
    doc["bars"]["min_sharpe"] = "high"
    doc["promotion"]["green_required"] = "yes"
    ok, errors = validate_policy_file(write(tmp_path, doc))
    assert not ok
    assert errors == ["bars.min_sharpe: expected a number, got 'high'", "promotion.green_required: expected a boolean, got 'yes'"]


def test_validator_names_an_out_of_range_value(tmp_path):
    doc = valid_doc()
    doc["bars"]["max_pbo"] = 1.5
    doc["risk"]["vol_target"] = {"min": 0.12, "max": 0.10}
    _, errors = validate_policy_file(write(tmp_path, doc))
    assert errors == ["bars.max_pbo: 1.5 out of range [0.0, 1.0]",
                      "risk.vol_target: 0.12..0.1 must be an ordered range within [0.0, 1.0]"]


def test_validator_names_unknown_keys_at_every_level(tmp_path):
    doc = valid_doc()
    doc["bars"]["min_sortino"] = 1.0
    doc["extra"] = {}
    _, errors = validate_policy_file(write(tmp_path, doc))
    assert any(e.startswith("unknown key 'extra'") for e in errors)
    assert any(e.startswith("unknown key bars.min_sortino") for e in errors)
    assert len(errors) == 2


def test_validator_reports_a_missing_file_by_name(tmp_path):
    ok, errors = validate_policy_file(tmp_path / "nope.yml")
    assert not ok and str(tmp_path / "nope.yml") in errors[0] and "does not exist" in errors[0]


def test_validator_reports_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("bars: [unclosed\n")
    ok, errors = validate_policy_file(path)
    assert not ok and "not valid YAML" in errors[0]


def test_load_policy_of_a_malformed_file_raises_naming_every_error(tmp_path):
    doc = valid_doc()
    del doc["promotion"]
    doc["bars"]["max_drawdown"] = -0.1
    with pytest.raises(PolicyError, match=r"bars.max_drawdown: -0.1 out of range \[0.0, 1.0\]; promotion: missing section") as info:
        load_policy("equities_xs", path=write(tmp_path, doc))
    assert str(tmp_path / "policy.yml") in str(info.value)


def test_ensure_policy_exists_is_none_for_a_valid_policy():
    assert ensure_policy_exists("equities_xs") is None


def test_ensure_policy_exists_names_a_missing_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(tmp_path))
    message = ensure_policy_exists("equities_xs")
    assert message is not None and "equities_xs" in message and "does not exist" in message and "refused" in message


def test_ensure_policy_exists_names_a_malformed_policy(tmp_path):
    doc = valid_doc()
    doc["bars"]["max_pbo"] = "five percent"
    message = ensure_policy_exists("equities_xs", path=write(tmp_path, doc))
    assert message is not None and "bars.max_pbo: expected a number" in message


def test_challenger_passing_every_bar_with_no_champion_is_promoted(policy):
    decision = decide_promotion(challenger_metrics(), None, policy, green_ok=True)
    assert decision.promote and decision.failed == []
    assert "oos_sharpe_net 1.4 >= 1.0" in decision.reason


@pytest.mark.parametrize(
    ("metric", "value", "bar", "threshold"),
    [
        ("oos_sharpe_net", 0.8, "min_sharpe", 1.0),
        ("max_drawdown", 0.25, "max_drawdown", 0.20),
        ("dsr_margin", -0.1, "min_dsr_margin", 0.0),
        ("pbo", 0.30, "max_pbo", 0.05),
    ],
)
def test_each_failing_bar_is_named_with_its_value_and_threshold(policy, metric, value, bar, threshold):
    decision = decide_promotion(challenger_metrics(**{metric: value}), None, policy, green_ok=True)
    assert not decision.promote
    assert decision.failed == [(bar, value, threshold)]
    assert f"{bar}: {metric} {value}" in decision.reason


def test_dsr_margin_exactly_at_the_benchmark_fails_because_the_bar_is_strict(policy):
    decision = decide_promotion(challenger_metrics(dsr_margin=0.0), None, policy, green_ok=True)
    assert decision.failed == [("min_dsr_margin", 0.0, 0.0)]


def test_sharpe_exactly_at_the_bar_passes(policy):
    assert decide_promotion(challenger_metrics(oos_sharpe_net=1.0), None, policy, green_ok=True).promote


def test_every_failing_bar_is_listed_not_only_the_first(policy):
    decision = decide_promotion(challenger_metrics(oos_sharpe_net=0.2, pbo=0.5), None, policy, green_ok=False)
    assert decision.failed_bars == ["green_required", "min_sharpe", "max_pbo"]


def test_missing_or_nan_metric_fails_its_bar(policy):
    metrics = challenger_metrics(pbo=float("nan"))
    del metrics["dsr_margin"]
    decision = decide_promotion(metrics, None, policy, green_ok=True)
    assert decision.failed_bars == ["min_dsr_margin", "max_pbo"]
    assert "dsr_margin is missing" in decision.reason


def test_green_inputs_not_met_refuses(policy):
    decision = decide_promotion(challenger_metrics(), None, policy, green_ok=False)
    assert decision.failed == [("green_required", False, True)]


def test_green_not_required_by_policy_lets_the_bars_decide(policy):
    relaxed = dataclasses.replace(policy, green_required=False)
    assert decide_promotion(challenger_metrics(), None, relaxed, green_ok=False).promote


def test_challenger_beating_the_champion_on_the_same_signatures_is_promoted(policy):
    champion = challenger_metrics(oos_sharpe_net=1.2)
    assert decide_promotion(challenger_metrics(oos_sharpe_net=1.3), champion, policy, green_ok=True).promote


def test_challenger_not_beating_the_champion_is_refused_with_both_sharpes(policy):
    champion = challenger_metrics(oos_sharpe_net=1.5)
    decision = decide_promotion(challenger_metrics(oos_sharpe_net=1.5), champion, policy, green_ok=True)
    assert decision.failed == [("must_beat_champion", 1.5, 1.5)]


def test_champion_on_other_cpcv_paths_is_not_comparable_and_refuses(policy):
    other = evaluation_signature({"n_groups": 8, "n_test_groups": 2, "embargo": 10, "window": ["2019-01-02", "2023-12-29"]})
    champion = challenger_metrics(oos_sharpe_net=0.1, cpcv_signature=other)
    decision = decide_promotion(challenger_metrics(), champion, policy, green_ok=True)
    assert decision.failed == [("same_cpcv_paths", CPCV_SIG, other)]
    assert "not comparable" in decision.reason


def test_champion_under_another_cost_model_is_not_comparable_and_refuses(policy):
    champion = challenger_metrics(oos_sharpe_net=0.1, cost_signature=evaluation_signature({"fee_bps": 0.0}))
    assert decide_promotion(challenger_metrics(), champion, policy, green_ok=True).failed_bars == ["same_cost_model"]


def test_missing_signatures_are_not_comparable(policy):
    champion = {"oos_sharpe_net": 0.1}
    decision = decide_promotion(challenger_metrics(), champion, policy, green_ok=True)
    assert decision.failed_bars == ["same_cpcv_paths", "same_cost_model"]


def test_shadow_trading_verdict_is_a_bar_of_the_decision(policy):
    decision = decide_promotion(challenger_metrics(), None, policy, green_ok=True, shadow_ok=False)
    assert not decision.promote and decision.failed == [("shadow_trading", False, True)]


def test_evaluation_signature_ignores_key_order_and_sees_values():
    assert evaluation_signature({"a": 1, "b": 2}) == evaluation_signature({"b": 2, "a": 1})
    assert evaluation_signature({"a": 1, "b": 2}) != evaluation_signature({"a": 1, "b": 3})


def test_risk_limits_name_each_configured_value_outside_them(policy):
    assert policy.risk.violations(per_name_cap=0.05, gross_cap=1.2, vol_target=0.11, kelly_fraction=0.3) == []
    out = policy.risk.violations(per_name_cap=0.08, gross_cap=2.0, vol_target=0.11, kelly_fraction=0.3)
    assert out == ["per_name_cap 0.08 exceeds the policy cap 0.05", "gross_cap 2.0 is outside the policy range [1.0, 1.5]"]

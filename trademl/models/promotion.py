"""Champion/challenger promotion of a model (SSOT 6.4): `promote_if_beat_champion` and `rollback_champion`.

The decision reads the challenger's and the champion's metrics from the MLflow registry, applies
the model's policy (`trademl.models.policy`), asks the shadow-trading hook, and honours the
environment's switches (SSOT 1.4: `auto_promote_enabled`, `training_enabled`). Every decision,
promoting or refusing, is recorded twice: as tags on the challenger's version and as a row of
the control db's `pipeline_runs` (name `promote_if_beat_champion`, the decision in metrics_json).
The `champion` alias moves only when the decision promotes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from trademl.config import ENVIRONMENTS, config_value, load_config, settings
from trademl.data import control
from trademl.data.http.secrets import scrub
from trademl.models import registry
from trademl.models.policy import Policy, PolicyError, PromotionDecision, decide_promotion, load_policy

PROMOTE_PIPELINE, ROLLBACK_PIPELINE = "promote_if_beat_champion", "rollback_champion"
AUTO_PROMOTE_VAR, TRAINING_ENABLED_VAR = "TRAINING_ENABLE_AUTO_PROMOTE", "TRAINING_ENABLED"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class TrainingSwitches:
    """configs/training.yml (+ configs/env/<env>/training.yml): may training run, may promotion be automatic."""

    enabled: bool
    auto_promote: bool

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> TrainingSwitches:
        """Validate and build; errors name the file and the key."""
        unknown = sorted(set(doc) - {"enabled", "auto_promote"})
        if unknown:
            raise ValueError(f"configs/training.yml: unknown key(s) {', '.join(unknown)}; known: enabled, auto_promote")
        return cls(
            enabled=config_value(doc, "enabled", boolean, name="training"),
            auto_promote=config_value(doc, "auto_promote", boolean, name="training"),
        )


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def training_switches(env: str | None = None) -> TrainingSwitches:
    """The switches of environment `env` (default TRADEML_ENV, else local), before the env-var overrides."""
    env = env or settings().env
    if env not in ENVIRONMENTS:
        raise ValueError(f"environment {env!r} is not one of {ENVIRONMENTS}")
    return TrainingSwitches.from_config(load_config("training", env=env))


def _flag(var: str) -> bool | None:
    """An explicit true/false environment variable, None when unset; any other value is an error."""
    raw = os.environ.get(var)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(f"{var}={raw!r} is neither true nor false")
    return value in _TRUE


def auto_promote_enabled(env: str | None = None) -> bool:
    """Whether `promote_if_beat_champion` may move the champion alias by itself: TRAINING_ENABLE_AUTO_PROMOTE
    when set, else the environment profile (false in local and ci, true in dev and prod)."""
    explicit = _flag(AUTO_PROMOTE_VAR)
    return training_switches(env).auto_promote if explicit is None else explicit


def training_enabled(env: str | None = None) -> bool:
    """Whether training runs may start: TRAINING_ENABLED when set, else the profile (false in ci)."""
    explicit = _flag(TRAINING_ENABLED_VAR)
    return training_switches(env).enabled if explicit is None else explicit


def shadow_trading_ok(model_name: str, version: str) -> bool:
    """The shadow-trading hook of the decision (SSOT 6.4: "shadow trading over N weeks shows consistent
    improvement"): True today, since shadow trading arrives in a later issue, which replaces this
    function's body (or passes its own `shadow_check`) without touching the decision."""
    return True


def _decision_record(decision: PromotionDecision) -> dict[str, Any]:
    return {
        "promote": decision.promote,
        "failed": [[bar, value, threshold] for bar, value, threshold in decision.failed],
        "reason": decision.reason,
        "challenger_version": decision.challenger_version,
        "champion_version": decision.champion_version,
    }


def _with_versions(decision: PromotionDecision, challenger: str | None, champion: str | None) -> PromotionDecision:
    return PromotionDecision(decision.promote, list(decision.failed), decision.reason, challenger, champion)


def promote_if_beat_champion(
    model_name: str,
    *,
    green_ok: bool,
    env: str | None = None,
    policy: Policy | None = None,
    control_engine: Engine | None = None,
    champion_metrics: Mapping[str, Any] | None = None,
    shadow_check: Callable[[str, str], bool] = shadow_trading_ok,
    manual: bool = False,
) -> PromotionDecision:
    """Decide on the current challenger of `model_name`; record the decision; move `champion` if it promotes.

    `green_ok`: every training dependency met its GREEN threshold. `policy`: default the model's
    validated policy file (missing or malformed: refused, bar `policy`). `champion_metrics`: the
    champion re-evaluated on the challenger's CPCV paths, default its version's logged metrics.
    `manual`: a person asked (`trademl promote`), so the auto-promotion switch does not apply; every
    bar still does. Without a challenger, when it already is the champion, or when it was rolled
    back from champion before (so a rollback sticks), the decision does not promote and nothing new
    is recorded in MLflow (the pipeline_runs row is).
    """
    engine = control_engine or control.control_engine()
    env = env or settings().env
    run_id = control.start_pipeline_run(engine, PROMOTE_PIPELINE, {"model": model_name, "env": env, "green_ok": green_ok, "manual": manual})
    try:
        decision = _decide(model_name, green_ok=green_ok, env=env, policy=policy, champion_metrics=champion_metrics,
                           shadow_check=shadow_check, manual=manual)
    except Exception as exc:
        control.finish_pipeline_run(engine, run_id, "FAILED", {"error": scrub(f"{type(exc).__name__}: {exc}")})
        raise
    artifact = None if decision.challenger_version is None else f"models:/{model_name}/{decision.challenger_version}"
    control.finish_pipeline_run(engine, run_id, "SUCCEEDED", _decision_record(decision), artifact)
    return decision


def _decide(
    model_name: str,
    *,
    green_ok: bool,
    env: str,
    policy: Policy | None,
    champion_metrics: Mapping[str, Any] | None,
    shadow_check: Callable[[str, str], bool],
    manual: bool,
) -> PromotionDecision:
    challenger, champion = registry.challenger(model_name), registry.champion(model_name)
    champion_version = None if champion is None else champion.version
    if challenger is None:
        return PromotionDecision(False, [], f"no challenger of {model_name} is registered: nothing to decide", None, champion_version)
    if champion is not None and champion.version == challenger.version:
        return PromotionDecision(False, [], f"{model_name} v{challenger.version} already is the champion: nothing to promote",
                                 challenger.version, champion_version)
    rolled_back = registry.version_tags(model_name, challenger.version).get(registry.ROLLED_BACK_TAG)
    if rolled_back:
        return PromotionDecision(False, [("rolled_back", rolled_back, "never rolled back")],
                                 f"refused: {model_name} v{challenger.version} was rolled back at {rolled_back}; "
                                 "it is not promoted again (train a new challenger)", challenger.version, champion_version)
    if policy is None:
        try:
            policy = load_policy(model_name)
        except PolicyError as exc:
            refused = PromotionDecision(False, [("policy", str(exc), "a valid policy file")],
                                        f"refused: no valid policy for {model_name}: {exc}", challenger.version, champion_version)
            registry.record_decision(model_name, challenger.version, refused)
            return refused
    mine = registry.version_metrics(model_name, challenger.version)
    theirs = None if champion is None else dict(champion_metrics or registry.version_metrics(model_name, champion.version))
    decision = decide_promotion(mine, theirs, policy, green_ok=green_ok, shadow_ok=shadow_check(model_name, challenger.version))
    if not manual and not auto_promote_enabled(env):
        gate = ("auto_promote", False, True)
        reason = (f"every bar passed, but auto-promotion is off in env {env!r} (set {AUTO_PROMOTE_VAR}=true, or promote by hand)"
                  if decision.promote else f"{decision.reason}; auto-promotion is off in env {env!r}")
        decision = PromotionDecision(False, [*decision.failed, gate], reason)
    decision = _with_versions(decision, challenger.version, champion_version)
    registry.record_decision(model_name, challenger.version, decision)
    if decision.promote:
        registry.set_champion(model_name, challenger.version, decision=decision)
    return decision


def rollback_champion(model_name: str, *, control_engine: Engine | None = None) -> registry.ModelVersionRef:
    """Restore the previous champion of `model_name` (`registry.rollback`), recorded in `pipeline_runs`."""
    engine = control_engine or control.control_engine()
    before = registry.champion(model_name)
    run_id = control.start_pipeline_run(engine, ROLLBACK_PIPELINE, {"model": model_name, "from_version": before and before.version})
    try:
        restored = registry.rollback(model_name)
    except Exception as exc:
        control.finish_pipeline_run(engine, run_id, "FAILED", {"error": scrub(f"{type(exc).__name__}: {exc}")})
        raise
    control.finish_pipeline_run(engine, run_id, "SUCCEEDED", {"restored_version": restored.version},
                                f"models:/{model_name}/{restored.version}")
    return restored

"""The model loop (SSOT 5, 6): `train_if_ready`, `promote_if_beat_champion` and the promote job.

`train_if_ready` asks trademl.models.train_schedule on every tick: it requests one training run
(`train_job`, partition = the as-of session) when the model is due by its cadence and every
dependency meets its GREEN share over the window; otherwise its skip reason names the short table
and its share. `promote_if_beat_champion` decides once per new challenger version (the cursor):
the decision (promoted, or refused with the failing bar and its value) is recorded in MLflow tags
and pipeline_runs by the library, shown as the tick's message and as an observation on the model
asset. `promote_job` is what `trademl promote [--rollback]` runs, so a manual decision is a run;
`evaluate_job` (`trademl evaluate`) weighs the challenger against the bars and the champion without
deciding, and shows the verdict as an observation on the model asset.
"""

import datetime as dt

import dagster as dg

from trademl.backtest.training_run import evaluate_challenger, promote_challenger
from trademl.models import registry
from trademl.models.promotion import TRAINING_ENABLED_VAR, rollback_champion, training_enabled
from trademl.models.readiness import training_gate
from trademl.models.train_schedule import next_training
from trademl_assets.models import MODEL, MODEL_KEY
from trademl_jobs.automation import sensor_status
from trademl_resources import ControlDbResource
from trademl_resources.training import TrainingResource

train_job = dg.define_asset_job(
    "train_job", selection=dg.AssetSelection.assets(MODEL_KEY),
    description="Train equities_xs as of one session (requested by train_if_ready, or `trademl train`).",
)


def trained_sessions(instance: dg.DagsterInstance) -> list[dt.date]:
    """The as-of sessions the model was already trained on (its materialized partitions)."""
    return [dt.date.fromisoformat(k) for k in instance.get_materialized_partitions(MODEL_KEY)]


def train_tick(context: dg.SensorEvaluationContext, control_db: ControlDbResource, training: TrainingResource):
    """One evaluation of train_if_ready: a RunRequest for the due as-of session, or why not."""
    if not (training.enabled if training.enabled is not None else training_enabled()):
        return dg.SkipReason(f"training is disabled in this environment's profile (set {TRAINING_ENABLED_VAR}=true)")
    call = next_training(control_db.engine(), training_gate(MODEL), model=MODEL, trained=trained_sessions(context.instance),
                         lookback_sessions=training.lookback_sessions)
    if not call.due or call.asof is None:
        return dg.SkipReason(call.reason)
    asof = call.asof.isoformat()
    return dg.RunRequest(run_key=f"{MODEL}:{asof}", partition_key=asof, tags={"trademl/train_reason": call.reason})


def promote_tick(context: dg.SensorEvaluationContext, control_db: ControlDbResource):
    """One evaluation of promote_if_beat_champion: decide on a challenger version not decided yet."""
    challenger = registry.challenger(MODEL)
    if challenger is None:
        return dg.SkipReason(f"no challenger of {MODEL} is registered yet")
    if context.cursor == challenger.version:
        return dg.SkipReason(f"{MODEL} v{challenger.version} was already decided; waiting for a new challenger")
    decision = promote_challenger(MODEL, engine=control_db.engine())
    verdict = "promoted" if decision.promote else "refused"
    observation = dg.AssetObservation(asset_key=MODEL_KEY, metadata={
        "promotion": verdict,
        "challenger_version": str(decision.challenger_version),
        "champion_version": str(registry.champion(MODEL).version if registry.champion(MODEL) else "none"),
        "reason": decision.reason,
        "failed_bars": dg.MetadataValue.json([{"bar": b, "value": str(v), "threshold": str(t)} for b, v, t in decision.failed]),
    })
    message = decision.reason if decision.reason.startswith(f"{verdict}:") else f"{verdict}: {decision.reason}"
    return dg.SensorResult(skip_reason=message, cursor=challenger.version, asset_events=[observation])


class PromoteConfig(dg.Config):
    """`trademl promote`: decide on the current challenger by hand (every bar applies), or roll back."""

    model: str = MODEL
    rollback: bool = False


@dg.op(description="Promote the challenger if every go/no-go bar passes (manual decision), or restore the previous champion")
def promote_op(context: dg.OpExecutionContext, config: PromoteConfig, control_db: ControlDbResource) -> None:
    if config.rollback:
        restored = rollback_champion(config.model, control_engine=control_db.engine())
        context.log.info(f"{config.model}: champion rolled back to v{restored.version}")
        return
    decision = promote_challenger(config.model, engine=control_db.engine(), manual=True)
    context.log.info(f"{config.model}: {'promoted' if decision.promote else 'refused'}: {decision.reason}")


@dg.job(description="Promote (or roll back) a model's champion by hand: `trademl promote MODEL [--rollback]`")
def promote_job() -> None:
    promote_op()


class EvaluateConfig(dg.Config):
    """`trademl evaluate`: the model whose challenger is weighed (read-only)."""

    model: str = MODEL


@dg.op(description="Weigh the challenger against the go/no-go bars and the champion, without deciding (read-only)")
def evaluate_op(context: dg.OpExecutionContext, config: EvaluateConfig, control_db: ControlDbResource) -> None:
    ev = evaluate_challenger(config.model, engine=control_db.engine())
    verdict = "would be promoted" if ev.decision.promote else "would be refused"
    context.log.info(f"{config.model} v{ev.challenger_version} (evaluation only, nothing decided): {ev.decision.reason}")
    context.log_event(dg.AssetObservation(asset_key=MODEL_KEY, metadata={
        "evaluation": verdict,
        "challenger_version": ev.challenger_version,
        "champion_version": ev.champion_version or "none",
        "champion_on_challenger_paths": ev.on_challenger_paths,
        "green": ev.green,
        "green_reason": ev.green_reason,
        "reason": ev.decision.reason,
        "challenger_metrics": dg.MetadataValue.json(_numbers(ev.challenger)),
        "champion_metrics": dg.MetadataValue.json(_numbers(ev.champion or {})),
    }))


def _numbers(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@dg.job(description="Weigh a model's challenger against the bars and its champion, read-only: `trademl evaluate MODEL`")
def evaluate_job() -> None:
    evaluate_op()


def build_training_sensors(automation: bool) -> list[dg.SensorDefinition]:
    """train_if_ready and promote_if_beat_champion, RUNNING when `automation` is on."""
    status = sensor_status(automation)
    train = dg.sensor(
        name="train_if_ready", job=train_job, minimum_interval_seconds=300, default_status=status,
        description="Requests a training run of equities_xs when it is due by its cadence and every dependency "
        "meets its GREEN share over the window (configs/training/equities_xs.yml); otherwise says which table is short.",
    )(train_tick)
    promote = dg.sensor(
        name="promote_if_beat_champion", minimum_interval_seconds=60, default_status=status,
        description="Decides on each new challenger: promotes it (MLflow alias champion) only if every go/no-go bar of "
        "configs/policy/equities_xs.yml passes and auto-promotion is on; records every decision.",
    )(promote_tick)
    return [train, promote]

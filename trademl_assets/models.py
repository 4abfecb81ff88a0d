"""Models layer: the equities_xs challenger trained as of a session, and the champion's scores per session.

`models/equities_xs` (partition = the as-of session it is trained on) runs the whole training run
of trademl.backtest.training_run: data gate, LightGBM training, CPCV evaluation under the
production strategy, the champion compared on the same paths, MLflow run + registered version
aliased `challenger`. The train sensor (`train_if_ready`) requests it; `trademl train` runs it.
`models/equities_xs_scores` writes the scores of the version aliased `champion`, never another.
"""

import tempfile

import dagster as dg

from trademl.backtest.training_run import TrainingRefused, train_challenger
from trademl.models.promotion import TRAINING_ENABLED_VAR, training_enabled
from trademl.models.readiness import training_gate
from trademl.models.scoring import NoChampion, champion_scores
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.layer_asset import Upstream
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource, LakeResource
from trademl_resources.training import TrainingResource

MODEL = "equities_xs"
MODEL_KEY = dg.AssetKey(["models", MODEL])
SCORES = "models/equities_xs_scores"
FEATURES, LABELS, CURATED = "features/equities_xs", "labels/equities_xs", "curated/equities_ohlcv_adj"
# The OOS metrics shown on each materialization (the full set is in MLflow).
SHOWN_METRICS = ("oos_sharpe_net", "max_drawdown", "dsr", "dsr_margin", "pbo", "n_trials", "rank_ic_mean", "rank_ic_tstat", "n_paths")


def _training_asset() -> dg.AssetsDefinition:
    lookback = training_gate(MODEL).lookback_sessions

    @dg.asset(
        key=MODEL_KEY,
        group_name="models",
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[Upstream(FEATURES, lookback=lookback).dep(), Upstream(LABELS, lookback=lookback).dep(),
              Upstream(CURATED, lookback=lookback).dep()],
        kinds={"lightgbm", "mlflow"},
        description="equities_xs trained as of the partition's session, CPCV-evaluated net of costs and "
        "registered in MLflow as the `challenger` (trademl.backtest.training_run.train_challenger).",
    )
    def equities_xs(
        context: dg.AssetExecutionContext, lake: LakeResource, control_db: ControlDbResource, training: TrainingResource
    ) -> dg.MaterializeResult:
        if not (training.enabled if training.enabled is not None else training_enabled()):
            raise dg.Failure(description=f"training is disabled in this environment's profile (set {TRAINING_ENABLED_VAR}=true)",
                             allow_retries=False)
        if len(context.partition_keys) != 1:
            raise dg.Failure(description=f"a training run trains as of one session; this run asks for {len(context.partition_keys)} "
                             "(materialize one partition, or let train_if_ready choose)", allow_retries=False)
        with tempfile.TemporaryDirectory(prefix="trademl-train-") as work:
            try:
                outcome = train_challenger(
                    MODEL, context.partition_key, lake=lake.lake(), engine=control_db.engine(), work_dir=work,
                    lookback_sessions=training.lookback_sessions, cpcv_overrides=training.cpcv_overrides(),
                    trials=training.trial_names(), tags={"dagster_run_id": context.run_id},
                    progress=context.log.info,
                )
            except TrainingRefused as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
        context.log.info(f"{MODEL} v{outcome.version} registered as challenger (MLflow run {outcome.run_id})")
        return dg.MaterializeResult(metadata={
            "model_version": outcome.version,
            "mlflow_run_id": outcome.run_id,
            "selected_trial": outcome.selected_trial,
            "compared_champion": outcome.champion_version or "none",
            **{k: float(outcome.metrics[k]) for k in SHOWN_METRICS if k in outcome.metrics},
        })

    return equities_xs


def _scores_asset() -> dg.AssetsDefinition:
    spec = table_spec(SCORES)

    @dg.asset(
        key=asset_key_for(SCORES),
        group_name="models",
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[Upstream(FEATURES).dep(), MODEL_KEY],
        kinds={"parquet"},
        description=spec.description,
        metadata={"table": spec.name, "partition_column": spec.partition_column},
    )
    def equities_xs_scores(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        window = context.partition_key_range
        try:
            scored = champion_scores(MODEL, window.start, window.end, lake=lake.lake())
        except NoChampion as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        if scored.sessions_without_features:
            context.log.warning(f"no features for {len(scored.sessions_without_features)} session(s): "
                                f"{', '.join(d.isoformat() for d in scored.sessions_without_features[:5])}")
        written = lake.lake().write_partitions(SCORES, scored.frame) if len(scored.frame) else []
        return dg.MaterializeResult(metadata={
            "model_version": scored.version,
            "champion_asof": scored.asof.isoformat(),
            "rows": len(scored.frame),
            "partitions_written": sum(1 for w in written if w.changed),
        })

    return equities_xs_scores


def build_defs() -> dg.Definitions:
    """The training asset and the champion's scores."""
    return dg.Definitions(assets=[_training_asset(), _scores_asset()])

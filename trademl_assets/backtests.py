"""Backtests layer: the champion's backtest as of a session, net of the shared cost model, in the registry."""

import datetime as dt

import dagster as dg

from trademl.backtest import create_backtest_run
from trademl.backtest.champion_backtest import champion_backtest
from trademl.models.scoring import NoChampion
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource, LakeResource

MODEL, TABLE, SCORES, TARGETS = "equities_xs", "backtests/equities_xs", "models/equities_xs_scores", "portfolio/targets"
SHOWN = ("sharpe", "sortino", "max_drawdown", "cum_return", "turnover", "hit_rate")


def _backtest_asset() -> dg.AssetsDefinition:
    spec = table_spec(TABLE)

    @dg.asset(
        key=asset_key_for(TABLE),
        group_name="backtests",
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[asset_key_for(SCORES), asset_key_for(TARGETS)],
        kinds={"parquet"},
        description=spec.description,
        metadata={"table": spec.name, "partition_column": spec.partition_column},
    )
    def equities_xs_backtest(context: dg.AssetExecutionContext, lake: LakeResource, control_db: ControlDbResource) -> dg.MaterializeResult:
        for asof in context.partition_keys:  # one backtest per as-of session of the range
            started = dt.datetime.now(dt.UTC)
            try:
                run = champion_backtest(MODEL, asof, lake=lake.lake(), scores_table=SCORES)
            except NoChampion as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            written = lake.lake().write_partition(TABLE, run.asof, run.frame)
            metrics = {k: float(v) for k, v in run.result.metrics.items()}
            if written.changed:  # a rerun of the same backtest adds no second registry row
                create_backtest_run(control_db.engine(), model_id=f"{MODEL}:v{run.version}", params={"asof": run.asof.isoformat()},
                                    metrics=metrics, started_at=started, finished_at=dt.datetime.now(dt.UTC), tag="champion")
            context.log.info(f"backtest as of {asof}: v{run.version}, {len(run.frame)} sessions, Sharpe {metrics.get('sharpe', float('nan')):.2f}")
        return dg.MaterializeResult(metadata={
            "model_version": run.version,
            "sessions": len(run.frame),
            "first": run.frame["date"].min().isoformat(),
            **{k: metrics[k] for k in SHOWN if k in metrics},
        })

    return equities_xs_backtest


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=[_backtest_asset()])

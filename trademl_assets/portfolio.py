"""Portfolio layer: the equities_xs sleeve's target book per session from the champion's scores."""

import dagster as dg

from trademl.portfolio.targets import TARGETS, session_targets
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.layer_asset import Upstream
from trademl_assets.partitions import session_partitions
from trademl_resources import LakeResource

SCORES, CURATED, STRATEGY = "models/equities_xs_scores", "curated/equities_ohlcv_adj", "equities_xs"


def _targets_asset() -> dg.AssetsDefinition:
    spec = table_spec(TARGETS)

    @dg.asset(
        key=asset_key_for(TARGETS),
        group_name="portfolio",
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[Upstream(SCORES).dep(), Upstream(CURATED, lookback=61).dep()],
        kinds={"parquet"},
        description=spec.description,
        metadata={"table": spec.name, "partition_column": spec.partition_column},
    )
    def targets(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        window = context.partition_key_range
        built = session_targets(SCORES, window.start, window.end, lake=lake.lake(), strategy_tag=STRATEGY)
        if built.sessions_without_scores:
            context.log.warning(f"no champion scores for {len(built.sessions_without_scores)} session(s); no targets there")
        written = lake.lake().write_partitions(TARGETS, built.frame) if len(built.frame) else []
        last = built.frame[built.frame["date"] == built.frame["date"].max()] if len(built.frame) else built.frame
        return dg.MaterializeResult(metadata={
            "rows": len(built.frame),
            "partitions_written": sum(1 for w in written if w.changed),
            "gross": float(last["weight"].abs().sum()) if len(last) else 0.0,
            "net": float(last["weight"].sum()) if len(last) else 0.0,
            "names": int((last["weight"] != 0).sum()) if len(last) else 0,
        })

    return targets


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=[_targets_asset()])

"""Reports layer: the daily report (JSON + Markdown + plots) of the equities_xs sleeve, champion outputs only."""

import dagster as dg

from trademl.config import settings
from trademl.models.scoring import NoChampion
from trademl.reports.sleeve_report import sleeve_daily_report
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource, LakeResource

MODEL, BACKTEST = "equities_xs", "backtests/equities_xs"


def reports_dir():
    """Where the daily reports are written: <data root>/reports/daily/<asof>/."""
    return settings().data_root / "reports" / "daily"


def _daily_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["reports", "daily"]),
        group_name="reports",
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[asset_key_for(BACKTEST), asset_key_for("portfolio/targets")],
        kinds={"json", "markdown"},
        description="The daily report (SSOT 4.9 JSON contract, Markdown over the same JSON, plots) of the as-of session.",
    )
    def daily(context: dg.AssetExecutionContext, lake: LakeResource, control_db: ControlDbResource) -> dg.MaterializeResult:
        for asof in context.partition_keys:  # one report per session of the range
            try:
                json_path, md_path = sleeve_daily_report(MODEL, asof, lake=lake.lake(), engine=control_db.engine(),
                                                         out_dir=reports_dir(), backtest_table=BACKTEST)
            except NoChampion as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            context.log.info(f"daily report of {asof}: {md_path}")
        return dg.MaterializeResult(metadata={"json": dg.MetadataValue.path(json_path), "markdown": dg.MetadataValue.path(md_path)})

    return daily


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=[_daily_asset()])

"""Factory for the session-partitioned raw and reference assets: one trademl.data.ingest call each.

Pools: a Dagster pool is a static property of an op (the execution plan reads
`node.definition.pool`; neither run config nor tags can change it per run), and a vendor's pool
caps how many ingest steps hit that vendor at once (configs/edge.yml `pools`). So the assets are
built *for* a vendor: `build_ingest_asset(dataset, vendor=...)` puts them in `vendor_pool(vendor)`,
and `trademl_jobs.definitions.build_definitions(vendor)` builds one set of definitions per vendor
setting, binding the same vendor into the `vendor` resource so pool and connector always agree.
Nothing is read from the environment here: the code location passes TRADEML_VENDOR when Dagster
loads it, the CLI the vendor it was given.
"""


import dagster as dg

from trademl.data.ingest import ingest
from trademl.schemas import table_spec
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource, LakeResource, VendorResource


class IngestConfig(dg.Config):
    """Optional narrowing of an ingest run (a GAP task for a few symbols or series)."""

    symbols: list[str] = []
    series: list[str] = []


def vendor_pool(vendor: str) -> str:
    """The Dagster pool of a vendor setting: "alpaca,massive" runs in alpaca's pool, "auto"/"router" in "auto"."""
    first = vendor.split(",")[0].strip().lower() or "synthetic"
    return "auto" if first in {"auto", "router"} else first


def asset_key_for(table: str) -> dg.AssetKey:
    """Asset keys mirror the lake path: raw/equities_bars -> ["raw", "equities_bars"]."""
    return dg.AssetKey(table.split("/"))


def build_ingest_asset(
    dataset: str, *, vendor: str, deps: tuple[str, ...] = (), description: str = ""
) -> dg.AssetsDefinition:
    """A single-run-backfill asset that ingests `dataset` for its partition range, in the pool of
    `vendor` (a TRADEML_VENDOR value: "alpaca,massive" -> "alpaca", "auto" -> "auto")."""
    spec = table_spec(dataset)
    key = asset_key_for(spec.name)

    @dg.asset(
        key=key,
        group_name=spec.layer,
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[asset_key_for(table_spec(d).name) for d in deps],
        pool=vendor_pool(vendor),
        kinds={"parquet"},
        description=description or spec.description,
        metadata={"table": spec.name, "dataset": dataset, "partition_column": spec.partition_column},
    )
    def _asset(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        vendor: VendorResource,
        lake: LakeResource,
        control_db: ControlDbResource,
    ) -> dg.MaterializeResult:
        window = context.partition_key_range
        context.log.info(f"ingesting {dataset} {window.start}..{window.end} from {vendor.name}")
        report = ingest(
            dataset,
            window.start,
            window.end,
            connector=vendor.connector(),
            lake=lake.lake(),
            engine=control_db.engine(),
            symbols=config.symbols or None,
            series=config.series or None,
        )
        counts = report.colour_counts
        context.log.info(f"{spec.name}: {counts} over {len(report.sessions)} sessions")
        not_stored = report.not_stored_summary()
        if not_stored:
            context.log.warning(f"{spec.name}: rows not stored: {not_stored}")
        for session, review in sorted(report.large_revisions.items()):
            context.log.warning(f"{spec.name} {session}: LARGE_REVISION {review}")
        return dg.MaterializeResult(
            metadata={
                "sessions": len(report.sessions),
                "rows_fetched": report.rows_fetched,
                "partitions_written": report.partitions_written,
                "partitions_unchanged": report.partitions_unchanged,
                "green": counts["GREEN"],
                "amber": counts["AMBER"],
                "red": counts["RED"],
                "rejected_sessions": dg.MetadataValue.json(report.rejected),
                "failed_sessions": dg.MetadataValue.json(report.failed_sessions),
                # Rows the vendor sent that are not stored, per reason (per session for hours/non-sessions).
                "not_stored": dg.MetadataValue.json(not_stored),
                # Sessions recorded AMBER LARGE_REVISION: the share of stored rows the new version changed.
                "large_revisions": dg.MetadataValue.json(report.large_revisions),
                "vendor": report.source_name,
            }
        )

    return _asset

"""Factory for the session-partitioned derived assets (curated, features, labels): one trademl call each.

A derived asset reads a window of upstream partitions from the lake: `Upstream(table, lookback,
lookahead)` says how many sessions before / after each of its partitions it reads, and becomes a
`TimeWindowPartitionMapping` on the dependency, so the UI's lineage and "upstream changed" marks
show exactly which raw or curated sessions a feature or label session depends on. The body is the
library's range builder `build(first, last, *, lake, engine) -> LayerReport` (it reads, builds,
judges every session and stores partitions ledger-first); the asset only passes dependencies in
and turns the report into metadata. Its per-session check is `build_qc_check` over the ledger,
like the raw layer's.
"""


from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from trademl.data.layer_output import LayerReport
from trademl.schemas import table_spec
from trademl_assets.ingest_asset import asset_key_for
from trademl_assets.partitions import session_partitions
from trademl_resources import ControlDbResource, LakeResource

RangeBuild = Callable[..., LayerReport]


@dataclass(frozen=True)
class Upstream:
    """An input table of a derived asset and the window of its sessions one partition reads."""

    table: str
    lookback: int = 0
    lookahead: int = 0

    def __post_init__(self) -> None:
        if self.lookback < 0 or self.lookahead < 0:
            raise ValueError(f"{self.table}: lookback and lookahead are session counts >= 0")

    def dep(self) -> dg.AssetDep:
        """The dependency with its session window as a partition mapping."""
        mapping = dg.TimeWindowPartitionMapping(
            start_offset=-self.lookback, end_offset=self.lookahead, allow_nonexistent_upstream_partitions=True
        )
        return dg.AssetDep(asset_key_for(table_spec(self.table).name), partition_mapping=mapping)


def _metadata(report: LayerReport) -> dict[str, object]:
    counts = report.colour_counts
    red = report.red_sessions()
    return {
        "sessions": len(report.sessions),
        "partitions_written": report.partitions_written,
        "partitions_unchanged": report.partitions_unchanged,
        "rows_written": report.rows_written,
        "green": counts["GREEN"],
        "amber": counts["AMBER"],
        "red": counts["RED"],
        "red_sessions": dg.MetadataValue.json([d.isoformat() for d in red[:50]]),
        "qc_codes": dg.MetadataValue.json(sorted({c for codes in report.codes.values() for c in codes.split(",")})),
    }


def build_layer_asset(
    table: str,
    build: RangeBuild,
    *,
    upstream: Sequence[Upstream],
    description: str = "",
    name: str | None = None,
) -> dg.AssetsDefinition:
    """A single-run-backfill asset for `table` whose body is `build(first, last, lake=, engine=)`.

    `upstream` declares the input tables and their session windows (lineage + partition mapping);
    `name` overrides the asset's last key part when several assets write tables of one family."""
    spec = table_spec(table)
    key = asset_key_for(spec.name) if name is None else dg.AssetKey([spec.layer, name])

    @dg.asset(
        key=key,
        group_name=spec.layer,
        partitions_def=session_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[u.dep() for u in upstream],
        kinds={"parquet"},
        description=description or spec.description,
        metadata={"table": spec.name, "partition_column": spec.partition_column},
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, control_db: ControlDbResource) -> dg.MaterializeResult:
        window = context.partition_key_range
        context.log.info(f"building {spec.name} {window.start}..{window.end}")
        report = build(window.start, window.end, lake=lake.lake(), engine=control_db.engine())
        counts = report.colour_counts
        context.log.info(
            f"{spec.name}: {counts} over {len(report.sessions)} sessions; "
            f"{report.partitions_written} partitions written, {report.partitions_unchanged} unchanged"
        )
        if counts["RED"]:
            shown = ", ".join(f"{d.isoformat()} {report.codes.get(d, '')}" for d in report.red_sessions()[:5])
            context.log.warning(f"{spec.name}: {counts['RED']} RED session(s): {shown}")
        return dg.MaterializeResult(metadata=_metadata(report))

    return _asset


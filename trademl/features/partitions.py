"""The feature tables' session partitions: each table's build over a range, judged and stored.

Each function here is the whole body of one feature asset (trademl_assets/features.py): it reads
the curated (and reference) partitions its sessions need from the lake, calls the feature code of
its package and hands the rows to `trademl.data.layer_build.run_layer_build`, which checks schema,
point in time and coverage and writes partitions and ledger rows (source ``features``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Engine

from trademl.data.lake import Lake
from trademl.data.layer_build import BuildOutput, LayerBuild, run_layer_build
from trademl.data.layer_output import LayerReport, layer_settings
from trademl.features.feature_metadata import code_version, indicator_metadata_rows, store_feature_metadata
from trademl.features.indicators.specs import load_indicator_set
from trademl.features.indicators.tables import anchored_indicator_values, indicator_table

CURATED = "curated/equities_ohlcv_adj"
SOURCE = "features"


def curated_rows(lake: Lake, end: dt.date, *, start: dt.date | None = None, convention: str = "crsp") -> pd.DataFrame:
    """Stored curated rows (as-traded OHLCV + split and `convention` dividend factors) in [start, end]
    (start None = from the first stored session), sorted by symbol then date."""
    columns = ["symbol", "date", "open", "high", "low", "close", "volume", "split_factor", f"div_factor_{convention}"]
    rows = lake.read(CURATED, start=start, end=end, columns=columns, order="symbol").to_pandas()
    return rows


def symbols_per_session(rows: pd.DataFrame, sessions: list[dt.date]) -> dict[dt.date, int]:
    """How many symbols have a curated row on each session (the coverage denominator)."""
    counts = pd.to_datetime(rows["date"]).dt.date.value_counts()
    return {d: int(counts.get(d, 0)) for d in sessions}


def indicator_set_layer(set_name: str, lake: Lake) -> LayerBuild:
    """The build of ``features/indicators_<set>``: the set on every symbol's whole curated history
    (a fixed origin, so recursive indicators do not depend on the range run), re-anchored per session."""
    spec = indicator_table(set_name)
    indicator_set = load_indicator_set(set_name)
    settings = layer_settings()
    columns = tuple(indicator_set.output_columns())

    def build(sessions: list[dt.date], known_through: dt.date | None = None) -> BuildOutput:
        end = min(known_through or sessions[-1], sessions[-1])
        rows = curated_rows(lake, end, convention=settings.price_convention)
        if rows.empty:
            return BuildOutput(frame=pd.DataFrame(columns=spec.schema.names), expected={d: 0 for d in sessions})
        values = anchored_indicator_values(rows, indicator_set, convention=settings.price_convention, start=sessions[0])
        values = values[values["date"] <= end]
        in_range = rows[pd.to_datetime(rows["date"]).dt.date >= sessions[0]]
        return BuildOutput(frame=values, expected=symbols_per_session(in_range, sessions))

    return LayerBuild(
        table=spec.name,
        source=SOURCE,
        build=build,
        inputs=(CURATED,),
        coverage_columns=columns,
        thresholds=settings.thresholds(spec.name),
        spot_checks=settings.spot_checks,
    )


def build_indicator_set(set_name: str, first: str, last: str, *, lake: Lake, engine: Engine) -> LayerReport:
    """Materialize ``features/indicators_<set>`` for the sessions of [first, last] and record its
    feature metadata (once per recipe and code version)."""
    report = run_layer_build(indicator_set_layer(set_name, lake), first, last, lake=lake, engine=engine)
    rows = indicator_metadata_rows(load_indicator_set(set_name), code=code_version(), created_at=pd.Timestamp.now(tz="UTC"))
    store_feature_metadata(lake, rows)
    return report

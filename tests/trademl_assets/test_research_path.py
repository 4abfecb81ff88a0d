"""The research data path on a small synthetic node: curated -> features -> labels as Dagster runs.

Raw and reference tables are ingested straight through `trademl.data.ingest` (no Dagster, seconds);
the derived assets then run through a real in-process job with their per-session checks.
"""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.data import control
from trademl.data.connectors.registry import connector_for
from trademl.data.ingest import ingest
from trademl.data.lake import Lake
from trademl_assets import curated, features, labels
from trademl_assets.checks import CHECK_NAME
from trademl_resources import ControlDbResource, LakeResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
FIRST, LAST = "2024-04-01", "2025-06-30"
MACRO_FIRST = "2023-10-02"  # CPI YoY at t needs the vintage of the CPI 12 months before the latest print
DATASETS = ("calendars", "universe", "corp_actions", "delistings", "equities_eod", "macros_fred", "earnings_calendar", "shares_outstanding")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("research")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRADEML_SYNTHETIC_N_SYMBOLS", "8")
        mp.setenv("TRADEML_SYNTHETIC_OUTAGES", "off")
        db_uri = f"sqlite:///{root}/node.sqlite"
        engine = control.make_engine(db_uri)
        lake = Lake(root / "lake")
        connector = connector_for("synthetic")
        for dataset in DATASETS:
            ingest(dataset, MACRO_FIRST if dataset == "macros_fred" else FIRST, LAST, connector=connector, lake=lake, engine=engine)
        yield {"lake": lake, "engine": engine, "db_uri": db_uri, "root": root / "lake"}
        engine.dispose()


def run(node, defs_layer: dg.Definitions, key: str, first: str, last: str) -> dg.ExecuteInProcessResult:
    asset_key = dg.AssetKey.from_user_string(key)
    job = dg.define_asset_job("research_test_job", selection=dg.AssetSelection.assets(asset_key) | dg.AssetSelection.checks_for_assets(asset_key))
    defs = dg.Definitions.merge(
        defs_layer,
        dg.Definitions(jobs=[job], resources={"lake": LakeResource(root=str(node["root"])), "control_db": ControlDbResource(db_uri=node["db_uri"])}),
    )
    return defs.get_job_def("research_test_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags={RANGE_START: first, RANGE_END: last}, raise_on_error=False
    )


def colours(result: dg.ExecuteInProcessResult, key: str) -> dict[str, str]:
    return {
        e.partition: e.metadata["status"].value
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == key and e.check_name == CHECK_NAME and e.partition
    }


@pytest.fixture(scope="module")
def curated_run(node):
    return run(node, curated.build_defs(), "curated/equities_ohlcv_adj", FIRST, LAST)


def test_curated_covers_every_session_green(node, curated_run):
    assert curated_run.success
    found = colours(curated_run, "curated/equities_ohlcv_adj")
    assert len(found) == len(calendar.sessions(FIRST, LAST)) and set(found.values()) == {"GREEN"}
    ledger = control.read_partition_status(node["engine"], table_name="curated/equities_ohlcv_adj")
    assert set(ledger["source_name"]) == {"curator"}


def test_curated_rerun_changes_no_file(node, curated_run):
    lake_files = sorted(p.name for p in node["root"].rglob("curated/**/*.parquet"))
    again = run(node, curated.build_defs(), "curated/equities_ohlcv_adj", "2025-06-02", LAST)
    assert again.success
    assert sorted(p.name for p in node["root"].rglob("curated/**/*.parquet")) == lake_files


def test_market_context_is_green_from_its_warm_up_on(node, curated_run):
    from trademl.features.market_context import warmup_sessions

    history = calendar.sessions(FIRST, LAST)
    first = history[warmup_sessions() + 1].date().isoformat()  # +1: the synthetic VIX is published the next session
    result = run(node, features.build_defs(), "features/market_context", first, LAST)
    assert result.success, colours(result, "features/market_context")
    assert set(colours(result, "features/market_context").values()) == {"GREEN"}
    ctx = node["lake"].read("features/market_context", start=first, end=LAST).to_pandas()
    assert ctx["ctx_vix"].notna().all() and set(ctx["ctx_trend_regime"].dropna().unique()) <= {-1, 1}


def test_market_context_before_its_warm_up_is_red_for_coverage(node, curated_run):
    history = calendar.sessions(FIRST, LAST)
    day = history[150].date().isoformat()  # fewer than the SMA's 200 sessions of history
    result = run(node, features.build_defs(), "features/market_context", day, day)
    assert colours(result, "features/market_context") == {day: "RED"}
    ledger = control.read_partition_status(node["engine"], table_name="features/market_context", start=day, end=day)
    assert ledger["qc_code"].iloc[0] == "COVERAGE_LOW"


def test_labels_are_green_where_their_window_is_stored_and_red_after(node, curated_run):
    last_complete = calendar.previous_session(LAST, 20).date()
    first = calendar.previous_session(last_complete, 2).date().isoformat()
    after = calendar.next_session(last_complete, 2).date().isoformat()
    result = run(node, labels.build_defs(), "labels/equities_xs", first, after)
    found = colours(result, "labels/equities_xs")
    assert [found[d.isoformat()] for d in calendar.sessions(first, last_complete).date] == ["GREEN"] * 3
    assert [found[d.isoformat()] for d in calendar.sessions(calendar.next_session(last_complete).date(), after).date] == ["RED"] * 2
    assert node["lake"].partitions("labels/equities_xs")[-1] == last_complete
    ledger = control.read_partition_status(node["engine"], table_name="labels/equities_xs", start=after, end=after)
    assert "WINDOW_NOT_OBSERVED" in ledger["qc_code"].iloc[0]


def test_stored_forward_returns_match_the_curated_closes(node, curated_run):
    day = calendar.previous_session(LAST, 25).date()
    run(node, labels.build_defs(), "labels/equities_xs", day.isoformat(), day.isoformat())
    stored = node["lake"].read("labels/equities_xs", start=day, end=day).to_pandas().set_index("symbol")
    from trademl.curate import read_adjusted

    later = calendar.next_session(day, 5).date()
    prices = read_adjusted(node["lake"], day, later, asof=LAST)
    close = prices.pivot(index="date", columns="symbol", values="adj_close")
    expected = np.log(close.loc[later] / close.loc[day])
    pd.testing.assert_series_equal(stored["logret_fwd_5d"].sort_index(), expected.rename("logret_fwd_5d").sort_index(), check_names=False, rtol=1e-9)


def test_equities_xs_is_green_with_its_history_and_records_feature_metadata(node, curated_run):
    from trademl.features.equities_xs import lookback_sessions
    from trademl.schemas import EQUITIES_XS_FEATURES

    history = calendar.sessions(FIRST, LAST)
    first = history[lookback_sessions() - 1].date().isoformat()
    last = history[lookback_sessions() + 4].date().isoformat()
    result = run(node, features.build_defs(), "features/equities_xs", first, last)
    assert result.success, colours(result, "features/equities_xs")
    assert set(colours(result, "features/equities_xs").values()) == {"GREEN"}
    stored = node["lake"].read("features/equities_xs", start=first, end=last).to_pandas()
    assert stored["feat_mom_126"].notna().all() and stored["feat_log_mcap"].notna().all()
    assert stored.groupby("date")["feat_mom_20"].mean().abs().max() < 0.5  # cross-sectional z-scores
    meta = node["lake"].read("features/feature_metadata").to_pandas()
    assert set(EQUITIES_XS_FEATURES) <= set(meta.loc[meta["feature_set"] == "equities_xs", "feature"])


def test_equities_xs_without_enough_history_is_red(node, curated_run):
    day = calendar.sessions(FIRST, LAST)[60].date().isoformat()  # mom_126 cannot exist yet
    result = run(node, features.build_defs(), "features/equities_xs", day, day)
    assert colours(result, "features/equities_xs") == {day: "RED"}

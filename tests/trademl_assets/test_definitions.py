"""The one Definitions object: assets keyed like the lake, single-run backfills, checks, pools, automation."""

from __future__ import annotations

import dagster as dg
import pytest

from trademl.schemas import DATASET_TABLES, TABLES
from trademl_jobs.definitions import defs as load_defs

defs = load_defs()

RAW = {"raw/equities_bars", "raw/equities_minute", "raw/options_nbbo", "raw/macros_fred"}
REFERENCE = {t for t in TABLES if t.startswith("reference/")}


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


def test_every_raw_and_reference_table_is_an_asset_keyed_by_its_lake_path(graph):
    keys = {"/".join(k.path) for k in graph.get_all_asset_keys()}
    assert RAW | REFERENCE <= keys


@pytest.mark.parametrize("table", sorted(RAW | REFERENCE))
def test_asset_group_is_the_table_layer(graph, table):
    node = graph.get(dg.AssetKey(table.split("/")))
    assert node.group_name == table.split("/")[0]


@pytest.mark.parametrize("table", sorted(RAW | REFERENCE))
def test_assets_backfill_as_one_run(graph, table):
    node = graph.get(dg.AssetKey(table.split("/")))
    assert node.backfill_policy == dg.BackfillPolicy.single_run()


@pytest.mark.parametrize("dataset", sorted(DATASET_TABLES))
def test_each_ingested_table_has_a_blocking_partitioned_qc_check(graph, dataset):
    key = dg.AssetKey(DATASET_TABLES[dataset].split("/"))
    check_key = dg.AssetCheckKey(key, "qc_coverage")
    assert check_key in graph.asset_check_keys
    spec = graph.get_check_spec(check_key)
    assert spec.blocking is True


def test_raw_assets_run_in_the_vendor_pool(graph):
    node = graph.get(dg.AssetKey(["raw", "equities_bars"]))
    assert node.pools == {"synthetic"}


def test_definitions_carry_the_orchestration_loops():
    names = {s.name for s in defs.schedules} | {s.name for s in defs.sensors}
    assert {
        "forward_ingest_schedule",
        "planner_light_schedule",
        "planner_heavy_schedule",
        "maintenance_schedule",
        "queue_worker_sensor",
        "task_success_sensor",
        "task_failure_sensor",
    } <= names


def test_definitions_built_for_a_vendor_run_its_assets_in_its_pool_through_it():
    from trademl_jobs.definitions import build_definitions

    built = build_definitions("alpaca,massive")
    (asset,) = [a for a in built.assets if a.key == dg.AssetKey(["raw", "equities_bars"])]
    assert asset.op.pool == "alpaca"
    assert built.resources["vendor"].vendor == "alpaca,massive"

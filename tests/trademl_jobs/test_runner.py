"""The project's Dagster instance: created in DAGSTER_HOME with the project's settings and vendor pools."""

from __future__ import annotations

from trademl.config import load_config
from trademl_jobs.runner import dagster_instance


def test_instance_is_created_in_dagster_home_with_the_project_dagster_yaml(node):
    instance = dagster_instance()
    assert (node["dagster_home"] / "dagster.yaml").exists()
    assert instance.root_directory == str(node["dagster_home"])


def test_each_vendor_pool_gets_its_configured_concurrency_limit(node):
    instance = dagster_instance()
    pools = load_config("edge")["pools"]
    assert pools, "configs/edge.yml declares no pools"
    for pool, limit in pools.items():
        assert instance.event_log_storage.get_concurrency_info(pool).slot_count == int(limit)

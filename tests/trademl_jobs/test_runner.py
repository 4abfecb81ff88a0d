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


def test_a_leased_probe_task_runs_as_the_probe_job_and_closes_itself(node):
    from trademl.data import backfill, control
    from trademl_jobs.runner import execute_tasks
    from trademl.data.control import control_engine as _engine

    engine = _engine(node["db_uri"])
    control.enqueue_tasks(engine, [{"dataset": "equities_eod", "start_date": "2025-03-03", "end_date": "2025-03-08", "kind": "QC_PROBE"}])
    (task,) = backfill.lease_tasks(engine, "cli-test", n=1, ttl_seconds=600)
    instance = dagster_instance()
    assert execute_tasks(instance, "cli-test")([task]) == ["DONE"]  # nothing GREEN yet: nothing to compare
    (run,) = instance.get_runs()
    assert run.job_name == "qc_probe_job" and "trademl/task_id" not in run.tags


def test_a_range_run_ingests_from_the_vendor_it_is_given_not_the_environment(node, monkeypatch):
    import pyarrow.compute as pc

    from trademl.data.lake import Lake
    from trademl_jobs.runner import materialize_range

    monkeypatch.setenv("TRADEML_VENDOR", "alpaca")  # no keys: a run reading the environment would fail
    run = materialize_range(dagster_instance(), ["equities_eod"], "2025-03-03", "2025-03-04", vendor="synthetic")
    assert run.success
    bars = Lake(node["data_root"]).read("raw/equities_bars", start="2025-03-03", end="2025-03-04", columns=["source_name"])
    assert pc.unique(bars["source_name"]).to_pylist() == ["synthetic"]

"""ForwardIngestLoop, PlannerLoop and MaintenanceLoop schedules evaluated with Dagster's test contexts."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from trademl.data import control
from trademl_jobs.definitions import defs as load_defs
from trademl_jobs.jobs import MaintenanceConfig
from trademl_jobs.schedules import maintenance_run_config
from trademl_resources import ControlDbResource
from trademl.data.control import control_engine as _engine

# Friday 2025-03-07 20:30 UTC = 15:30 New York, after Thursday's session is long complete.
FRIDAY_AFTERNOON = dt.datetime(2025, 3, 7, 20, 30, tzinfo=dt.timezone.utc)

defs = load_defs()
forward_ingest_schedule = defs.resolve_schedule_def("forward_ingest_schedule")
maintenance_schedule = defs.resolve_schedule_def("maintenance_schedule")


@pytest.fixture
def instance(node):
    with dg.instance_for_test() as inst:
        yield inst


def _forward_tick(instance, node, when=FRIDAY_AFTERNOON):
    ctx = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        resources={"control_db": ControlDbResource(db_uri=node["db_uri"])},
    )
    return forward_ingest_schedule.evaluate_tick(ctx)


def test_forward_schedule_enqueues_forward_tasks_and_launches_nothing_itself(instance, node):
    result = _forward_tick(instance, node)
    assert not result.run_requests
    queue = control.read_queue(_engine(node["db_uri"]))
    assert len(queue) > 0
    assert set(queue["kind"]) == {"FORWARD"}
    assert (queue["end_date"] > queue["start_date"]).all()  # closed-open windows
    assert str(queue["start_date"].max()) <= "2025-03-07"


def test_forward_schedule_does_not_duplicate_tasks_on_the_next_tick(instance, node):
    _forward_tick(instance, node)
    n = len(control.read_queue(_engine(node["db_uri"])))
    _forward_tick(instance, node, FRIDAY_AFTERNOON + dt.timedelta(minutes=15))
    assert len(control.read_queue(_engine(node["db_uri"]))) == n


def test_maintenance_schedule_requests_the_nightly_export_of_its_day(instance):
    ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2025, 3, 8, 7, 30, tzinfo=dt.timezone.utc))
    (request,) = maintenance_schedule.evaluate_tick(ctx).run_requests
    assert request.run_config == dg.RunConfig(ops={"maintenance_op": MaintenanceConfig(day="2025-03-08")}).to_config_dict()
    assert request.run_config["ops"] == {"maintenance_op": {"config": {"day": "2025-03-08"}}}
    assert request.run_key == "maintenance-2025-03-08"


@pytest.mark.parametrize("name, heavy", [("planner_light_schedule", False), ("planner_heavy_schedule", True)])
def test_planner_schedules_run_the_audit_job_with_their_config(instance, node, name, heavy):
    schedule = defs.resolve_schedule_def(name)
    ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=FRIDAY_AFTERNOON)
    (request,) = schedule.evaluate_tick(ctx).run_requests
    assert request.run_config["ops"]["audit_op"]["config"]["heavy"] is heavy
    result = defs.resolve_job_def("audit_job").execute_in_process(run_config=request.run_config, instance=instance)
    assert result.success


def test_maintenance_job_writes_the_nightly_export_of_its_day(instance, node):
    result = defs.resolve_job_def("maintenance_job").execute_in_process(run_config=maintenance_run_config("2025-03-08"), instance=instance)
    assert result.success
    out = node["data_root"] / "exports" / "nightly" / "2025-03-08"
    assert sorted(p.name for p in out.iterdir()) == ["backfill_queue.parquet", "coverage.json", "partition_status.parquet"]


def test_probe_schedule_queues_nothing_without_green_bars_and_says_why(instance, node):
    from trademl_resources import VendorResource

    qc_probe_schedule = defs.resolve_schedule_def("qc_probe_schedule")

    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=FRIDAY_AFTERNOON,
        resources={"control_db": ControlDbResource(db_uri=node["db_uri"]), "vendor": VendorResource()},
    ) as ctx:
        result = qc_probe_schedule.evaluate_tick(ctx)
    assert not result.run_requests
    assert "enqueued 0 QC_PROBE task(s)" in result.skip_message and "equities_eod: no GREEN partition" in result.skip_message
    assert control.read_queue(_engine(node["db_uri"])).empty


def test_maintenance_job_recurates_a_late_corporate_action(instance, node):
    import numpy as np
    import pandas as pd

    from trademl import calendar
    from trademl.curate import curate_range
    from trademl.data.lake import Lake
    from trademl.schemas import session_id, with_metadata

    meta = {"source_name": "test", "source_uri": "test://late", "api_version": "1", "ingested_at": pd.Timestamp("2025-03-01", tz="UTC")}
    days = list(calendar.sessions("2025-02-03", "2025-02-14").date)
    lake = Lake(node["data_root"])
    bars = pd.DataFrame([(s, d, 10.0, 10.5, 9.5, 10.0, 1000) for s in ("AAA", "BBB") for d in days],
                        columns=["symbol", "date", "open", "high", "low", "close", "volume"])
    bars = bars.assign(vwap=bars["close"], nbbo_spread=np.nan, trades=pd.array([None] * len(bars), dtype="Int64"),
                       session_id=session_id(bars["date"]).to_numpy())
    lake.write_partitions("raw/equities_bars", with_metadata(bars, **meta))
    engine = _engine(node["db_uri"])
    curate_range(days[0], days[-1], lake=lake, engine=engine)
    split = pd.DataFrame({"date": [days[5]], "symbol": ["AAA"], "event_type": ["SPLIT"], "ex_date": [days[5]],
                          "record_date": [None], "pay_date": [None], "ratio": [2.0], "amount": [np.nan], "source_priority": [np.int32(1)]})
    lake.write_partitions("reference/corp_actions", with_metadata(split, **meta))  # ingested after its ex-date

    result = defs.resolve_job_def("maintenance_job").execute_in_process(run_config=maintenance_run_config("2025-03-08"), instance=instance)
    assert result.success
    stored = lake.read("curated/equities_ohlcv_adj", columns=["symbol", "date", "split_factor"]).to_pandas()
    aaa = stored[stored["symbol"] == "AAA"].set_index("date")["split_factor"]
    assert aaa.loc[days[4]] == 1.0 and (aaa.loc[days[5]:] == 2.0).all()
    assert (stored.loc[stored["symbol"] == "BBB", "split_factor"] == 1.0).all()
    ledger = control.read_partition_status(engine, table_name="curated/equities_ohlcv_adj", symbols=["AAA"])
    assert set(ledger["source_name"]) == {"curator"} and min(ledger["dt"]) == days[5]

"""QueueWorkerLoop sensors evaluated with Dagster's test contexts on a real (temporary) instance."""

from __future__ import annotations

import datetime as dt
import uuid

import dagster as dg
import pytest
from sqlalchemy import update

from trademl.data import backfill, control
from trademl_jobs.queue import RANGE_END, RANGE_START, TASK_TAG, close_task
from trademl_jobs.runner import materialize_range
from trademl_jobs.definitions import defs
from trademl_jobs.jobs import QcProbeConfig
from trademl_resources import ControlDbResource
from trademl.data.control import control_engine as _engine

queue_worker_sensor, task_success_sensor, task_failure_sensor = (
    defs().resolve_sensor_def(name) for name in ("queue_worker_sensor", "task_success_sensor", "task_failure_sensor")
)


@pytest.fixture
def instance(node):
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def engine(node):
    return _engine(node["db_uri"])


def _gap(engine, start="2025-03-03", end="2025-03-06", symbol=None) -> int:
    control.enqueue_tasks(
        engine, [{"dataset": "equities_eod", "symbol": symbol, "start_date": start, "end_date": end, "kind": "GAP"}]
    )
    queue = control.read_queue(engine)
    return int(queue[(queue.start_date.astype(str) == start)].id.iloc[0])


def _tick(instance, node):
    ctx = dg.build_sensor_context(instance=instance, resources={"control_db": ControlDbResource(db_uri=node["db_uri"])})
    return queue_worker_sensor.evaluate_tick(ctx)


def test_queue_worker_launches_one_range_run_per_leased_task(instance, node, engine):
    task_id = _gap(engine)
    result = _tick(instance, node)
    assert len(result.run_requests) == 1
    req = result.run_requests[0]
    # closed-open task window [03-03, 03-06) -> closed partition range 03-03..03-05
    assert (req.tags[RANGE_START], req.tags[RANGE_END]) == ("2025-03-03", "2025-03-05")
    assert req.tags[TASK_TAG] == str(task_id)
    assert req.asset_selection == [dg.AssetKey(["raw", "equities_bars"])]
    assert backfill.get_task(engine, task_id).status == "LEASED"


def test_queue_worker_skips_when_nothing_is_leasable(instance, node, engine):
    result = _tick(instance, node)
    assert result.run_requests == []
    assert result.skip_message


def test_leased_task_is_not_launched_twice(instance, node, engine):
    _gap(engine)
    first = _tick(instance, node)
    second = _tick(instance, node)
    assert len(first.run_requests) == 1
    assert second.run_requests == []


def test_task_with_expired_lease_is_launched_again_with_a_new_run_key(instance, node, engine):
    task_id = _gap(engine)
    first = _tick(instance, node).run_requests[0]
    with control.write_transaction(engine) as conn:
        conn.execute(
            update(control.backfill_queue)
            .where(control.backfill_queue.c.id == task_id)
            .values(lease_expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
        )
    again = _tick(instance, node).run_requests
    assert len(again) == 1
    assert again[0].tags[TASK_TAG] == str(task_id)
    assert again[0].run_key != first.run_key


def test_per_symbol_task_narrows_the_run_to_that_symbol(instance, node, engine):
    _gap(engine, symbol="SYN0001")
    req = _tick(instance, node).run_requests[0]
    (op_cfg,) = req.run_config["ops"].values()
    assert op_cfg["config"]["symbols"] == ["SYN0001"]


def _run_for_task(instance, task_id: int, first: str, last: str):
    run = materialize_range(instance, ["equities_eod"], first, last, extra_tags={TASK_TAG: str(task_id)})
    return instance.get_run_by_id(run.run_id)


def _status_context(instance, node, run, event_type):
    records = instance.get_records_for_run(run.run_id, of_type=event_type).records
    return dg.build_run_status_sensor_context(
        sensor_name="task_success_sensor",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=records[-1].event_log_entry.dagster_event,
        resources={"control_db": ControlDbResource(db_uri=node["db_uri"])},
    )


def test_successful_run_that_leaves_no_red_marks_task_done(instance, node, engine):
    task_id = _gap(engine)
    backfill.lease_tasks(engine, "test-worker", n=1, ttl_seconds=600)
    run = _run_for_task(instance, task_id, "2025-03-03", "2025-03-05")
    assert run.is_success
    ctx = _status_context(instance, node, run, dg.DagsterEventType.RUN_SUCCESS)
    task_success_sensor(ctx)
    assert backfill.get_task(engine, task_id).status == "DONE"


def test_run_that_leaves_sessions_red_fails_the_task_with_backoff(instance, node, engine):
    task_id = _gap(engine, start="2025-03-10", end="2025-03-12")
    backfill.lease_tasks(engine, "test-worker", n=1, ttl_seconds=600)
    # the run covers only the first session of the task window: the second stays without data (RED)
    run = _run_for_task(instance, task_id, "2025-03-10", "2025-03-10")
    ctx = _status_context(instance, node, run, dg.DagsterEventType.RUN_SUCCESS)
    task_failure_sensor(ctx)
    task = backfill.get_task(engine, task_id)
    assert task.attempts == 1
    assert task.next_not_before is not None and task.next_not_before > dt.datetime.now(dt.timezone.utc)
    assert "still RED" in (task.last_error or "")


def test_run_without_task_tag_is_left_alone(instance, node, engine):
    run = materialize_range(instance, ["calendars"], "2025-03-03", "2025-03-04")
    dagster_run = instance.get_run_by_id(run.run_id)
    ctx = _status_context(instance, node, dagster_run, dg.DagsterEventType.RUN_SUCCESS)
    result = task_success_sensor(ctx)
    assert isinstance(result, dg.SkipReason)
    assert control.queue_counts(engine) == {"PENDING": 0, "LEASED": 0, "DONE": 0, "FAILED": 0}


def _probe_task(engine, start="2025-03-03", end="2025-03-08") -> int:
    control.enqueue_tasks(
        engine, [{"dataset": "equities_eod", "symbol": None, "start_date": start, "end_date": end, "kind": "QC_PROBE", "vendor": "massive"}]
    )
    return int(control.read_queue(engine).query("kind == 'QC_PROBE'").id.iloc[0])


def test_qc_probe_task_launches_the_probe_job_over_its_sessions_not_an_ingest(instance, node, engine):
    task_id = _probe_task(engine)
    (req,) = _tick(instance, node).run_requests
    assert req.job_name == "qc_probe_job" and req.tags[TASK_TAG] == str(task_id)
    # closed-open window [03-03, 03-08) -> sessions 03-03..03-07
    expected = QcProbeConfig(dataset="equities_eod", start="2025-03-03", end="2025-03-07", symbols=[])
    assert req.run_config == dg.RunConfig(ops={"qc_probe_op": expected}).to_config_dict()
    assert req.run_config["ops"] == {"qc_probe_op": {"config": {"dataset": "equities_eod", "start": "2025-03-03", "end": "2025-03-07", "symbols": []}}}
    assert RANGE_START not in req.tags


def test_ingest_tasks_name_the_ingest_job(instance, node, engine):
    _gap(engine)
    (req,) = _tick(instance, node).run_requests
    assert req.job_name == "ingest_job"


def test_probe_task_is_done_when_its_run_succeeded_whatever_it_found(engine):
    task_id = _probe_task(engine)
    backfill.lease_tasks(engine, "test-worker", n=1, ttl_seconds=600)
    assert close_task(engine, task_id, "test-worker", True, "run-1") == "DONE"
    assert backfill.get_task(engine, task_id).status == "DONE"


def test_probe_task_whose_run_failed_is_retried_with_backoff(engine):
    task_id = _probe_task(engine)
    backfill.lease_tasks(engine, "test-worker", n=1, ttl_seconds=600)
    assert close_task(engine, task_id, "test-worker", False, "run-2") == "FAILED"
    task = backfill.get_task(engine, task_id)
    assert task.attempts == 1 and "probe run run-2 failed" in (task.last_error or "")


def _leased_by_sensor(instance, node, engine) -> int:
    task_id = _gap(engine)
    assert len(_tick(instance, node).run_requests) == 1
    return task_id


def _expire_at(engine, task_id: int, when: dt.datetime) -> None:
    with control.write_transaction(engine) as conn:
        conn.execute(update(control.backfill_queue).where(control.backfill_queue.c.id == task_id).values(lease_expires_at=when))


def _add_run(instance, task_id: int, status: dg.DagsterRunStatus) -> None:
    instance.add_run(dg.DagsterRun(job_name="ingest_job", run_id=str(uuid.uuid4()), status=status, tags={TASK_TAG: str(task_id)}))


def test_queue_worker_renews_the_lease_of_a_task_whose_run_is_alive(instance, node, engine):
    task_id = _leased_by_sensor(instance, node, engine)
    _add_run(instance, task_id, dg.DagsterRunStatus.STARTED)
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    _expire_at(engine, task_id, soon)
    _tick(instance, node)
    task = backfill.get_task(engine, task_id)
    assert (task.status, task.lease_owner) == ("LEASED", "dagster-queue-worker")
    ttl = backfill.lease_settings().ttl_seconds
    assert task.lease_expires_at > soon + dt.timedelta(seconds=ttl / 2)


def test_queue_worker_lets_the_lease_of_a_finished_run_expire_and_launches_the_task_again(instance, node, engine):
    task_id = _leased_by_sensor(instance, node, engine)
    _add_run(instance, task_id, dg.DagsterRunStatus.FAILURE)  # ended without its status sensor closing the task
    _expire_at(engine, task_id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1))
    (again,) = _tick(instance, node).run_requests
    assert again.tags[TASK_TAG] == str(task_id)


def test_queue_worker_does_not_renew_a_lease_whose_run_was_never_created(instance, node, engine):
    task_id = _leased_by_sensor(instance, node, engine)
    before = backfill.get_task(engine, task_id).lease_expires_at
    result = _tick(instance, node)
    assert result.run_requests == [] and "not renewed: 1" in result.skip_message
    assert backfill.get_task(engine, task_id).lease_expires_at == before


def test_symbol_less_gap_task_runs_over_its_red_symbols_only(instance, node, engine):
    import pandas as pd

    from trademl.data import qc

    days = [dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 3, 5)]
    expected = pd.DataFrame({"dt": [d for d in days for _ in range(3)], "symbol": ["SYN001", "SYN002", "SYN003"] * 3})
    counts = pd.DataFrame({"dt": days, "symbol": ["SYN003"] * 3, "rows": [1, 1, 1]})
    control.upsert_partition_status(engine, qc.evaluate_partitions("raw/equities_bars", days, counts, source_name="synthetic", expected=expected))
    _gap(engine)  # [03-03, 03-06), symbol NULL: SYN001 and SYN002 RED, SYN003 GREEN
    (req,) = _tick(instance, node).run_requests
    assert req.run_config["ops"]["raw__equities_bars"]["config"]["symbols"] == ["SYN001", "SYN002"]

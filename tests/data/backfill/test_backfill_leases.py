"""Leasing, lease expiry, backoff and ordering of backfill_queue tasks (SSOT 2.4)."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time

import pytest
from sqlalchemy import update
from backfill_lease_worker import lease_until_empty

from trademl.data import backfill, control
from trademl.config import load_config

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def _task(start="2025-03-03", end="2025-03-04", kind="GAP", symbol=None, vendor="synthetic", tokens=1, **extra):
    return {"dataset": "equities_eod", "symbol": symbol, "start_date": start, "end_date": end, "kind": kind,
            "vendor": vendor, "tokens": tokens, **extra}


def _days(n: int, first: dt.date = dt.date(2024, 1, 1)) -> list[tuple[str, str]]:
    """n distinct one-day closed-open windows."""
    return [((first + dt.timedelta(days=i)).isoformat(), (first + dt.timedelta(days=i + 1)).isoformat()) for i in range(n)]


def _only(tasks):
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_lease_marks_task_leased_with_owner_and_expiry(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", n=5, ttl_seconds=300, now=T0))
    assert (task.status, task.lease_owner) == ("LEASED", "w1")
    assert task.lease_expires_at == T0 + dt.timedelta(seconds=300)
    assert backfill.lease_tasks(backend_engine, "w2", now=T0) == []


def test_expired_lease_returns_to_pending(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", ttl_seconds=60, now=T0))
    assert backfill.expire_leases(backend_engine, now=T0 + dt.timedelta(seconds=61)) == 1
    back = backfill.get_task(backend_engine, task.id)
    assert (back.status, back.lease_owner, back.lease_expires_at, back.attempts) == ("PENDING", None, None, 0)
    assert _only(backfill.lease_tasks(backend_engine, "w2", now=T0 + dt.timedelta(seconds=62))).id == task.id


def test_unexpired_lease_is_kept(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", ttl_seconds=60, now=T0))
    assert backfill.expire_leases(backend_engine, now=T0 + dt.timedelta(seconds=59)) == 0
    assert backfill.get_task(backend_engine, task.id).status == "LEASED"


def test_renew_lease_extends_the_holders_lease(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", ttl_seconds=60, now=T0))
    later = T0 + dt.timedelta(seconds=50)
    assert backfill.renew_lease(backend_engine, task.id, "w1", 60, now=later) is True
    assert backfill.get_task(backend_engine, task.id).lease_expires_at == later + dt.timedelta(seconds=60)
    assert backfill.expire_leases(backend_engine, now=T0 + dt.timedelta(seconds=61)) == 0  # past the first TTL, still held


def test_renew_lease_by_another_owner_changes_nothing(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", ttl_seconds=60, now=T0))
    assert backfill.renew_lease(backend_engine, task.id, "w2", 600, now=T0) is False
    back = backfill.get_task(backend_engine, task.id)
    assert (back.lease_owner, back.lease_expires_at) == ("w1", T0 + dt.timedelta(seconds=60))


def test_renew_lease_after_the_lease_was_lost_returns_false(backend_engine):
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(backend_engine, "w1", ttl_seconds=60, now=T0))
    backfill.expire_leases(backend_engine, now=T0 + dt.timedelta(seconds=61))
    assert backfill.renew_lease(backend_engine, task.id, "w1", 60, now=T0 + dt.timedelta(seconds=62)) is False  # PENDING now
    _only(backfill.lease_tasks(backend_engine, "w2", ttl_seconds=60, now=T0 + dt.timedelta(seconds=63)))
    assert backfill.renew_lease(backend_engine, task.id, "w1", 60, now=T0 + dt.timedelta(seconds=64)) is False  # w2 holds it
    assert backfill.get_task(backend_engine, task.id).lease_owner == "w2"


def test_renew_lease_of_a_closed_task_returns_false(engine):
    control.enqueue_tasks(engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(engine, "w1", now=T0))
    backfill.complete_task(engine, task.id, "w1", now=T0)
    assert backfill.renew_lease(engine, task.id, "w1", 60, now=T0) is False
    assert backfill.get_task(engine, task.id).status == "DONE"


def test_release_lease_returns_the_task_to_pending_without_an_attempt(engine):
    control.enqueue_tasks(engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(engine, "w1", now=T0))
    assert backfill.release_lease(engine, task.id, "w2", "not mine", now=T0) is False
    assert backfill.release_lease(engine, task.id, "w1", "worker interrupted", now=T0) is True
    back = backfill.get_task(engine, task.id)
    assert (back.status, back.lease_owner, back.attempts) == ("PENDING", None, 0)


def test_heartbeat_keeps_the_lease_past_its_ttl_and_reports_a_lease_taken_over(engine):
    control.enqueue_tasks(engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(engine, "w1", ttl_seconds=1))
    with backfill.LeaseHeartbeat(engine, "w1", [task.id], ttl_seconds=1, every_seconds=0.1) as beat:
        time.sleep(1.5)
        assert backfill.expire_leases(engine) == 0
        assert backfill.get_task(engine, task.id).lease_owner == "w1"
        assert beat.renewals >= 5
        with control.write_transaction(engine) as conn:  # another worker takes the task over
            conn.execute(update(control.backfill_queue).values(lease_owner="w2"))
        time.sleep(0.5)
        assert beat.lost == {task.id}
    assert backfill.get_task(engine, task.id).lease_owner == "w2"


def test_shipped_leases_last_minutes_and_are_renewed_well_within_them():
    """configs/backfill.yml as shipped: a dead worker's task is back within minutes, a live one renews in time."""
    leases = backfill.lease_settings(load_config("backfill"))
    assert leases.ttl_seconds <= 300
    assert leases.heartbeat_seconds * 3 <= leases.ttl_seconds
    assert leases.ttl_seconds >= 3 * 30  # the queue-worker sensor renews at its ticks (minimum_interval_seconds=30)


def test_heartbeat_must_beat_faster_than_the_ttl(configs):
    configs("backfill", lambda d: d["queue"].update(lease_ttl_seconds=30, heartbeat_seconds=30))
    with pytest.raises(ValueError, match="heartbeat_seconds .30. must be below lease_ttl_seconds .30."):
        backfill.lease_settings()


def test_fifo_within_a_priority_lane(backend_engine):
    for i, (s, e) in enumerate(_days(3)):
        control.enqueue_tasks(backend_engine, [_task(s, e)], now=T0 + dt.timedelta(seconds=10 - i))  # newest first
    leased = backfill.lease_tasks(backend_engine, "w1", n=3, now=T0 + dt.timedelta(minutes=1))
    assert [t.start_date.isoformat() for t in leased] == ["2024-01-03", "2024-01-02", "2024-01-01"]


def test_priority_order_across_kinds(backend_engine):
    kinds = ["FORWARD", "QC_PROBE", "GAP", "BOOTSTRAP"]
    control.enqueue_tasks(backend_engine, [_task(kind=k) for k in kinds], now=T0)  # FORWARD is oldest (lowest id)
    order = [_only(backfill.lease_tasks(backend_engine, "w1", now=T0)).kind for _ in kinds]
    assert order == ["BOOTSTRAP", "GAP", "QC_PROBE", "FORWARD"]


def test_bootstrap_outside_the_stage_window_waits_behind_gaps(engine):
    control.enqueue_tasks(
        engine,
        [_task(kind="BOOTSTRAP", priority=control.BOOTSTRAP_OUTSIDE_WINDOW_PRIORITY), _task(kind="GAP")],
        now=T0,
    )
    assert [t.kind for t in backfill.lease_tasks(engine, "w1", n=2, now=T0)] == ["GAP", "BOOTSTRAP"]


def test_backoff_doubles_with_each_failure(backend_engine):
    base = load_config("backfill")["backoff"]["base_seconds"]
    control.enqueue_tasks(backend_engine, [_task()], now=T0)
    delays, now = [], T0
    for _ in range(3):
        task = _only(backfill.lease_tasks(backend_engine, "w1", now=now))
        failed = backfill.fail_task(backend_engine, task.id, "w1", "vendor 503", now=now)
        delays.append((failed.next_not_before - now).total_seconds())
        now = failed.next_not_before
    assert delays == [base, 2 * base, 4 * base]
    assert backfill.get_task(backend_engine, task.id).attempts == 3


def test_failed_task_is_not_leased_before_next_not_before(engine):
    control.enqueue_tasks(engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(engine, "w1", now=T0))
    failed = backfill.fail_task(engine, task.id, "w1", "timeout", now=T0)
    assert (failed.status, failed.attempts, failed.lease_owner) == ("PENDING", 1, None)
    assert "timeout" in failed.last_error
    assert backfill.lease_tasks(engine, "w1", now=failed.next_not_before - dt.timedelta(seconds=1)) == []
    assert _only(backfill.lease_tasks(engine, "w1", now=failed.next_not_before)).id == task.id


def test_backoff_is_capped(configs, engine):
    configs("backfill", lambda d: d["backoff"].update(base_seconds=10, cap_seconds=25, max_attempts=10))
    control.enqueue_tasks(engine, [_task()], now=T0)
    now, delays = T0, []
    for _ in range(4):
        task = _only(backfill.lease_tasks(engine, "w1", now=now))
        failed = backfill.fail_task(engine, task.id, "w1", "boom", now=now)
        delays.append((failed.next_not_before - now).total_seconds())
        now = failed.next_not_before
    assert delays == [10, 20, 25, 25]


def test_task_gives_up_as_failed_after_max_attempts(configs, engine):
    configs("backfill", lambda d: d["backoff"].update(max_attempts=2))
    control.enqueue_tasks(engine, [_task()], now=T0)
    now = T0
    for _ in range(2):
        task = _only(backfill.lease_tasks(engine, "w1", now=now))
        now = backfill.fail_task(engine, task.id, "w1", "still broken", now=now).next_not_before
    assert backfill.get_task(engine, task.id).status == "FAILED"
    assert control.queue_counts(engine) == {"PENDING": 0, "LEASED": 0, "DONE": 0, "FAILED": 1}
    assert backfill.lease_tasks(engine, "w1", now=now + dt.timedelta(days=1)) == []


def test_complete_task_marks_done_and_it_is_never_leased_again(engine):
    control.enqueue_tasks(engine, [_task()], now=T0)
    task = _only(backfill.lease_tasks(engine, "w1", now=T0))
    assert backfill.complete_task(engine, task.id, "w1", now=T0).status == "DONE"
    assert backfill.fail_task(engine, task.id, "w1", "late failure", now=T0).status == "DONE"
    assert backfill.lease_tasks(engine, "w1", now=T0 + dt.timedelta(days=1)) == []


def test_closing_an_unknown_task_is_a_clear_error(engine):
    with pytest.raises(ValueError, match="no backfill task with id 999"):
        backfill.complete_task(engine, 999, "w1")


def test_purge_removes_only_old_given_up_tasks(configs, engine):
    configs("backfill", lambda d: d["backoff"].update(max_attempts=1))
    (a, b), (c, d) = _days(2)
    control.enqueue_tasks(engine, [_task(a, b), _task(c, d)], now=T0)
    old, fresh = backfill.lease_tasks(engine, "w1", n=2, now=T0)
    backfill.fail_task(engine, old.id, "w1", "gone", now=T0)
    backfill.fail_task(engine, fresh.id, "w1", "gone", now=T0 + dt.timedelta(days=20))
    assert backfill.purge_failed_tasks(engine, 14, now=T0 + dt.timedelta(days=21)) == 1
    assert backfill.get_task(engine, old.id) is None
    assert backfill.get_task(engine, fresh.id).status == "FAILED"


@pytest.mark.parametrize("n_tasks", [120])
def test_two_worker_processes_never_lease_the_same_task(backend_engine, n_tasks):
    control.enqueue_tasks(backend_engine, [_task(s, e) for s, e in _days(n_tasks)], now=T0)
    uri = backend_engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=lease_until_empty, args=(uri, f"worker-{i}", os.environ["TRADEML_CONFIG_DIR"], barrier, results))
        for i in (1, 2)
    ]
    for w in workers:
        w.start()
    got = dict(results.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    first, second = got["worker-1"], got["worker-2"]
    assert first and second, "both workers should have leased while the other was leasing too"
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(control.read_queue(backend_engine).id.tolist())
    assert len(first) + len(second) == n_tasks
    owners = control.read_queue(backend_engine).lease_owner.value_counts().to_dict()
    assert owners == {k: len(v) for k, v in got.items() if v}


def test_forward_tasks_cover_the_latest_completed_session_not_yet_green(engine):
    import pandas as pd

    now = dt.datetime(2025, 3, 5, 23, 0, tzinfo=UTC)  # 2025-03-05 closed 21:00 UTC; data due 21:30
    green = pd.DataFrame(
        [{"source_name": "synthetic", "table_name": "raw/equities_bars", "symbol": "AAA", "dt": dt.date(2025, 3, 5),
          "partition_key": "2025-03-05", "status": "GREEN", "qc_score": 1.0, "row_count": 1, "expected_rows": 1,
          "qc_code": "OK"}]
    )
    control.upsert_partition_status(engine, green, now=now)
    assert backfill.enqueue_forward_tasks(engine, now=now, datasets=["equities_eod", "universe"]) == 1
    assert backfill.enqueue_forward_tasks(engine, now=now, datasets=["equities_eod", "universe"]) == 0
    (task,) = control.read_queue(engine).itertuples()
    assert (task.dataset, task.kind, task.priority) == ("universe", "FORWARD", 5)
    assert (str(task.start_date), str(task.end_date)) == ("2025-03-05", "2025-03-06")


def test_forward_waits_until_the_session_data_is_due(engine):
    before_due = dt.datetime(2025, 3, 5, 21, 10, tzinfo=UTC)  # closed at 21:00 UTC, due 30 min later
    backfill.enqueue_forward_tasks(engine, now=before_due, datasets=["equities_eod"])
    assert [str(d) for d in control.read_queue(engine).start_date] == ["2025-03-04"]


def test_stage_window_ends_at_the_latest_completed_session(configs):
    configs("backfill", lambda d: d["stage"].update(window_sessions=3))
    assert backfill.stage_window(dt.datetime(2025, 3, 10, 15, 0, tzinfo=UTC)) == (dt.date(2025, 3, 5), dt.date(2025, 3, 7))

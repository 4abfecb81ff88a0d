"""backfill_run: drains the queue through the caller's executor, stops at the budget, reports progress."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from trademl.data import backfill, control

T0 = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.timezone.utc)


def _enqueue(engine, n: int, *, tokens: int = 1, kind: str = "GAP") -> None:
    first = dt.date(2024, 1, 1)
    control.enqueue_tasks(
        engine,
        [
            {
                "dataset": "equities_eod",
                "start_date": first + dt.timedelta(days=i),
                "end_date": first + dt.timedelta(days=i + 1),
                "kind": kind,
                "vendor": "synthetic",
                "tokens": tokens,
            }
            for i in range(n)
        ],
        now=T0,
    )


def _completing(engine, owner, seen):
    def execute(tasks):
        for t in tasks:
            seen.append(t.id)
            backfill.complete_task(engine, t.id, owner)

    return execute


def test_backfill_run_drains_the_queue_in_lease_order(engine):
    _enqueue(engine, 4)
    seen, lines = [], []
    report = backfill.backfill_run(None, engine=engine, execute=_completing(engine, "w", seen), owner="w", progress=lines.append)
    assert seen == sorted(seen) and len(seen) == 4
    assert control.queue_counts(engine) == {"PENDING": 0, "LEASED": 0, "DONE": 4, "FAILED": 0}
    assert (report.leased, report.done, report.pending_left, report.stop_reason) == (4, 4, 0, "queue drained")
    assert lines[0].startswith("[1/4] #") and lines[0].endswith(")") and "-> DONE" in lines[0]
    assert lines[-1] == str(report) and "4 DONE" in lines[-1]


def test_backfill_run_stops_at_the_budget(engine):
    _enqueue(engine, 10, tokens=2)
    seen = []
    report = backfill.backfill_run({"synthetic": 7}, engine=engine, execute=_completing(engine, "w", seen), owner="w", progress=lambda m: None)
    assert len(seen) == 3
    assert report.tokens == {"synthetic": 6}
    assert control.queue_counts(engine)["PENDING"] == 7
    assert report.stop_reason.startswith("budget reached")


def test_backfill_run_stops_after_max_tasks(engine):
    _enqueue(engine, 5)
    seen = []
    report = backfill.backfill_run(None, engine=engine, execute=_completing(engine, "w", seen), owner="w", max_tasks=2, progress=lambda m: None)
    assert len(seen) == 2 and report.stop_reason == "max_tasks=2 reached"


def test_failed_tasks_wait_for_backoff_instead_of_spinning(engine):
    _enqueue(engine, 2)
    calls = []

    def failing(tasks):
        for t in tasks:
            calls.append(t.id)
            backfill.fail_task(engine, t.id, "w", "vendor down")

    report = backfill.backfill_run(None, engine=engine, execute=failing, owner="w", progress=lambda m: None)
    assert len(calls) == 2  # each tried once; retries wait for next_not_before
    assert (report.retrying, report.done) == (2, 0)
    assert "waiting for backoff" in report.stop_reason


def test_executor_exception_fails_its_tasks_and_the_drain_continues(engine):
    _enqueue(engine, 2)
    calls = []

    def flaky(tasks):
        calls.append(tasks[0].id)
        if len(calls) == 1:
            raise RuntimeError("dagster run crashed")
        backfill.complete_task(engine, tasks[0].id, "w")

    report = backfill.backfill_run(None, engine=engine, execute=flaky, owner="w", progress=lambda m: None)
    first = backfill.get_task(engine, calls[0])
    assert (first.status, first.attempts) == ("PENDING", 1)
    assert "dagster run crashed" in first.last_error
    assert (report.errors, report.done, report.retrying) == (1, 1, 1)


def test_backfill_run_prints_progress_by_default(engine, capsys):
    _enqueue(engine, 1)
    backfill.backfill_run(None, engine=engine, execute=_completing(engine, "w", []), owner="w")
    out = capsys.readouterr().out
    assert "[1/1] #1 GAP equities_eod [2024-01-01, 2024-01-02) * -> DONE" in out
    assert "1 DONE" in out


def test_backfill_run_renews_the_leases_of_the_tasks_it_runs_past_their_ttl(engine, configs):
    configs("backfill", lambda d: d["queue"].update(lease_ttl_seconds=1, heartbeat_seconds=0.1))
    _enqueue(engine, 1)
    held = []

    def slow(tasks):
        time.sleep(2.0)  # twice the TTL
        backfill.expire_leases(engine)  # what another worker does before leasing
        held.extend((t.status, t.lease_owner) for t in (backfill.get_task(engine, x.id) for x in tasks))
        for t in tasks:
            backfill.complete_task(engine, t.id, "w1")

    report = backfill.backfill_run(None, engine=engine, execute=slow, owner="w1", progress=lambda _: None)
    assert held == [("LEASED", "w1")]
    assert report.done == 1


def test_an_interrupted_backfill_run_gives_its_tasks_back_at_once(engine):
    _enqueue(engine, 1)

    def interrupted(tasks):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill.backfill_run(None, engine=engine, execute=interrupted, owner="w1", progress=lambda _: None)
    assert control.queue_counts(engine) == {"PENDING": 1, "LEASED": 0, "DONE": 0, "FAILED": 0}


def test_idle_backfill_run_names_tasks_leased_by_other_workers(engine):
    _enqueue(engine, 1)
    (task,) = backfill.lease_tasks(engine, "cli:node:4242", ttl_seconds=120)
    report = backfill.backfill_run(None, engine=engine, execute=lambda tasks: None, owner="w1", progress=lambda _: None)
    stamp = task.lease_expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report.stop_reason.startswith("nothing leasable: 1 task(s) LEASED by other workers: ")
    assert f"#{task.id} GAP equities_eod [2024-01-01, 2024-01-02) * held by cli:node:4242 until {stamp} (in 1" in report.stop_reason

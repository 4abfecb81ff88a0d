"""Per-vendor budgets: daily-cap slices by kind (85/90/100 %) and token buckets, persisted in the control db."""

from __future__ import annotations

import datetime as dt

import pytest

from trademl.data import backfill, control

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
VENDOR = "capped_vendor"  # not in configs/endpoints.yml: its budget is its own


@pytest.fixture
def capped(configs):
    """A vendor with a daily cap of 100 tokens and a bucket that never limits."""
    configs(
        "edge",
        lambda d: d["budgets"].update({VENDOR: {"tokens_per_minute": 1_000_000, "burst": 1_000_000, "daily_cap": 100}}),
    )


def _tasks(kind: str, n: int, tokens: int, vendor: str = VENDOR, offset: int = 0) -> list[dict]:
    first = dt.date(2020, 1, 1) + dt.timedelta(days=offset)
    return [
        {
            "dataset": "equities_eod",
            "start_date": first + dt.timedelta(days=i),
            "end_date": first + dt.timedelta(days=i + 1),
            "kind": kind,
            "vendor": vendor,
            "tokens": tokens,
        }
        for i in range(n)
    ]


def _lease_all(engine, now=T0):
    return backfill.lease_tasks(engine, "w1", n=1000, now=now)


def test_bootstrap_stops_at_85_percent_of_the_daily_cap(capped, engine):
    control.enqueue_tasks(engine, _tasks("BOOTSTRAP", 30, 5), now=T0)
    assert len(_lease_all(engine)) == 17
    assert backfill.budget_usage(engine, VENDOR, T0.date())["BOOTSTRAP"] == 85


def test_gap_stops_at_90_percent_of_the_daily_cap(capped, engine):
    control.enqueue_tasks(engine, _tasks("GAP", 30, 5), now=T0)
    assert len(_lease_all(engine)) == 18
    assert backfill.budget_usage(engine, VENDOR, T0.date())["GAP"] == 90


def test_forward_may_use_the_whole_daily_cap(capped, engine):
    control.enqueue_tasks(engine, _tasks("FORWARD", 30, 5), now=T0)
    assert len(_lease_all(engine)) == 20
    assert backfill.budget_usage(engine, VENDOR, T0.date())["FORWARD"] == 100


def test_forward_still_runs_after_bootstrap_filled_its_slice(capped, engine):
    control.enqueue_tasks(engine, _tasks("BOOTSTRAP", 30, 5) + _tasks("FORWARD", 10, 5, offset=100), now=T0)
    leased = _lease_all(engine)
    kinds = [t.kind for t in leased]
    assert (kinds.count("BOOTSTRAP"), kinds.count("FORWARD")) == (17, 3)
    assert sum(backfill.budget_usage(engine, VENDOR, T0.date()).values()) == 100


def test_daily_cap_resets_on_the_next_utc_day(capped, engine):
    control.enqueue_tasks(engine, _tasks("FORWARD", 30, 5), now=T0)
    assert len(_lease_all(engine)) == 20
    assert len(_lease_all(engine, now=T0 + dt.timedelta(days=1))) == 10


def test_budget_usage_holds_across_engines(capped, engine, tmp_path):
    control.enqueue_tasks(engine, _tasks("GAP", 30, 5), now=T0)
    assert len(backfill.lease_tasks(engine, "w1", n=10, now=T0)) == 10
    other = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")  # another process would do the same
    try:
        assert len(backfill.lease_tasks(other, "w2", n=1000, now=T0)) == 8
    finally:
        other.dispose()


def test_blocked_vendor_does_not_block_other_vendors(capped, engine):
    control.enqueue_tasks(engine, _tasks("GAP", 30, 5) + _tasks("GAP", 3, 5, vendor="synthetic", offset=100), now=T0)
    vendors = [t.vendor for t in _lease_all(engine)]
    assert (vendors.count(VENDOR), vendors.count("synthetic")) == (18, 3)


def test_token_bucket_limits_tokens_per_minute(configs, engine):
    configs("edge", lambda d: d["budgets"].update({VENDOR: {"tokens_per_minute": 10, "burst": 10, "daily_cap": 1000}}))
    control.enqueue_tasks(engine, _tasks("FORWARD", 10, 5), now=T0)
    assert len(_lease_all(engine)) == 2  # burst of 10 tokens
    assert len(_lease_all(engine, now=T0 + dt.timedelta(seconds=20))) == 0  # 3.3 tokens refilled
    assert len(_lease_all(engine, now=T0 + dt.timedelta(seconds=30))) == 1  # 5 tokens refilled
    assert len(_lease_all(engine, now=T0 + dt.timedelta(minutes=10))) == 2  # refills only up to the burst


def test_task_larger_than_the_bucket_runs_when_the_bucket_is_full(configs, engine):
    configs("edge", lambda d: d["budgets"].update({VENDOR: {"tokens_per_minute": 6, "burst": 6, "daily_cap": 1000}}))
    control.enqueue_tasks(engine, _tasks("GAP", 2, 15), now=T0)
    assert len(_lease_all(engine)) == 1
    assert len(_lease_all(engine, now=T0 + dt.timedelta(minutes=2))) == 0  # bucket still paying back the debt
    assert len(_lease_all(engine, now=T0 + dt.timedelta(minutes=4))) == 1


def test_run_budget_limits_the_tokens_of_one_call(engine):
    control.enqueue_tasks(engine, _tasks("GAP", 10, 2, vendor="synthetic"), now=T0)
    assert len(backfill.lease_tasks(engine, "w1", n=100, now=T0, budgets={"synthetic": 7})) == 3

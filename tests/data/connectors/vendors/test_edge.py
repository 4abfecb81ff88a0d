"""Per-vendor edge scheduling: one executor per vendor, budgets, freezes, producers."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from trademl.data.connectors.base import FetchRequest, VendorUnavailable
from trademl.data.edge import EdgeScheduler, VendorBudget, WorkUnit, alpaca_bars_units, dataset_units, fred_treasury_units, massive_bars_units


def _unit(vendor, desc, run=lambda: "ok", tokens=1):
    return WorkUnit(vendor, desc, tokens, run)


def test_a_blocked_vendor_never_delays_another_vendor():
    gate = threading.Event()
    with EdgeScheduler(pools={"slow": 1, "fast": 1}, budgets={}) as sched:
        stuck = sched.submit(_unit("slow", "hangs", run=lambda: gate.wait(10)))
        queued_behind = sched.submit(_unit("slow", "waits for the slow worker"))
        t0 = time.monotonic()
        fast = [sched.submit(_unit("fast", f"f{i}", run=lambda i=i: i)) for i in range(50)]
        results = [f.result(timeout=5).result for f in fast]
        elapsed = time.monotonic() - t0
        assert results == list(range(50)) and elapsed < 2.0
        assert not stuck.done() and not queued_behind.done()
        gate.set()
        assert stuck.result(timeout=5).ok and queued_behind.result(timeout=5).ok


def test_outage_freezes_only_that_vendor():
    def down():
        raise VendorUnavailable("flaky", "HTTP 503 five times")

    with EdgeScheduler(pools={"flaky": 1, "good": 1}, budgets={}, freeze_seconds={"flaky": 30.0}) as sched:
        first = sched.submit(_unit("flaky", "fails", run=down)).result(timeout=5)
        assert not first.ok and first.qc_code == "VENDOR_OUTAGE"
        frozen = sched.submit(_unit("flaky", "after the freeze"))
        good = sched.submit(_unit("good", "unaffected")).result(timeout=5)
        assert good.ok
        time.sleep(0.2)
        assert not frozen.done()  # waits out the 30 s freeze in flaky's own worker
        assert sched.runner("flaky").frozen_until - time.monotonic() > 25
        sched.shutdown(wait=False)
        outcome = frozen.result(timeout=5)
        assert not outcome.ok and outcome.qc_code == "CANCELLED"


def test_token_bucket_paces_units_and_daily_cap_refuses_the_rest():
    budget = VendorBudget(tokens_per_minute=600, burst=2, daily_cap=5)  # 10 tokens/s after a burst of 2
    with EdgeScheduler(pools={"v": 1}, budgets={"v": budget}) as sched:
        report = sched.run([_unit("v", f"u{i}") for i in range(7)], timeout=10)
    ok = [o for o in report.outcomes if o.ok]
    assert len(ok) == 5 and report.counts() == {"v": {"ok": 5, "failed": 2}}
    assert {o.qc_code for o in report.outcomes if not o.ok} == {"VENDOR_OUTAGE"}
    starts = sorted(o.started for o in ok)
    assert starts[-1] - starts[0] >= 0.3 - 0.02  # units 3..5 waited ~0.1 s each for a token


def test_pool_size_bounds_concurrency_per_vendor(monkeypatch):
    monkeypatch.setenv("NODE_MAX_INFLIGHT_WIDE", "3")
    live, peak, lock = [0], [0], threading.Lock()

    def work():
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.05)
        with lock:
            live[0] -= 1

    with EdgeScheduler(pools={"wide": 1}, budgets={}) as sched:
        report = sched.run([_unit("wide", f"w{i}", run=work) for i in range(12)], timeout=10)
    assert all(o.ok for o in report.outcomes) and peak[0] == 3


def test_a_failing_unit_is_an_outcome_not_a_crash():
    with EdgeScheduler(pools={"v": 1}, budgets={}) as sched:
        report = sched.run([_unit("v", "boom", run=lambda: 1 / 0), _unit("v", "fine")], timeout=5)
    assert [o.ok for o in report.outcomes] == [False, True]
    assert "ZeroDivisionError" in report.outcomes[0].error
    assert "v: 1 ok, 1 failed" in str(report)


def test_producers_group_symbols_by_request_capacity_and_route():
    seen = []
    symbols = [f"S{i:03d}" for i in range(250)]
    units = alpaca_bars_units(dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols, execute=lambda v, r: seen.append((v, r)))
    assert [u.tokens for u in units] == [1, 1, 1]  # 100 symbols per Alpaca request
    assert {u.vendor for u in units} == {"alpaca"}
    massive = massive_bars_units(dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols[:3], execute=lambda v, r: None)
    assert len(massive) == 3 and all(u.tokens == 1 for u in massive)
    units[0].run()
    vendor, request = seen[0]
    assert vendor == "alpaca" and request == FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=tuple(symbols[:100]))


def test_producer_defaults_to_the_routed_provider_and_chunks_sessions():
    units = dataset_units("equities_minute", dt.date(2024, 3, 4), dt.date(2024, 3, 15), symbols=["AAPL"],
                          execute=lambda v, r: r, chunk_sessions=5)
    assert [u.vendor for u in units] == ["alpaca", "alpaca"]
    assert [(u.run().start, u.run().end) for u in units] == [(dt.date(2024, 3, 4), dt.date(2024, 3, 8)), (dt.date(2024, 3, 11), dt.date(2024, 3, 15))]
    fred = fred_treasury_units(dt.date(2024, 3, 4), dt.date(2024, 3, 4), execute=lambda v, r: r)
    assert fred[0].vendor == "alfred" and "DGS10" in fred[0].run().series


def test_unit_with_negative_tokens_is_rejected():
    with pytest.raises(ValueError, match="tokens must be >= 0"):
        WorkUnit("alpaca", "x", -1, lambda: None)

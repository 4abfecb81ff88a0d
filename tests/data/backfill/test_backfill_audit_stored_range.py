"""audit_stored_ranges and dry runs: an audit without dates checks the data in the lake and nothing beyond."""

from __future__ import annotations

import datetime as dt

import pytest
from backfill_payloads import bars, universe

from trademl.data import backfill, control

NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.timezone.utc)
WEEK = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"]
SYMBOLS = ["AAA", "BBB", "CCC"]


@pytest.fixture
def market(lake):
    """Universe for the week; bars Tue, Wed and Fri only (Thu missing; nothing before Tue or after Fri)."""
    lake.write_partitions("reference/universe", universe(WEEK, SYMBOLS))
    lake.write_partitions("raw/equities_bars", bars([WEEK[1], WEEK[2], WEEK[4]], SYMBOLS))
    return lake


def test_stored_range_is_the_first_and_last_stored_session(market):
    assert backfill.stored_range(market, "equities_eod") == (dt.date(2025, 3, 4), dt.date(2025, 3, 7))


def test_audit_without_dates_audits_each_table_over_its_range_in_the_lake(engine, market):
    report = backfill.audit_stored_ranges(["raw/equities_bars", "reference/universe"], engine=engine, lake=market, now=NOW)
    bars_audit, universe_audit = report.tables["raw/equities_bars"], report.tables["reference/universe"]
    assert (bars_audit.start, bars_audit.end, bars_audit.sessions, bars_audit.red) == (dt.date(2025, 3, 4), dt.date(2025, 3, 7), 4, 1)
    assert (universe_audit.start, universe_audit.end) == (dt.date(2025, 3, 3), dt.date(2025, 3, 7))
    queued = control.read_queue(engine)
    assert [(str(r.start_date), str(r.end_date)) for r in queued.itertuples()] == [("2025-03-06", "2025-03-07")]


def test_audit_without_dates_skips_a_table_with_nothing_stored(engine, market):
    report = backfill.audit_stored_ranges(["raw/equities_minute"], engine=engine, lake=market, now=NOW)
    assert report.tables["raw/equities_minute"].sessions == 0
    assert "nothing stored; skipped" in report.tables["raw/equities_minute"].note
    assert control.read_partition_status(engine).empty and control.read_queue(engine).empty


def test_dry_run_reports_the_tasks_it_would_queue_and_writes_nothing(engine, market):
    report = backfill.audit_stored_ranges(["raw/equities_bars"], engine=engine, lake=market, now=NOW, dry_run=True)
    assert report.tasks_new == 1
    assert "would queue: GAP equities_eod 2025-03-06 (all symbols)" in str(report)
    assert control.read_partition_status(engine).empty and control.read_queue(engine).empty


def test_dry_run_does_not_count_tasks_the_queue_already_holds(engine, market):
    backfill.audit_stored_ranges(["raw/equities_bars"], engine=engine, lake=market, now=NOW)
    report = backfill.audit_stored_ranges(["raw/equities_bars"], engine=engine, lake=market, now=NOW, dry_run=True)
    assert (report.tables["raw/equities_bars"].tasks_planned, report.tasks_new) == (1, 0)

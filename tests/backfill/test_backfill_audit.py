"""audit_scan over a real lake in tmp_path: RED -> GAP task -> data written -> GREEN, idempotently."""

from __future__ import annotations

import datetime as dt

import pytest
from backfill_payloads import bars, universe

from trademl import backfill, control

NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.timezone.utc)
WEEK = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"]
SYMBOLS = ["AAA", "BBB", "CCC"]


@pytest.fixture
def market(lake):
    """Universe for the week; bars for Mon, Tue and Fri only (Wed+Thu missing)."""
    lake.write_partitions("reference/universe", universe(WEEK, SYMBOLS))
    lake.write_partitions("raw/equities_bars", bars([WEEK[0], WEEK[1], WEEK[4]], SYMBOLS))
    return lake


def _audit(engine, lake, tables=("raw/equities_bars",)):
    return backfill.audit_scan(list(tables), engine=engine, lake=lake, start=WEEK[0], end=WEEK[-1], now=NOW)


def _queue(engine):
    q = control.read_queue(engine)
    return [(r.kind, r.symbol, str(r.start_date), str(r.end_date), r.status) for r in q.itertuples()]


def test_audit_plans_one_gap_task_per_run_of_red_sessions(engine, market):
    report = _audit(engine, market)
    assert _queue(engine) == [("GAP", None, "2025-03-05", "2025-03-07", "PENDING")]  # closed-open [Wed, Fri)
    t = report.tables["raw/equities_bars"]
    assert (t.sessions, t.green, t.red, t.tasks_new) == (5, 3, 2, 1)


def test_audit_writes_red_ledger_rows_for_missing_sessions(engine, market):
    _audit(engine, market)
    rows = control.read_partition_status(engine, table_name="raw/equities_bars", start="2025-03-05", end="2025-03-05")
    assert sorted(rows.symbol) == SYMBOLS
    assert set(rows.status) == {"RED"} and set(rows.qc_code) == {"NO_DATA"}


def test_gap_filled_in_the_lake_turns_green_and_the_task_is_not_duplicated(engine, market):
    _audit(engine, market)
    _audit(engine, market)  # idempotent while still RED
    assert len(control.read_queue(engine)) == 1
    market.write_partitions("raw/equities_bars", bars([WEEK[2], WEEK[3]], SYMBOLS))
    report = _audit(engine, market)
    assert control.status_counts(engine)["raw/equities_bars"] == {"GREEN": 15, "AMBER": 0, "RED": 0}
    assert report.tables["raw/equities_bars"].tasks_planned == 0
    assert len(control.read_queue(engine)) == 1


def test_one_missing_symbol_gets_a_per_symbol_task(engine, lake):
    symbols = ["AAA", "BBB", "CCC", "DDD"]
    lake.write_partitions("reference/universe", universe(WEEK, symbols))
    lake.write_partitions("raw/equities_bars", bars(WEEK, ["AAA", "BBB", "CCC"]))
    lake.write_partitions("raw/equities_bars", bars([WEEK[0], WEEK[1]], ["DDD"]), mode="merge")
    _audit(engine, lake)
    assert _queue(engine) == [("GAP", "DDD", "2025-03-05", "2025-03-10", "PENDING")]  # Fri -> next session Mon


def test_long_red_run_is_split_at_max_task_sessions(engine, lake, configs):
    configs("backfill", lambda d: d["audit"].update(max_task_sessions=2))
    lake.write_partitions("reference/universe", universe(WEEK, SYMBOLS))
    lake.write_partitions("raw/equities_bars", bars([WEEK[0]], SYMBOLS))
    _audit(engine, lake)
    windows = [(s, e) for _, _, s, e, _ in _queue(engine)]
    assert windows == [("2025-03-04", "2025-03-06"), ("2025-03-06", "2025-03-10")]


def test_corrupted_partition_is_red_checksum_mismatch(engine, market):
    (path,) = [v.path for v in market.versions("raw/equities_bars", WEEK[4])]
    with open(path, "r+b") as fh:
        fh.seek(20)
        fh.write(b"\x00garbage\x00")
    _audit(engine, market)
    rows = control.read_partition_status(engine, table_name="raw/equities_bars", start=WEEK[4], end=WEEK[4])
    assert set(rows.status) == {"RED"} and set(rows.qc_code) == {"CHECKSUM_MISMATCH"}


def test_table_without_history_is_not_audited(engine, market):
    report = _audit(engine, market, tables=("raw/equities_minute",))
    t = report.tables["raw/equities_minute"]
    assert (t.sessions, t.tasks_new) == (0, 0)
    assert "no stored history" in t.note
    assert control.read_queue(engine).empty


def test_audit_accepts_dataset_names_and_reports_per_table(engine, market):
    report = _audit(engine, market, tables=("equities_eod", "universe"))
    assert list(report.tables) == ["raw/equities_bars", "reference/universe"]
    assert report.tables["reference/universe"].green == 5
    assert "raw/equities_bars" in str(report)


def test_unknown_table_is_a_clear_error(engine, market):
    with pytest.raises(ValueError, match="unknown table 'raw/nope'"):
        _audit(engine, market, tables=("raw/nope",))


def test_audit_default_window_is_the_stage_window(engine, market, configs):
    configs("backfill", lambda d: d["stage"].update(window_sessions=15))
    report = backfill.audit_scan(["raw/equities_bars"], engine=engine, lake=market, now=NOW)
    assert (report.start, report.end) == backfill.stage_window(NOW) == (dt.date(2025, 2, 27), dt.date(2025, 3, 19))
    # history starts at the first stored session, so the audit covers 2025-03-03 .. 2025-03-19
    t = report.tables["raw/equities_bars"]
    assert (t.start, t.end, t.sessions) == (dt.date(2025, 3, 3), dt.date(2025, 3, 19), 13)

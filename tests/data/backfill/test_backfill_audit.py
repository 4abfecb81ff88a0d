"""audit_scan over a real lake in tmp_path: RED -> GAP task -> data written -> GREEN, idempotently."""

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


def _gap_task(engine) -> backfill.Task:
    (task_id,) = control.read_queue(engine, kind="GAP").id.tolist()
    return backfill.get_task(engine, int(task_id))


def test_symbol_less_gap_task_fetches_only_the_red_symbols(engine, lake):
    symbols = ["AAA", "BBB", "CCC"]
    lake.write_partitions("reference/universe", universe(WEEK, symbols))
    lake.write_partitions("raw/equities_bars", bars(WEEK, ["CCC"]))  # AAA, BBB missing all week: 2/3 RED
    _audit(engine, lake)
    task = _gap_task(engine)
    assert task.symbol is None
    assert backfill.task_symbols(engine, task) == ["AAA", "BBB"]


def test_gap_task_over_a_session_nothing_is_known_about_fetches_every_symbol(engine, lake):
    lake.write_partitions("raw/equities_bars", bars([WEEK[0], WEEK[4]], SYMBOLS))  # no universe, no ledger
    _audit(engine, lake)
    task = _gap_task(engine)
    assert (str(task.start_date), str(task.end_date)) == (WEEK[1], WEEK[4])
    assert backfill.task_symbols(engine, task) is None  # symbol-less RED rows: the whole sessions


def test_sessions_the_universe_does_not_cover_expect_the_symbols_the_ledger_tracks(engine, lake):
    """No reference/universe: a missing partition is RED for the symbols the node had, not one symbol-less row."""
    lake.write_partitions("raw/equities_bars", bars([WEEK[0], WEEK[1], WEEK[4]], ["AAA", "BBB"]))
    _audit(engine, lake)
    rows = control.read_partition_status(engine, table_name="raw/equities_bars", start=WEEK[2], end=WEEK[3])
    assert rows.symbol.isna().all()  # nothing tracked yet for Wed/Thu: the session itself is RED
    control.upsert_partition_status(engine, rows.assign(symbol="AAA", partition_key=rows.dt.astype(str)))
    _audit(engine, lake)
    rows = control.read_partition_status(engine, table_name="raw/equities_bars", start=WEEK[2], end=WEEK[3])
    assert sorted(rows.symbol) == ["AAA", "AAA"] and set(rows.status) == {"RED"}
    assert backfill.task_symbols(engine, _gap_task(engine)) == ["AAA"]


def test_stored_partitions_without_ledger_rows_are_reconciled_by_qc_not_refetched(engine, lake):
    lake.write_partitions("reference/universe", universe(WEEK, SYMBOLS))
    lake.write_partitions("raw/equities_bars", bars(WEEK, SYMBOLS))  # rows stored by source_name "synthetic"
    monday = lake.read_partition("raw/equities_bars", WEEK[0])
    control.upsert_partition_status(engine, backfill.qc.evaluate_partitions(
        "raw/equities_bars", [dt.date(2025, 3, 3)], backfill.qc.stored_counts(monday, "raw/equities_bars"), source_name="synthetic"))
    # the ingest was killed before the ledger rows of Tue..Fri were written
    report = _audit(engine, lake)
    t = report.tables["raw/equities_bars"]
    assert (t.reconciled, t.green, t.tasks_planned) == (4, 5, 0)
    assert "reconciled 4 stored partition(s) that had no ledger rows" in str(report)
    rows = control.read_partition_status(engine, table_name="raw/equities_bars")
    assert len(rows) == 15 and set(rows.status) == {"GREEN"}
    assert control.read_queue(engine).empty


def test_reconciled_rows_name_the_source_that_stored_the_partition(engine, lake):
    lake.write_partitions("reference/universe", universe(WEEK, SYMBOLS))
    lake.write_partitions("raw/equities_bars", bars(WEEK, SYMBOLS))  # source_name "synthetic", ledger empty
    backfill.audit_scan(["raw/equities_bars"], engine=engine, lake=lake, start=WEEK[0], end=WEEK[-1], now=NOW, vendor="massive")
    rows = control.read_partition_status(engine, table_name="raw/equities_bars")
    assert set(rows.source_name) == {"synthetic"}  # not the audit's configured vendor
    again = backfill.audit_scan(["raw/equities_bars"], engine=engine, lake=lake, start=WEEK[0], end=WEEK[-1], now=NOW)
    assert again.tables["raw/equities_bars"].reconciled == 0

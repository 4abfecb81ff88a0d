"""Control-table constraints (SSOT 2.8), checked in the database itself on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from trademl.data import control

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 3, 3, 22, 0, tzinfo=UTC)


def _raw_task(conn, *, symbol="'AAA'", start="'2025-03-03'", end="'2025-03-04'", status="'PENDING'", kind="'GAP'"):
    """Insert a task with plain SQL, bypassing every Python-side check."""
    conn.execute(
        text(
            "INSERT INTO backfill_queue (dataset, symbol, start_date, end_date, kind, priority, status, attempts,"
            " created_at, updated_at, tokens) VALUES ('equities_eod', "
            f"{symbol}, {start}, {end}, {kind}, 1, {status}, 0, :ts, :ts, 1)"
        ),
        {"ts": NOW.replace(tzinfo=None) if conn.dialect.name == "sqlite" else NOW},
    )


def _raw_status(conn, *, key="k1", status="'GREEN'", qc_score="1.0"):
    conn.execute(
        text(
            "INSERT INTO partition_status (id, status_key, source_name, table_name, symbol, dt, partition_key, status,"
            " qc_score, row_count, expected_rows, qc_code, first_observed_at, last_observed_at) VALUES ("
            f":id, :key, 'synthetic', 'raw/equities_bars', 'AAA', '2025-03-03', '2025-03-03', {status}, {qc_score},"
            " 1, 1, 'OK', :ts, :ts)"
        ),
        {
            "id": "0" * 31 + key[-1],
            "key": key,
            "ts": NOW.replace(tzinfo=None) if conn.dialect.name == "sqlite" else NOW,
        },
    )


def test_duplicate_task_key_is_rejected_by_the_database(engine):
    with engine.begin() as conn:
        _raw_task(conn)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_task(conn)


def test_duplicate_task_key_with_null_symbol_is_rejected_by_the_database(engine):
    with engine.begin() as conn:
        _raw_task(conn, symbol="NULL")
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_task(conn, symbol="NULL")


def test_enqueue_skips_a_duplicate_symbol_less_task(engine):
    task = {"dataset": "equities_eod", "symbol": None, "start_date": "2025-03-03", "end_date": "2025-03-05", "kind": "GAP"}
    assert control.enqueue_tasks(engine, [task], now=NOW) == 1
    assert control.enqueue_tasks(engine, [task, dict(task)], now=NOW) == 0
    assert len(control.read_queue(engine)) == 1


def test_same_window_of_another_kind_is_a_different_task(engine):
    base = {"dataset": "equities_eod", "symbol": None, "start_date": "2025-03-03", "end_date": "2025-03-05"}
    assert control.enqueue_tasks(engine, [{**base, "kind": "GAP"}, {**base, "kind": "FORWARD"}], now=NOW) == 2


def test_task_window_must_end_after_it_starts_in_the_database(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_task(conn, start="'2025-03-04'", end="'2025-03-04'")


def test_enqueue_rejects_an_empty_closed_open_window(engine):
    with pytest.raises(ValueError, match="end_date must be after start_date"):
        control.enqueue_tasks(
            engine,
            [{"dataset": "equities_eod", "start_date": "2025-03-04", "end_date": "2025-03-04", "kind": "GAP"}],
            now=NOW,
        )


def test_unknown_task_kind_is_rejected_by_the_database(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_task(conn, kind="'REPAIR'")


def test_unknown_task_status_is_rejected_by_the_database(engine):
    # SQLite enforces the enum as a CHECK (IntegrityError); PostgreSQL as an enum type (DataError).
    with pytest.raises(DBAPIError):
        with engine.begin() as conn:
            _raw_task(conn, status="'RUNNING'")


def test_unknown_partition_status_is_rejected_by_the_database(engine):
    with pytest.raises(DBAPIError):
        with engine.begin() as conn:
            _raw_status(conn, status="'BLUE'")


def test_qc_score_above_one_is_rejected_by_the_database(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_status(conn, qc_score="1.5")


def test_qc_score_below_zero_is_rejected_by_the_database(engine):
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _raw_status(conn, qc_score="-0.1")


def _status(symbol, status="GREEN", code="OK", rows=1, day=dt.date(2025, 3, 3), key="2025-03-03"):
    return {
        "source_name": "synthetic",
        "table_name": "raw/equities_bars",
        "symbol": symbol,
        "dt": day,
        "partition_key": key,
        "status": status,
        "qc_score": 1.0 if status == "GREEN" else 0.0,
        "row_count": rows,
        "expected_rows": 1,
        "qc_code": code,
    }


def test_upsert_updates_status_and_keeps_first_observed_at(engine):
    later = NOW + dt.timedelta(hours=5)
    control.upsert_partition_status(engine, pd.DataFrame([_status("AAA", "RED", "MISSING_ROWS", 0)]), now=NOW)
    control.upsert_partition_status(engine, pd.DataFrame([_status("AAA")]), now=later)
    rows = control.read_partition_status(engine)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row.status, row.qc_code, row.row_count) == ("GREEN", "OK", 1)
    assert row.first_observed_at == pd.Timestamp(NOW)
    assert row.last_observed_at == pd.Timestamp(later)


def test_symbol_rows_replace_the_symbol_less_placeholder(engine):
    placeholder = _status(None, "RED", "NO_DATA", 0, key=None)
    control.upsert_partition_status(engine, pd.DataFrame([placeholder]), now=NOW)
    control.upsert_partition_status(engine, pd.DataFrame([_status("AAA"), _status("BBB")]), now=NOW)
    rows = control.read_partition_status(engine)
    assert sorted(rows.symbol) == ["AAA", "BBB"]
    assert control.status_counts(engine) == {"raw/equities_bars": {"GREEN": 2, "AMBER": 0, "RED": 0}}


def test_a_detail_is_stored_with_its_row_and_cleared_by_a_row_without_one(engine):
    amber = {**_status("AAA", "AMBER", "LARGE_REVISION"), "detail": '{"revised_frac": 0.38}'}
    control.upsert_partition_status(engine, pd.DataFrame([amber]), now=NOW)
    assert control.read_partition_status(engine)["detail"].tolist() == ['{"revised_frac": 0.38}']
    control.upsert_partition_status(engine, pd.DataFrame([_status("AAA")]), now=NOW)
    row = control.read_partition_status(engine).iloc[0]
    assert (row.status, row.qc_code, row.detail) == ("GREEN", "OK", None)


def test_a_control_db_of_an_older_release_gains_the_detail_column(tmp_path):
    uri = f"sqlite:///{tmp_path}/old.sqlite"
    eng = control.make_engine(uri)
    with eng.begin() as conn:
        conn.execute(text("ALTER TABLE partition_status DROP COLUMN detail"))  # as created before `detail` existed
    eng.dispose()
    eng = control.make_engine(uri)
    try:
        control.upsert_partition_status(eng, pd.DataFrame([{**_status("AAA"), "detail": "x"}]), now=NOW)
        assert control.read_partition_status(eng)["detail"].tolist() == ["x"]
    finally:
        eng.dispose()


def test_naive_timestamps_are_refused(engine):
    with pytest.raises(ValueError, match="naive"):
        control.enqueue_tasks(
            engine,
            [{"dataset": "equities_eod", "start_date": "2025-03-03", "end_date": "2025-03-04", "kind": "GAP"}],
            now=dt.datetime(2025, 3, 3, 12, 0),
        )


def test_default_control_db_is_sqlite_in_wal_mode_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path / "data_layer"))
    monkeypatch.delenv("DB_URI", raising=False)
    eng = control.make_engine()
    try:
        with eng.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
        assert (tmp_path / "data_layer" / "control" / "node.sqlite").is_file()
    finally:
        eng.dispose()


def test_control_engine_is_one_cached_engine_per_uri(tmp_path):
    first, second = f"sqlite:///{tmp_path / 'a.sqlite'}", f"sqlite:///{tmp_path / 'b.sqlite'}"
    eng = control.control_engine(first)
    assert control.control_engine(first) is eng
    other = control.control_engine(second)
    assert other is not eng
    assert str(other.url).endswith("b.sqlite")
    assert control.queue_counts(eng) == dict.fromkeys(control.TASK_STATUSES, 0)  # tables created on first use

"""Ledger summaries for `trademl status`: sessions and symbol-sessions apart, spans, sources, one symbol's rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trademl.data import control


def _row(symbol, day, status="GREEN", code="OK", source="synthetic"):
    return {
        "source_name": source, "table_name": "raw/equities_bars", "symbol": symbol, "dt": dt.date.fromisoformat(day),
        "partition_key": None, "status": status, "qc_score": 1.0 if status == "GREEN" else 0.0, "row_count": 1,
        "expected_rows": 1, "qc_code": code,
    }


def _ledger(engine):
    control.upsert_partition_status(engine, pd.DataFrame([
        _row("AAA", "2025-03-03"), _row("BBB", "2025-03-03"),
        _row("AAA", "2025-03-04"), _row("BBB", "2025-03-04", "RED", "NO_DATA"),
        _row("AAA", "2025-03-05", source="files"), _row("BBB", "2025-03-05", "AMBER", "LARGE_REVISION", source="files"),
    ]))


def test_summary_counts_sessions_and_symbol_sessions_separately(control_backend):
    _ledger(control_backend)
    summary = control.table_summaries(control_backend)["raw/equities_bars"]
    assert summary["sessions"] == {"GREEN": 1, "AMBER": 1, "RED": 1}
    assert summary["symbol_sessions"] == {"GREEN": 4, "AMBER": 1, "RED": 1}


def test_summary_gives_each_tables_span_symbols_and_sources(control_backend):
    _ledger(control_backend)
    summary = control.table_summaries(control_backend)["raw/equities_bars"]
    assert (summary["first"], summary["last"], summary["symbols"]) == ("2025-03-03", "2025-03-05", 2)
    assert summary["sources"] == ["files", "synthetic"]


def test_one_symbols_rows_include_the_rows_that_judge_whole_sessions(control_backend):
    _ledger(control_backend)
    control.upsert_partition_status(control_backend, pd.DataFrame([_row(None, "2025-03-06", "RED", "NO_DATA")]))
    rows = control.read_symbol_status(control_backend, "raw/equities_bars", "AAA")
    assert [(str(d), s) for d, s in zip(rows["dt"], rows["symbol"])] == [
        ("2025-03-03", "AAA"), ("2025-03-04", "AAA"), ("2025-03-05", "AAA"), ("2025-03-06", None)
    ]


def test_queued_mask_marks_the_tasks_the_queue_already_holds(control_backend):
    task = {"dataset": "equities_eod", "symbol": None, "start_date": dt.date(2025, 3, 4), "end_date": dt.date(2025, 3, 5), "kind": "GAP"}
    control.enqueue_tasks(control_backend, [task])
    other = {**task, "symbol": "AAA"}
    assert control.queued_mask(control_backend, pd.DataFrame([task, other])).tolist() == [True, False]

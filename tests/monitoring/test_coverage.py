"""Coverage of the lake by session and table from the partition_status ledger (trademl.monitoring.coverage)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.data import control
from trademl.monitoring.coverage import coverage_matrix, coverage_summary

# 2025-06-23 .. 2025-06-27: five XNYS sessions (Mon..Fri)
D = [dt.date(2025, 6, 23) + dt.timedelta(days=i) for i in range(5)]
CURATED, BARS = "curated/equities_ohlcv_adj", "raw/equities_bars"


@pytest.fixture
def engine(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


def _ledger(engine, table: str, rows: list[tuple[dt.date, str, str]]) -> None:
    """Status rows (session, symbol, status) of one table."""
    control.upsert_partition_status(engine, pd.DataFrame([
        {"source_name": "t", "table_name": table, "symbol": sym, "dt": pd.Timestamp(d), "partition_key": None,
         "status": s, "qc_score": 1.0, "row_count": 1, "expected_rows": 1, "qc_code": None if s == "GREEN" else "X"}
        for d, sym, s in rows
    ]))


def test_a_session_is_red_if_any_symbol_is_red_amber_if_any_is_amber_else_green(engine):
    _ledger(engine, CURATED, [
        (D[0], "AAA", "GREEN"), (D[0], "BBB", "GREEN"),
        (D[1], "AAA", "GREEN"), (D[1], "BBB", "AMBER"),
        (D[2], "AAA", "AMBER"), (D[2], "BBB", "RED"),
    ])
    matrix = coverage_matrix(engine, [CURATED], D[0], D[2])
    assert matrix[CURATED].tolist() == ["GREEN", "AMBER", "RED"]


def test_a_session_without_ledger_rows_is_red(engine):
    _ledger(engine, CURATED, [(D[0], "AAA", "GREEN"), (D[2], "AAA", "GREEN")])
    assert coverage_matrix(engine, [CURATED], D[0], D[2])[CURATED].tolist() == ["GREEN", "RED", "GREEN"]


def test_the_matrix_is_indexed_by_the_xnys_sessions_of_the_window_with_one_column_per_table(engine):
    _ledger(engine, BARS, [(d, "AAA", "GREEN") for d in D])
    matrix = coverage_matrix(engine, [BARS, CURATED], dt.date(2025, 6, 21), dt.date(2025, 6, 27))  # from a Saturday
    assert matrix.index.tolist() == D and matrix.index.name == "date"
    assert matrix.columns.tolist() == [BARS, CURATED]
    assert matrix[BARS].tolist() == ["GREEN"] * 5 and matrix[CURATED].tolist() == ["RED"] * 5


def test_ledger_rows_outside_the_window_do_not_colour_it(engine):
    _ledger(engine, CURATED, [(dt.date(2025, 6, 20), "AAA", "RED"), (D[0], "AAA", "GREEN"), (D[1], "AAA", "RED")])
    assert coverage_matrix(engine, [CURATED], D[0], D[0])[CURATED].tolist() == ["GREEN"]


def test_a_dataset_name_resolves_to_its_table(engine):
    _ledger(engine, BARS, [(D[0], "AAA", "AMBER")])
    assert coverage_matrix(engine, ["equities_eod"], D[0], D[0]).columns.tolist() == [BARS]


def test_an_unknown_table_is_refused_with_the_known_ones(engine):
    with pytest.raises(ValueError, match="unknown table 'curated/nope'"):
        coverage_matrix(engine, ["curated/nope"], D[0], D[1])


def test_an_empty_window_is_refused(engine):
    with pytest.raises(ValueError, match="no XNYS session"):
        coverage_matrix(engine, [CURATED], dt.date(2025, 6, 28), dt.date(2025, 6, 29))


def test_the_summary_counts_each_colour_and_the_green_share_over_the_window(engine):
    _ledger(engine, CURATED, [(D[0], "AAA", "GREEN"), (D[1], "AAA", "AMBER"), (D[2], "AAA", "GREEN"), (D[3], "AAA", "GREEN")])
    summary = coverage_summary(coverage_matrix(engine, [CURATED], D[0], D[4]))
    assert summary == {CURATED: {"green": 3, "amber": 1, "red": 1, "green_frac": 0.6, "first": D[0], "last": D[4]}}


def test_the_summary_refuses_a_matrix_with_a_value_that_is_not_a_colour():
    matrix = pd.DataFrame({CURATED: ["GREEN", "BLUE"]}, index=pd.Index(D[:2], name="date"))
    with pytest.raises(ValueError, match="BLUE"):
        coverage_summary(matrix)

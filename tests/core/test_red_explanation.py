"""red_explanation: each RED range of sessions named with its qc_code, vendor, symbols and reason."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trademl.data.red_explanation import describe_sessions, explain_red, red_ranges, symbol_span, with_vendor_reasons


def _rows(rows: list[tuple], *, status: str = "RED", source: str = "v") -> pd.DataFrame:
    """Ledger rows (dt, symbol, qc_code[, detail])."""
    padded = [(*r, None) if len(r) == 3 else r for r in rows]
    return pd.DataFrame(
        {
            "dt": [dt.date.fromisoformat(r[0]) for r in padded],
            "symbol": [r[1] for r in padded],
            "qc_code": [r[2] for r in padded],
            "detail": [r[3] for r in padded],
            "status": status,
            "source_name": source,
        }
    )


def test_contiguous_sessions_with_one_cause_are_one_range_naming_the_requested_symbols():
    red = _rows([(d, None, "NO_DATA", "UNKNOWN_SYMBOL: not in the v universe") for d in ("2024-01-02", "2024-01-03", "2024-01-04")])
    lines = explain_red(red, requested_symbols=["MSFT", "AAPL"])
    assert lines == ["2024-01-02..2024-01-04: NO_DATA from v for AAPL, MSFT (UNKNOWN_SYMBOL: not in the v universe)"]


def test_a_gap_in_the_sessions_splits_the_range():
    red = _rows([("2024-01-02", "A", "NO_DATA"), ("2024-01-03", "A", "NO_DATA"), ("2024-01-05", "A", "NO_DATA")])
    ranges = red_ranges(red)
    assert list(zip(ranges["first"], ranges["last"], ranges["sessions"])) == [("2024-01-02", "2024-01-03", 2), ("2024-01-05", "2024-01-05", 1)]


def test_a_weekend_does_not_split_a_range_of_consecutive_sessions():
    red = _rows([("2024-01-05", "A", "NO_DATA"), ("2024-01-08", "A", "NO_DATA")])
    assert red_ranges(red)[["first", "last"]].values.tolist() == [["2024-01-05", "2024-01-08"]]


def test_symbols_with_the_same_range_and_cause_share_one_line():
    red = _rows([(d, s, "MISSING_ROWS") for d in ("2025-03-03", "2025-03-04") for s in ("BBB", "AAA")])
    (line,) = explain_red(red)
    assert line == "2025-03-03..2025-03-04: MISSING_ROWS from v for AAA, BBB (fewer rows than the session's expected bars)"


def test_the_vendor_reason_a_run_reported_explains_rows_without_detail_and_drops_a_repeated_code():
    red = _rows([("2025-03-03", None, "VENDOR_OUTAGE")])
    (line,) = explain_red(red, {"2025-03-03": "VENDOR_OUTAGE: 503 from v"})
    assert line == "2025-03-03: VENDOR_OUTAGE from v (503 from v)"


def test_the_ledger_detail_wins_over_the_run_reason():
    red = _rows([("2025-03-03", None, "NO_DATA", "BEFORE_HISTORY: history starts 2018-01-02")])
    (line,) = explain_red(red, {"2025-03-03": "NO_DATA: vendor returned no rows"})
    assert line.endswith("(BEFORE_HISTORY: history starts 2018-01-02)")


def test_rows_that_are_not_red_are_not_explained():
    assert explain_red(_rows([("2025-03-03", "A", "OK")], status="GREEN")) == []


def test_long_symbol_lists_name_five_and_count_the_rest():
    red = _rows([("2025-03-03", f"S{i}", "NO_DATA") for i in range(8)])
    (line,) = explain_red(red)
    assert "for S0, S1, S2, S3, S4 and 3 more (" in line


def test_many_ranges_are_capped_with_a_count_of_the_rest():
    days = ["2025-03-03", "2025-03-05", "2025-03-07", "2025-03-11"]  # no two consecutive sessions
    lines = explain_red(_rows([(d, "A", "NO_DATA") for d in days]), max_lines=2)
    assert len(lines) == 3 and lines[-1].startswith("and 2 more ranges")


def test_vendor_reasons_go_to_the_detail_of_red_rows_only():
    rows = pd.concat([_rows([("2025-03-03", "A", "NO_DATA")]), _rows([("2025-03-03", "B", "OK")], status="GREEN")], ignore_index=True)
    out = with_vendor_reasons(rows, {"2025-03-03": "UNKNOWN_SYMBOL: not listed"})
    assert out["detail"].tolist() == ["UNKNOWN_SYMBOL: not listed", None]


def test_one_symbols_sessions_are_ranges_of_the_same_status_and_code():
    rows = pd.concat(
        [_rows([("2025-03-03", "A", "OK"), ("2025-03-04", "A", "OK")], status="GREEN"), _rows([("2025-03-05", None, "NO_DATA", "why")])],
        ignore_index=True,
    )
    ranges = describe_sessions(rows)
    assert ranges[["first", "last", "sessions", "status", "qc_code", "whole_session"]].values.tolist() == [
        ["2025-03-03", "2025-03-04", 2, "GREEN", "OK", False],
        ["2025-03-05", "2025-03-05", 1, "RED", "NO_DATA", True],
    ]


def test_a_long_symbol_listing_is_shown_as_its_first_and_last():
    assert symbol_span([f"SYN{i:03d}" for i in range(1, 51)]) == "SYN001..SYN050 (50 symbols)"
    assert symbol_span(["B", "A"]) == "A, B"

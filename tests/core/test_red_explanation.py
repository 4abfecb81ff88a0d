"""explain_red: one line per reason a user can act on (which symbols, which sessions, why)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from trademl.data.red_explanation import explain_red


def _red(rows: list[tuple[str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(dt.date.fromisoformat(d), s, c) for d, s, c in rows], columns=["dt", "symbol", "qc_code"]
    )


def test_vendor_reasons_are_grouped_into_one_line_with_their_session_span():
    reasons = {d: "BEFORE_HISTORY: history starts 2018-01-02" for d in ("2017-12-27", "2017-12-28", "2017-12-29")}
    lines = explain_red(_red([]), reasons, vendor="v", first="2017-12-27", last="2018-01-03")
    assert lines == ["BEFORE_HISTORY: history starts 2018-01-02 (3 sessions 2017-12-27..2017-12-29)"]


def test_red_rows_without_a_vendor_reason_are_explained_by_qc_code_naming_symbols():
    red = _red([("2025-03-03", "AAA", "MISSING_ROWS"), ("2025-03-04", "BBB", "MISSING_ROWS")])
    lines = explain_red(red, {}, vendor="v", first="2025-03-03", last="2025-03-04")
    assert lines == ["MISSING_ROWS for AAA, BBB: fewer rows than the session's expected bars (2 sessions 2025-03-03..2025-03-04)"]


def test_red_rows_of_a_session_the_vendor_explained_are_not_repeated():
    red = _red([("2025-03-03", None, "VENDOR_OUTAGE")])
    lines = explain_red(red, {"2025-03-03": "VENDOR_OUTAGE: 503 from v"}, vendor="v", first="2025-03-03", last="2025-03-03")
    assert lines == ["VENDOR_OUTAGE: 503 from v (1 session 2025-03-03)"]


def test_requested_symbols_with_no_stored_row_are_named():
    lines = explain_red(
        _red([]), {}, vendor="alpaca", first="2025-03-03", last="2025-03-04",
        requested_symbols=["AAPL", "ZZZZ"], stored_symbols={"AAPL"},
    )
    assert lines == ["ZZZZ: alpaca returned no rows in 2025-03-03..2025-03-04 (not a symbol it lists, or not trading then)"]


def test_a_symbol_the_vendor_already_named_is_not_named_twice():
    reasons = {"2025-03-03": "UNKNOWN_SYMBOL: no symbol ZZZZ"}
    lines = explain_red(_red([]), reasons, vendor="v", first="2025-03-03", last="2025-03-03", requested_symbols=["ZZZZ"])
    assert lines == ["UNKNOWN_SYMBOL: no symbol ZZZZ (1 session 2025-03-03)"]


def test_long_symbol_lists_are_cut_to_five_names():
    red = _red([("2025-03-03", f"S{i}", "NO_DATA") for i in range(8)])
    (line,) = explain_red(red, {}, vendor="v", first="2025-03-03", last="2025-03-03")
    assert "S0, S1, S2, S3, S4 (+3 more)" in line


def test_most_widespread_reason_comes_first():
    reasons = {"2025-03-03": "A: one", "2025-03-04": "B: two", "2025-03-05": "B: two"}
    lines = explain_red(_red([]), reasons, vendor="v", first="2025-03-03", last="2025-03-05")
    assert [line[0] for line in lines] == ["B", "A"]


def test_nothing_to_explain_gives_no_lines():
    assert explain_red(_red([]), {}, vendor="v", first="2025-03-03", last="2025-03-03", requested_symbols=["A"], stored_symbols=["A"]) == []

"""GREEN/AMBER/RED rules of trademl.data.qc on small explicit partitions (thresholds read from configs/backfill.yml)."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pyarrow as pa
import pytest

from trademl import calendar

from trademl.data import qc
from trademl.config import load_config

SESSION = dt.date(2025, 3, 4)
HALF_DAY = dt.date(2024, 11, 29)  # day after Thanksgiving: 13:00 close


def _bars(symbols: list[str], day: dt.date = SESSION) -> pa.Table:
    return pa.table({"date": pa.array([day] * len(symbols), pa.date32()), "symbol": symbols})


def _minutes(counts: dict[str, int], day: dt.date = SESSION) -> pa.Table:
    """Minute bars: the first n regular-hours minutes of the session for each symbol."""
    grid = calendar.session_minutes(day)
    ts, sym = [], []
    for symbol, n in counts.items():  # building the fixture, not code under test
        ts.extend(grid[:n])
        sym.extend([symbol] * n)
    return pa.table({"ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "date": pa.array([day] * len(ts), pa.date32()), "symbol": sym})


def _by_symbol(rows: pd.DataFrame) -> dict:
    return {r.symbol: (r.status, r.qc_code) for r in rows.itertuples()}


def test_complete_daily_partition_is_green():
    rows = qc.evaluate_partition("raw/equities_bars", SESSION, _bars(["AAA", "BBB"]), ["AAA", "BBB"], source_name="synthetic")
    assert _by_symbol(rows) == {"AAA": ("GREEN", "OK"), "BBB": ("GREEN", "OK")}
    summary = qc.summarize(rows)
    assert (summary.color, summary.green_frac, summary.row_count, summary.expected_rows) == ("GREEN", 1.0, 2, 2)
    assert summary.qc_codes == ["OK"]


def test_rows_carry_the_ledger_columns_and_session_key():
    rows = qc.evaluate_partition("equities_eod", SESSION, _bars(["AAA"]), ["AAA"], source_name="synthetic")
    row = rows.iloc[0]
    assert (row.source_name, row.table_name, row["dt"], row.partition_key) == ("synthetic", "raw/equities_bars", SESSION, "2025-03-04")
    assert (row.row_count, row.expected_rows, row.qc_score) == (1, 1, 1.0)


def test_missing_symbol_is_red_missing_rows():
    rows = qc.evaluate_partition("raw/equities_bars", SESSION, _bars(["AAA"]), ["AAA", "BBB"], source_name="synthetic")
    assert _by_symbol(rows) == {"AAA": ("GREEN", "OK"), "BBB": ("RED", "MISSING_ROWS")}
    summary = qc.summarize(rows)
    assert (summary.color, summary.green_frac) == ("RED", 0.5)
    assert summary.qc_codes == ["MISSING_ROWS", "OK"]


def test_session_with_nothing_stored_is_red_no_data_for_every_symbol():
    rows = qc.evaluate_partition("raw/equities_bars", SESSION, _bars([]), ["AAA", "BBB"], source_name="synthetic")
    assert _by_symbol(rows) == {"AAA": ("RED", "NO_DATA"), "BBB": ("RED", "NO_DATA")}


def test_missing_minutes_above_the_amber_threshold_are_amber():
    th = load_config("backfill")["qc"]
    full = len(calendar.session_minutes(SESSION))
    n = math.ceil(th["amber_min_row_frac"] * full)
    assert n < full, "fixture needs a gap strictly inside the AMBER band"
    rows = qc.evaluate_partition(
        "raw/equities_minute", SESSION, _minutes({"AAA": full, "BBB": n}), ["AAA", "BBB"], source_name="synthetic"
    )
    assert _by_symbol(rows) == {"AAA": ("GREEN", "OK"), "BBB": ("AMBER", "MISSING_ROWS")}
    bbb = rows.set_index("symbol").loc["BBB"]
    assert (bbb.row_count, bbb.expected_rows) == (n, full)
    assert bbb.qc_score == pytest.approx(n / full)
    assert qc.summarize(rows).color == "AMBER"


def test_missing_minutes_below_the_amber_threshold_are_red():
    th = load_config("backfill")["qc"]
    full = len(calendar.session_minutes(SESSION))
    n = math.ceil(th["amber_min_row_frac"] * full) - 1
    rows = qc.evaluate_partition("raw/equities_minute", SESSION, _minutes({"AAA": n}), ["AAA"], source_name="synthetic")
    assert _by_symbol(rows) == {"AAA": ("RED", "MISSING_ROWS")}


def test_complete_half_day_is_green_with_short_session_code():
    rows = qc.evaluate_partition(
        "raw/equities_minute", HALF_DAY, _minutes({"AAA": 210}, HALF_DAY), ["AAA"], source_name="synthetic"
    )
    row = rows.iloc[0]
    assert (row.status, row.qc_code, row.row_count, row.expected_rows) == ("GREEN", "SHORT_SESSION", 210, 210)
    assert qc.summarize(rows).qc_codes == ["SHORT_SESSION"]


def test_rejected_payload_is_red_with_its_code():
    rows = qc.evaluate_partition(
        "raw/equities_bars",
        SESSION,
        _bars(["AAA", "BBB"]),
        ["AAA", "BBB"],
        source_name="synthetic",
        rejected={"BBB": "SCHEMA_VIOLATION"},
    )
    assert _by_symbol(rows) == {"AAA": ("GREEN", "OK"), "BBB": ("RED", "SCHEMA_VIOLATION")}
    assert rows.set_index("symbol").loc["BBB"].qc_score == 0.0


def test_session_wide_outage_marks_every_symbol_red():
    rows = qc.evaluate_partition(
        "raw/equities_bars", SESSION, _bars([]), ["AAA", "BBB"], source_name="synthetic", rejected={None: "VENDOR_OUTAGE"}
    )
    assert _by_symbol(rows) == {"AAA": ("RED", "VENDOR_OUTAGE"), "BBB": ("RED", "VENDOR_OUTAGE")}


def test_unknown_universe_with_nothing_stored_gives_one_placeholder_row():
    rows = qc.evaluate_partition("raw/equities_bars", SESSION, _bars([]), [], source_name="synthetic")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert (row.symbol, row.partition_key, row.status, row.qc_code) == (None, None, "RED", "NO_DATA")


def test_reference_table_is_judged_on_presence_with_one_symbol_less_row():
    present = qc.evaluate_partition("reference/universe", SESSION, _bars(["AAA", "BBB"]), None, source_name="synthetic")
    absent = qc.evaluate_partition("reference/universe", SESSION, _bars([]), None, source_name="synthetic")
    assert [(r.symbol, r.status, r.row_count) for r in present.itertuples()] == [(None, "GREEN", 2)]
    assert [(r.symbol, r.status, r.qc_code) for r in absent.itertuples()] == [(None, "RED", "NO_DATA")]


def test_event_table_without_events_is_green():
    rows = qc.evaluate_partition("reference/corp_actions", SESSION, _bars([]), None, source_name="synthetic")
    assert [(r.status, r.qc_code, r.expected_rows) for r in rows.itertuples()] == [("GREEN", "OK", 0)]


def test_empty_summary_is_red_no_data():
    summary = qc.summarize(pd.DataFrame(columns=["status", "row_count", "expected_rows", "qc_code"]))
    assert (summary.color, summary.green_frac, summary.qc_codes) == ("RED", 0.0, ["NO_DATA"])


def test_summary_is_amber_when_any_row_is_amber_and_none_red():
    rows = pd.DataFrame(
        {
            "status": ["GREEN", "AMBER"],
            "row_count": [390, 380],
            "expected_rows": [390, 390],
            "qc_code": ["OK", "MISSING_ROWS"],
        }
    )
    summary = qc.summarize(rows)
    assert (summary.color, summary.row_count, summary.expected_rows, summary.green_frac) == ("AMBER", 770, 780, 0.5)


def test_range_evaluation_matches_per_session_evaluation():
    days = [dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 3, 5)]
    stored = pa.concat_tables([_bars(["AAA", "BBB"], days[0]), _bars(["AAA"], days[1])])
    expected = pd.DataFrame({"dt": [d for d in days for _ in range(2)], "symbol": ["AAA", "BBB"] * 3})
    ranged = qc.evaluate_partitions(
        "raw/equities_bars", days, qc.stored_counts(stored, "raw/equities_bars"), source_name="s", expected=expected
    )
    single = pd.concat(
        [
            qc.evaluate_partition(
                "raw/equities_bars", d, stored.filter(pa.compute.equal(stored["date"], pa.scalar(d, pa.date32()))), ["AAA", "BBB"], source_name="s"
            )
            for d in days
        ],
        ignore_index=True,
    )
    key = ["dt", "symbol"]
    pd.testing.assert_frame_equal(
        ranged.sort_values(key).reset_index(drop=True), single.sort_values(key).reset_index(drop=True), check_dtype=False
    )
    assert list(qc.session_colors(ranged)["color"]) == ["GREEN", "RED", "RED"]


def test_thresholds_out_of_order_are_refused():
    with pytest.raises(ValueError, match="amber_min_row_frac"):
        qc.QcRules.from_config(
            {"symbol_complete_tables": ["raw/equities_bars"], "green_min_row_frac": 0.8, "amber_min_row_frac": 0.9}
        )


def test_option_chains_expect_only_the_underliers_they_store():
    chain = pa.table({"date": pa.array([SESSION] * 3, pa.date32()), "underlier": ["AAA", "AAA", "BBB"]})
    rows = qc.evaluate_partition("raw/options_nbbo", SESSION, chain, ["AAA", "BBB", "CCC", "DDD"], source_name="synthetic")
    assert {r.symbol: (r.status, r.row_count) for r in rows.itertuples()} == {"AAA": ("GREEN", 2), "BBB": ("GREEN", 1)}


def test_option_chain_outage_marks_the_whole_session():
    empty = pa.table({"date": pa.array([], pa.date32()), "underlier": pa.array([], pa.string())})
    rows = qc.evaluate_partition(
        "raw/options_nbbo", SESSION, empty, ["AAA", "BBB"], source_name="synthetic",
        rejected={"AAA": "VENDOR_OUTAGE", "BBB": "VENDOR_OUTAGE"},
    )
    assert [(r.symbol, r.status, r.qc_code) for r in rows.itertuples()] == [(None, "RED", "VENDOR_OUTAGE")]


def test_a_pending_review_turns_green_rows_amber_with_its_code_and_detail_and_leaves_red_rows_red():
    rows = qc.evaluate_partition("raw/equities_minute", SESSION, _minutes({"AAA": 390, "BBB": 10}), ["AAA", "BBB"], source_name="files")
    review = {"code": "LARGE_REVISION", "revised_frac": 0.4, "revised_rows": 160, "previous_rows": 400, "version": 2, "previous_version": 1}
    out = qc.apply_reviews(rows, {SESSION: review}).set_index("symbol")
    assert (out.loc["AAA", "status"], out.loc["AAA", "qc_code"]) == ("AMBER", "LARGE_REVISION")
    assert json.loads(out.loc["AAA", "detail"])["revised_frac"] == 0.4
    assert (out.loc["BBB", "status"], out.loc["BBB", "qc_code"]) == ("RED", "MISSING_ROWS")
    assert qc.apply_reviews(rows, {dt.date(2025, 3, 5): review}).drop(columns="detail").equals(rows)  # others untouched

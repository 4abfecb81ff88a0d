"""Derived-layer verdicts and ledger-first storage (trademl.data.layer_output)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trademl.data import control
from trademl.data.lake import Lake
from trademl.data.layer_output import (
    CoverageThresholds,
    input_status,
    ledger_rows,
    session_verdicts,
    store_layer_output,
)

D1, D2, D3, D4 = (dt.date(2024, 3, d) for d in (4, 5, 6, 7))  # Mon..Thu, all XNYS sessions


@pytest.fixture
def engine(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    yield eng
    eng.dispose()


def _status(table: str, day: dt.date, status: str, symbol: str | None = "AAA", code: str | None = None) -> dict:
    return {
        "source_name": "synthetic", "table_name": table, "symbol": symbol, "dt": pd.Timestamp(day), "partition_key": None,
        "status": status, "qc_score": 1.0, "row_count": 1, "expected_rows": 1, "qc_code": code,
    }


def test_coverage_thresholds_colour_shares():
    colours = CoverageThresholds(green=0.98, amber=0.9).colours(np.array([1.0, 0.98, 0.95, 0.5, np.nan]))
    assert colours.tolist() == ["GREEN", "GREEN", "AMBER", "RED", "RED"]


def test_coverage_thresholds_reject_amber_above_green():
    with pytest.raises(ValueError, match="amber <= green"):
        CoverageThresholds(green=0.8, amber=0.9)
    with pytest.raises(ValueError, match="unknown coverage keys"):
        CoverageThresholds.from_config({"gren": 0.9})


def test_input_red_on_the_session_makes_the_session_red(engine):
    control.upsert_partition_status(
        engine, pd.DataFrame([_status("raw/equities_bars", D1, "GREEN"), _status("raw/equities_bars", D2, "RED", code="NO_DATA")])
    )
    out = input_status(engine, ["raw/equities_bars"], [D1, D2])
    assert out["status"].tolist() == ["GREEN", "RED"]
    assert out["qc_code"].tolist() == [None, "INPUT_RED"]
    assert "raw/equities_bars RED on 2024-03-05" in out["detail"].iloc[1]


def test_an_input_without_ledger_rows_is_red(engine):
    out = input_status(engine, ["reference/corp_actions"], [D1])
    assert out["status"].tolist() == ["RED"]


def test_lookahead_window_takes_the_worst_input_of_the_forward_sessions(engine):
    rows = [_status("curated/equities_ohlcv_adj", d, "GREEN", symbol=None) for d in (D1, D2, D3, D4)]
    rows[2]["status"] = "AMBER"  # D3
    control.upsert_partition_status(engine, pd.DataFrame(rows))
    out = input_status(engine, ["curated/equities_ohlcv_adj"], [D1, D2, D3, D4], lookahead=1, calendar_sessions=[D1, D2, D3, D4])
    # D2 reads D2..D3 (AMBER); D4 reads D4 and a session past the grid, which counts as GREEN here
    assert out["status"].tolist() == ["GREEN", "AMBER", "AMBER", "GREEN"]


def test_verdict_is_the_worst_of_inputs_problems_coverage_and_empty_output():
    inputs = pd.DataFrame({"date": [D1, D2, D3, D4], "status": ["GREEN", "AMBER", "GREEN", "GREEN"],
                           "qc_code": [None, "INPUT_AMBER", None, None], "detail": ["", "x AMBER", "", ""]})
    problems = pd.DataFrame([{"date": D3, "symbol": "BBB", "status": "RED", "qc_code": "SPLIT_RATIO_INVALID", "detail": "ratio 0"}])
    out = session_verdicts(
        [D1, D2, D3, D4], rows_out={D1: 10, D2: 10, D3: 10}, inputs=inputs, problems=problems,
        coverage={D1: 0.99, D2: 1.0, D3: 1.0, D4: np.nan}, thresholds=CoverageThresholds(0.98, 0.9),
    )
    assert out["status"].tolist() == ["GREEN", "AMBER", "RED", "RED"]
    assert out["qc_code"].tolist() == [None, "INPUT_AMBER", "SPLIT_RATIO_INVALID", "NO_OUTPUT"]
    assert "BBB: ratio 0" in out["detail"].iloc[2]
    assert out["row_count"].tolist() == [10, 10, 10, 0]


def test_low_coverage_is_amber_then_red():
    out = session_verdicts([D1, D2], rows_out={D1: 5, D2: 5}, coverage={D1: 0.95, D2: 0.5}, thresholds=CoverageThresholds(0.98, 0.9))
    assert out["status"].tolist() == ["AMBER", "RED"]
    assert out["qc_code"].tolist() == ["COVERAGE_LOW", "COVERAGE_LOW"]


def test_problem_status_must_be_amber_or_red():
    with pytest.raises(ValueError, match="AMBER or RED"):
        session_verdicts([D1], rows_out={D1: 1}, problems=pd.DataFrame([{"date": D1, "symbol": "A", "status": "GREEN", "qc_code": "X", "detail": ""}]))


def _features(days: list[dt.date], value: float = 1.0) -> pd.DataFrame:
    from trademl.schemas import EQUITIES_XS_FEATURES

    frame = pd.DataFrame({"date": np.repeat(days, 2), "symbol": ["AAA", "BBB"] * len(days)})
    for col in EQUITIES_XS_FEATURES:
        frame[col] = value
    return frame


def test_store_writes_partitions_and_one_ledger_row_per_session(tmp_path, engine):
    lake = Lake(tmp_path / "lake")
    verdicts = session_verdicts([D1, D2, D3], rows_out={D1: 2, D2: 2})
    report = store_layer_output("features/equities_xs", _features([D1, D2]), verdicts, lake=lake, engine=engine, source="features")
    assert lake.partitions("features/equities_xs") == [D1, D2]
    assert (report.partitions_written, report.partitions_unchanged, report.rows_written) == (2, 0, 4)
    assert report.colours == {D1: "GREEN", D2: "GREEN", D3: "RED"}
    ledger = control.read_partition_status(engine, table_name="features/equities_xs")
    assert ledger["dt"].tolist() == [D1, D2, D3]
    assert ledger["status"].tolist() == ["GREEN", "GREEN", "RED"]
    assert set(ledger["source_name"]) == {"features"} and ledger["symbol"].isna().all()


def test_storing_the_same_output_again_writes_nothing(tmp_path, engine):
    lake = Lake(tmp_path / "lake")
    verdicts = session_verdicts([D1, D2], rows_out={D1: 2, D2: 2})
    store_layer_output("features/equities_xs", _features([D1, D2]), verdicts, lake=lake, engine=engine, source="features")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("*.parquet")}
    again = store_layer_output("features/equities_xs", _features([D1, D2]), verdicts, lake=lake, engine=engine, source="features")
    assert (again.partitions_written, again.partitions_unchanged) == (0, 2)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("*.parquet")} == before


def test_a_failed_ledger_upsert_leaves_no_partition_visible(tmp_path, engine, monkeypatch):
    from trademl.data.ingest import ledger as ingest_ledger

    lake = Lake(tmp_path / "lake")
    verdicts = session_verdicts([D1], rows_out={D1: 2})

    def fail(*_a, **_k):
        raise RuntimeError("control db down")

    monkeypatch.setattr(ingest_ledger.control, "upsert_partition_status", fail)
    with pytest.raises(RuntimeError, match="control db down"):
        store_layer_output("features/equities_xs", _features([D1]), verdicts, lake=lake, engine=engine, source="features")
    assert lake.partitions("features/equities_xs") == []


def test_ledger_rows_have_the_partition_status_columns():
    verdicts = session_verdicts([D1], rows_out={D1: 3}, coverage={D1: 1.0})
    rows = ledger_rows("labels/equities_xs", verdicts, source="labels")
    assert rows.loc[0, "table_name"] == "labels/equities_xs" and rows.loc[0, "row_count"] == 3
    assert rows.loc[0, "qc_score"] == 1.0 and rows.loc[0, "status"] == "GREEN"


def test_layer_settings_read_per_table_thresholds_and_fall_back_to_default():
    from trademl.data.layer_output import LayerSettings, layer_settings

    cfg = LayerSettings.from_config({"coverage": {"default": {"green": 0.9, "amber": 0.5}, "labels/x": {"green": 0.7, "amber": 0.6}}})
    assert cfg.thresholds("labels/x") == CoverageThresholds(0.7, 0.6)
    assert cfg.thresholds("features/other") == CoverageThresholds(0.9, 0.5)
    assert layer_settings().price_convention == "crsp"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"price_convention": "yahoo"}, "crsp or alpha_vantage"),
        ({"spot_checks": -1}, "spot_checks must be an integer"),
        ({"coverage": {"default": {"green": 0.5, "amber": 0.9}}}, "coverage.default"),
        ({"coverge": {}}, "unknown keys"),
    ],
)
def test_layer_settings_reject_bad_values(doc, message):
    from trademl.data.layer_output import LayerSettings

    with pytest.raises(ValueError, match=message):
        LayerSettings.from_config(doc)


def test_a_marginal_input_makes_a_session_at_worst_amber(engine):
    out = input_status(engine, ["reference/corp_actions"], [D1], marginal=["reference/corp_actions"])
    assert out["status"].tolist() == ["AMBER"] and out["qc_code"].tolist() == ["INPUT_AMBER"]

"""run_layer_build: one derived table over a session range, judged and stored (trademl.data.layer_build)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trademl import calendar
from trademl.data import control
from trademl.data.lake import Lake
from trademl.data.layer_build import BuildOutput, LayerBuild, run_layer_build, session_dates, spot_check_sessions
from trademl.schemas import EQUITIES_XS_FEATURES

TABLE = "features/equities_xs"
DAYS = session_dates("2024-03-04", "2024-03-15")  # 10 sessions


@pytest.fixture
def env(tmp_path):
    eng = control.make_engine(f"sqlite:///{tmp_path}/node.sqlite")
    rows = [{"source_name": "curator", "table_name": "curated/equities_ohlcv_adj", "symbol": None, "dt": pd.Timestamp(d),
             "partition_key": None, "status": "GREEN", "qc_score": 1.0, "row_count": 2, "expected_rows": None, "qc_code": None}
            for d in calendar.sessions("2024-02-01", "2024-04-30").date]
    control.upsert_partition_status(eng, pd.DataFrame(rows))
    yield Lake(tmp_path / "lake"), eng
    eng.dispose()


def _rows(days, value_of=lambda d: float(d.day)) -> pd.DataFrame:
    frame = pd.DataFrame({"date": np.repeat(days, 2), "symbol": ["AAA", "BBB"] * len(days)})
    for col in EQUITIES_XS_FEATURES:
        frame[col] = [value_of(d) for d in frame["date"]]
    return frame


def _honest(sessions, known_through=None):
    return BuildOutput(frame=_rows(sessions), expected={d: 2 for d in sessions})


def _leaky(sessions, known_through=None):
    last = known_through or DAYS[-1]
    return BuildOutput(frame=_rows(sessions, value_of=lambda d: float(last.day)))  # uses the latest data it can see


def _layer(build, **kw) -> LayerBuild:
    return LayerBuild(table=TABLE, source="features", build=build, inputs=("curated/equities_ohlcv_adj",),
                      coverage_columns=EQUITIES_XS_FEATURES, **kw)


def test_an_honest_build_is_green_and_stored(env):
    lake, eng = env
    report = run_layer_build(_layer(_honest, spot_checks=3), DAYS[0], DAYS[-1], lake=lake, engine=eng)
    assert report.colour_counts == {"GREEN": 10, "AMBER": 0, "RED": 0}
    assert lake.partitions(TABLE) == DAYS
    assert (report.partitions_written, report.rows_written) == (10, 20)


def test_a_build_that_reads_later_data_is_red_pit_mismatch_on_the_checked_sessions(env):
    lake, eng = env
    report = run_layer_build(_layer(_leaky, spot_checks=2), DAYS[0], DAYS[-1], lake=lake, engine=eng)
    red = report.red_sessions()
    assert red == [DAYS[0]]  # the last session equals its own information set; the first one leaks
    assert report.codes[DAYS[0]] == "PIT_MISMATCH"


def test_a_frame_missing_a_column_writes_nothing_and_is_red_schema_mismatch(env):
    lake, eng = env

    def broken(sessions, known_through=None):
        return BuildOutput(frame=_rows(sessions).drop(columns=["feat_mom_5"]))

    report = run_layer_build(_layer(broken), DAYS[0], DAYS[1], lake=lake, engine=eng)
    assert set(report.codes.values()) == {"SCHEMA_MISMATCH"} and report.red_sessions() == DAYS[:2]
    assert lake.partitions(TABLE) == []


def test_sessions_not_built_are_red_with_their_own_reason_only(env):
    lake, eng = env

    def partial(sessions, known_through=None):
        built = [d for d in sessions if d < DAYS[8]]
        return BuildOutput(frame=_rows(built), not_built={d: ("WINDOW_NOT_OBSERVED", "needs 2 more sessions") for d in sessions if d >= DAYS[8]})

    report = run_layer_build(_layer(partial, spot_checks=0), DAYS[0], DAYS[-1], lake=lake, engine=eng)
    assert report.red_sessions() == DAYS[8:]
    assert {report.codes[d] for d in DAYS[8:]} == {"WINDOW_NOT_OBSERVED"}
    assert lake.partitions(TABLE) == DAYS[:8]


def test_a_red_input_session_makes_the_output_session_red(env):
    lake, eng = env
    control.upsert_partition_status(eng, pd.DataFrame([{
        "source_name": "curator", "table_name": "curated/equities_ohlcv_adj", "symbol": None, "dt": pd.Timestamp(DAYS[3]),
        "partition_key": None, "status": "RED", "qc_score": 0.0, "row_count": 0, "expected_rows": None, "qc_code": "INPUT_RED"}]))
    report = run_layer_build(_layer(_honest, spot_checks=0), DAYS[0], DAYS[-1], lake=lake, engine=eng)
    assert report.red_sessions() == [DAYS[3]] and report.codes[DAYS[3]] == "INPUT_RED"


def test_missing_symbols_lower_coverage(env):
    lake, eng = env

    def thin(sessions, known_through=None):
        return BuildOutput(frame=_rows(sessions), expected={d: 4 for d in sessions})  # 2 of 4 eligible built

    report = run_layer_build(_layer(thin, spot_checks=0), DAYS[0], DAYS[0], lake=lake, engine=eng)
    assert report.colours[DAYS[0]] == "RED" and report.codes[DAYS[0]] == "COVERAGE_LOW"


def test_spot_check_sessions_are_spread_and_deterministic():
    frame = pd.DataFrame({"date": DAYS})
    assert spot_check_sessions(frame, 3) == [DAYS[0], DAYS[4], DAYS[9]]
    assert spot_check_sessions(frame, 1) == [DAYS[0]]
    assert spot_check_sessions(frame, 0) == []


def test_a_reversed_range_is_rejected():
    with pytest.raises(ValueError, match="before start"):
        session_dates("2024-03-05", "2024-03-04")
    with pytest.raises(ValueError, match="no XNYS session"):
        session_dates(dt.date(2024, 3, 9), dt.date(2024, 3, 10))

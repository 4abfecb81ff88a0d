"""curate_range and read_adjusted on a temporary lake and control db."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate_frames import bars, days, dividend, events, split
from curate_lake import copy_lake, partition_bytes, write_bars, write_delistings, write_events
from trademl.curate import CuratorSettings, adjusted_ohlcv, build_curated, curate_range, read_adjusted
from trademl.data.control import make_engine, upsert_partition_status
from trademl.data.lake import Lake

D = days("2024-03-04", 10)
CFG = CuratorSettings(delisting_returns={"BANKRUPTCY": -0.3}, seed_lookback_sessions=5)
CURATED = "curated/equities_ohlcv_adj"


# AAA splits 2:1 on D[4] and pays 1.0 on D[7]; BBB pays 0.5 on D[2] and is delisted (bankrupt) after D[8].
MARKET = (
    pd.concat([
        bars("AAA", D, [100, 101, 102, 103, 52, 53, 54, 53, 54, 55], list(range(1000, 1010))),
        bars("BBB", D[:9], [20, 21, 20.5, 21, 22, 23, 22, 21, 20]),
    ], ignore_index=True),
    events(split("AAA", D[4], 2.0), dividend("AAA", D[7], 1.0), dividend("BBB", D[2], 0.5)),
)


@pytest.fixture
def market():
    return MARKET


@pytest.fixture(scope="module")
def input_root(tmp_path_factory):
    """Raw bars, events and the delisting, written once per module."""
    root = tmp_path_factory.mktemp("inputs") / "lake"
    lk = Lake(root)
    b, ev = MARKET
    write_bars(lk, b)
    write_events(lk, ev, sessions=D)
    write_delistings(lk, pd.DataFrame({"symbol": ["BBB"], "delist_date": [D[9]], "reason": ["BANKRUPTCY"]}))
    return root


@pytest.fixture
def lake(tmp_path, input_root):
    return copy_lake(input_root, tmp_path / "lake")


@pytest.fixture
def engine(tmp_path):
    return make_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")


def test_curate_range_writes_one_partition_per_session(lake, engine):
    report = curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    assert report.sessions_written == D and report.sessions_unchanged == [] and report.missing_input == []
    assert lake.partitions(CURATED) == D
    assert report.problems.empty


def test_rerun_writes_nothing(lake, engine):
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    before = partition_bytes(lake, CURATED)
    again = curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    assert again.sessions_written == [] and again.sessions_unchanged == D
    assert partition_bytes(lake, CURATED) == before


def test_window_by_window_equals_one_window(lake, engine, tmp_path, market):
    for lo, hi in ((0, 2), (3, 3), (4, 9)):
        curate_range(D[lo], D[hi], lake=lake, engine=engine, settings=CFG)
    pieces = lake.read(CURATED).to_pandas()
    whole_lake = Lake(tmp_path / "whole")
    b, ev = market
    write_bars(whole_lake, b)
    write_events(whole_lake, ev, sessions=D)
    write_delistings(whole_lake, pd.DataFrame({"symbol": ["BBB"], "delist_date": [D[9]], "reason": ["BANKRUPTCY"]}))
    curate_range(D[0], D[-1], lake=whole_lake, engine=engine, settings=CFG)
    pd.testing.assert_frame_equal(pieces, whole_lake.read(CURATED).to_pandas())


@pytest.mark.parametrize("convention", ["crsp", "alpha_vantage"])
def test_read_adjusted_equals_adjusted_ohlcv(lake, engine, market, convention):
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    b, ev = market
    got = read_adjusted(lake, D[0], D[-1], convention=convention)
    want = adjusted_ohlcv(b, ev, convention=convention)
    for col in ("adj_open", "adj_close", "adj_volume"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy())


def test_read_adjusted_as_of_a_later_session_uses_that_sessions_factors(lake, engine, market):
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    b, ev = market
    got = read_adjusted(lake.root, D[0], D[3], asof=D[8], symbols=["AAA"])
    want = adjusted_ohlcv(b[b["symbol"] == "AAA"], ev, asof=D[8])
    assert got["adj_close"].tolist() == want["adj_close"].iloc[:4].tolist()
    assert got["adj_close"].iloc[0] == pytest.approx(100 / 2 * (1 - 1 / 54))


def test_read_adjusted_as_of_end_ignores_later_events(lake, engine):
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    got = read_adjusted(lake, D[0], D[3], symbols="AAA")
    assert got["adj_close"].tolist() == [100, 101, 102, 103]


def test_delisting_return_is_stored_on_the_last_trading_session(lake, engine):
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    stored = lake.read(CURATED, symbols="BBB").to_pandas()
    assert stored.loc[stored["delisting_return"].notna(), ["date", "delisting_return"]].values.tolist() == [[D[8], -0.3]]


def test_blocking_problem_is_red_and_names_symbol_and_session(tmp_path, engine, market):
    lk = Lake(tmp_path / "bad")
    b, ev = market
    write_bars(lk, b)
    write_events(lk, events(*ev.to_dict("records"), dividend("BBB", D[5], 50.0)), sessions=D)
    report = curate_range(D[0], D[-1], lake=lk, engine=engine, settings=CFG)
    red = report.problems[report.problems["status"] == "RED"]
    assert red[["symbol", "date", "qc_code"]].values.tolist() == [["BBB", pd.Timestamp(D[5]), "DIVIDEND_EXCEEDS_CLOSE"]]
    assert lk.read(CURATED, symbols="BBB").to_pandas()["div_factor_crsp"].min() == pytest.approx(1 - 0.5 / 21)


def test_missing_corp_actions_partitions_are_amber_session_problems(tmp_path, engine, market):
    lk = Lake(tmp_path / "nocorp")
    write_bars(lk, market[0])
    report = curate_range(D[0], D[2], lake=lk, engine=engine, settings=CFG)
    amber = report.problems
    assert amber["qc_code"].unique().tolist() == ["CORP_ACTIONS_MISSING"]
    assert amber["status"].unique().tolist() == ["AMBER"]
    assert amber["symbol"].isna().all() and amber["date"].dt.date.tolist() == D[:3]


def test_sessions_without_raw_bars_are_missing_input(tmp_path, engine, market):
    lk = Lake(tmp_path / "gap")
    b = market[0]
    write_bars(lk, b[pd.to_datetime(b["date"]) != pd.Timestamp(D[5])])
    write_events(lk, market[1], sessions=D)
    report = curate_range(D[0], D[-1], lake=lk, engine=engine, settings=CFG)
    assert report.missing_input == [D[5]]
    assert D[5] not in lk.partitions(CURATED)


def test_raw_red_ledger_rows_become_red_problems(lake, engine):
    upsert_partition_status(engine, pd.DataFrame({
        "source_name": ["synthetic"], "table_name": ["raw/equities_bars"], "symbol": ["AAA"], "dt": [D[1]],
        "partition_key": [D[1].isoformat()], "status": ["RED"], "qc_score": [0.0], "row_count": [0], "expected_rows": [1],
        "qc_code": ["OUTAGE"]}))
    report = curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    assert report.problems[["symbol", "qc_code", "status"]].values.tolist() == [["AAA", "RAW_RED", "RED"]]


def test_a_new_event_after_stored_sessions_leaves_their_files_byte_identical(tmp_path, engine):
    lk = Lake(tmp_path / "pit")
    b = bars("AAA", D, [100, 101, 102, 103, 104, 105, 106, 53, 54, 55])
    write_bars(lk, b)
    write_events(lk, events(), sessions=D[:5])
    curate_range(D[0], D[4], lake=lk, engine=engine, settings=CFG)
    stored = partition_bytes(lk, CURATED)
    write_events(lk, events(split("AAA", D[7], 2.0)), sessions=D[5:])
    curate_range(D[5], D[9], lake=lk, engine=engine, settings=CFG)
    assert {d: partition_bytes(lk, CURATED)[d] for d in D[:5]} == stored
    assert read_adjusted(lk, D[0], D[4], symbols="AAA")["adj_close"].tolist() == [100, 101, 102, 103, 104]
    assert read_adjusted(lk, D[0], D[1], asof=D[9], symbols="AAA")["adj_close"].tolist() == [50, 50.5]


def test_build_curated_writes_nothing_and_returns_the_rows_curate_range_stores(lake, engine):
    build = build_curated(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    assert lake.partitions(CURATED) == []
    curate_range(D[0], D[-1], lake=lake, engine=engine, settings=CFG)
    stored = lake.read(CURATED).to_pandas()
    ordered = build.rows.sort_values(["date", "symbol"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered.astype(stored.dtypes.to_dict()), stored)

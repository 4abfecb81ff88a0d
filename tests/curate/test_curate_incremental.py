"""late_events and curate_incremental: a late or revised event rewrites only its symbol, from its ex-date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate_frames import bars, days, dividend, events, split
from curate_lake import META, copy_lake, partition_bytes, write_bars, write_events
from trademl.curate import CuratorSettings, adjusted_ohlcv, curate_incremental, curate_range, late_events, read_adjusted
from trademl.data.control import make_engine, read_partition_status
from trademl.data.lake import Lake
from trademl.schemas.base import with_metadata

D = days("2024-03-04", 10)
CFG = CuratorSettings(seed_lookback_sessions=5)
CURATED = "curated/equities_ohlcv_adj"
BARS = pd.concat([bars("AAA", D, [100, 101, 102, 103, 52, 53, 54, 53, 54, 55]),
                  bars("BBB", D, [20, 21, 20.5, 21, 22, 23, 22, 21, 20, 21])], ignore_index=True)
EVENTS = events(split("AAA", D[4], 2.0), dividend("BBB", D[2], 0.5))


@pytest.fixture(scope="module")
def curated_root(tmp_path_factory):
    """Raw bars, events and their curated partitions, written once per module."""
    root = tmp_path_factory.mktemp("curated") / "lake"
    lake = Lake(root)
    write_bars(lake, BARS)
    write_events(lake, EVENTS, sessions=D)
    curate_range(D[0], D[-1], lake=lake, settings=CFG)
    return root


@pytest.fixture
def node(tmp_path, curated_root):
    return copy_lake(curated_root, tmp_path / "lake"), make_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")


def ingest_late(lake: Lake, *rows: dict) -> None:
    """A corporate action arriving after curation (merged into its ex_date partition)."""
    frame = events(*rows)
    frame = frame.assign(date=pd.to_datetime(frame["ex_date"]).dt.date, ex_date=pd.to_datetime(frame["ex_date"]).dt.date,
                         record_date=None, pay_date=None, source_priority=np.int32(1))
    lake.write_partitions("reference/corp_actions", with_metadata(frame, **META), mode="merge")


def test_no_late_events_right_after_curation(node):
    lake, _ = node
    assert late_events(lake).empty


def test_late_split_is_found_with_its_first_stale_session(node):
    lake, _ = node
    ingest_late(lake, split("AAA", D[6], 3.0))
    late = late_events(lake)
    assert late[["symbol", "event_type", "ex_date", "first_stale"]].values.tolist() == [["AAA", "SPLIT", D[6], D[6]]]


def test_revised_dividend_amount_is_found(node):
    lake, _ = node
    lake.write_partitions("reference/corp_actions", with_metadata(
        events(dividend("BBB", D[2], 0.75)).assign(date=D[2], ex_date=D[2], record_date=None, pay_date=None,
                                                   source_priority=np.int32(1)), **META), mode="merge")
    assert late_events(lake)[["symbol", "ex_date", "amount"]].values.tolist() == [["BBB", D[2], 0.75]]


def test_late_split_rewrites_only_that_symbol_from_its_ex_date(node):
    lake, engine = node
    before_files = partition_bytes(lake, CURATED)
    before_rows = lake.read(CURATED).to_pandas()
    ingest_late(lake, split("AAA", D[6], 3.0))
    report = curate_incremental(lake=lake, engine=engine)
    assert report.sessions_rewritten == {"AAA": D[6:]}
    after_files = partition_bytes(lake, CURATED)
    assert {d: after_files[d] for d in D[:6]} == {d: before_files[d] for d in D[:6]}
    after_rows = lake.read(CURATED).to_pandas()
    pd.testing.assert_frame_equal(after_rows[after_rows["symbol"] == "BBB"], before_rows[before_rows["symbol"] == "BBB"])
    aaa = after_rows[after_rows["symbol"] == "AAA"]
    assert aaa["split_factor"].tolist() == [1, 1, 1, 1, 2, 2, 6, 6, 6, 6]


def test_incremental_rebuild_reads_like_a_fresh_curation(node):
    lake, engine = node
    ingest_late(lake, split("AAA", D[6], 3.0))
    curate_incremental(lake=lake, engine=engine)
    got = read_adjusted(lake, D[0], D[-1], symbols="AAA")
    want = adjusted_ohlcv(BARS[BARS["symbol"] == "AAA"], events(*EVENTS.to_dict("records"), split("AAA", D[6], 3.0)))
    np.testing.assert_allclose(got["adj_close"].to_numpy(), want["adj_close"].to_numpy(), rtol=1e-14)
    assert late_events(lake).empty


def test_ledger_rows_name_source_curator_for_the_touched_sessions(node):
    lake, engine = node
    ingest_late(lake, split("AAA", D[6], 3.0))
    curate_incremental(lake=lake, engine=engine)
    ledger = read_partition_status(engine, CURATED)
    assert ledger[["source_name", "symbol", "dt", "status"]].values.tolist() == [["curator", "AAA", d, "GREEN"] for d in D[6:]]
    assert set(ledger["qc_code"]) == {"CORP_ACTION_REBUILT"}


def test_symbols_filter_leaves_other_late_symbols_for_later(node):
    lake, engine = node
    ingest_late(lake, split("AAA", D[6], 3.0), split("BBB", D[7], 2.0))
    report = curate_incremental(lake=lake, engine=engine, symbols=["BBB"])
    assert list(report.sessions_rewritten) == ["BBB"]
    assert late_events(lake)["symbol"].tolist() == ["AAA"]


def test_blocked_late_event_changes_nothing(node):
    lake, engine = node
    before = partition_bytes(lake, CURATED)
    ingest_late(lake, split("AAA", D[6], -1.0))
    report = curate_incremental(lake=lake, engine=engine)
    assert report.events.empty and report.ledger_rows == 0
    assert partition_bytes(lake, CURATED) == before

"""Revisions of a stored partition: what a new version changed, the review flag, older versions, staging."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from lake_payloads import bars

from trademl.data.lake import RevisionGuard

BARS = "raw/equities_bars"
D1 = "2024-01-02"
SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]


def test_a_new_version_records_how_many_stored_rows_it_changed(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    revised = stored.copy()
    revised.loc[revised["symbol"] == "BBB", "close"] += 1.0
    result = lake.write_partition(BARS, D1, revised)
    assert (result.version, result.previous_rows, result.revised_rows) == (2, 4, 1)
    info = lake.versions(BARS, D1)[-1]
    assert (info.previous_version, info.previous_rows, info.revised_rows, info.review) == (1, 4, 1, None)


def test_rows_added_beside_stored_ones_are_not_a_revision(lake):
    full = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, full[full["symbol"].isin(SYMBOLS[:2])])
    result = lake.write_partition(BARS, D1, full, mode="merge")
    assert result.changed and result.revised_rows == 0


def test_a_replace_that_drops_stored_rows_counts_them_as_revised(lake):
    full = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, full)
    result = lake.write_partition(BARS, D1, full[full["symbol"] == "AAA"], mode="replace")
    assert (result.previous_rows, result.revised_rows) == (4, 3)


def test_metadata_alone_is_not_a_revision(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    result = lake.write_partition(BARS, D1, stored.assign(source_uri="file:///elsewhere.csv"))
    assert result.changed and result.revised_rows == 0


def test_a_guarded_large_revision_is_flagged_for_review_and_the_old_version_stays_readable(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    result = lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1), guard=RevisionGuard(0.25))
    assert result.review == {
        "code": "LARGE_REVISION", "previous_version": 1, "previous_rows": 4, "revised_rows": 4, "revised_frac": 1.0,
    }
    old = lake.read(BARS, start=D1, version=1).to_pandas()
    assert old["close"].tolist() == stored.sort_values("symbol")["close"].tolist()
    assert lake.pending_reviews(BARS, [D1, "2024-01-03"]) == {dt.date(2024, 1, 2): {**result.review, "version": 2}}


def test_a_small_or_unguarded_revision_is_not_flagged(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    small = stored.copy()
    small.loc[small["symbol"] == "AAA", "close"] += 1.0  # 1 of 4 rows: 25 %, not above 25 %
    assert lake.write_partition(BARS, D1, small, guard=RevisionGuard(0.25)).review is None
    unguarded = RevisionGuard(0.25, applies=lambda day: False)
    assert lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=2), guard=unguarded).review is None


def test_an_unchanged_payload_reports_the_pending_review_of_the_latest_version(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    revised = bars([D1], SYMBOLS, seed=1)
    lake.write_partition(BARS, D1, revised, guard=RevisionGuard(0.1))
    again = lake.write_partition(BARS, D1, revised, guard=RevisionGuard(0.1))
    assert not again.changed and again.review["code"] == "LARGE_REVISION"


def test_accepting_a_review_keeps_it_in_the_manifest_but_no_longer_pending(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1), guard=RevisionGuard(0.1))
    info = lake.accept_version(BARS, D1)
    assert info.version == 2 and info.review["accepted_at"]
    assert lake.pending_reviews(BARS, [D1]) == {}
    with pytest.raises(ValueError, match="version 1 is not flagged for review"):
        lake.accept_version(BARS, D1, version=1)


def test_reading_a_version_needs_one_partition_and_a_committed_version(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    with pytest.raises(ValueError, match="reads one partition"):
        lake.read(BARS, start=D1, end="2024-01-05", version=1)
    with pytest.raises(ValueError, match=r"no version 2; committed versions: \[1\]"):
        lake.read(BARS, start=D1, version=2)
    assert lake.read(BARS, start=D1, version=1, symbols="BBB", columns=["symbol"]).to_pylist() == [{"symbol": "BBB"}]


def test_a_staged_version_is_invisible_until_committed(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    staged = lake.stage_partition(BARS, D1, bars([D1], SYMBOLS, seed=1))
    assert staged.result.version == 2 and [v.version for v in lake.versions(BARS, D1)] == [1]
    assert lake.read_partition(BARS, D1).to_pandas()["close"].tolist() == bars([D1], SYMBOLS, seed=0)["close"].tolist()
    staged.commit()
    assert [v.version for v in lake.versions(BARS, D1)] == [1, 2]


def test_an_aborted_staged_version_leaves_the_partition_as_it_was_and_unlocked(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    staged = lake.stage_partition(BARS, D1, bars([D1], SYMBOLS, seed=1))
    staged.abort()
    assert [v.version for v in lake.versions(BARS, D1)] == [1]
    assert lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1)).version == 2  # the lock was released


def test_a_staged_version_may_be_committed_from_another_thread(lake):
    staged = list(lake.stage_partitions(BARS, bars([D1, "2024-01-03"], SYMBOLS), vendor="synthetic"))
    worker = threading.Thread(target=lambda: [s.commit() for s in staged])
    worker.start()
    worker.join(10)
    assert lake.partitions(BARS) == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=5)).version == 2  # locks released

"""Write path of the lake: atomic versions, idempotent re-ingest, revisions, merge, rejection."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lake_payloads import bars, files_state, rows

from trademl.data.lake import Lake, LakeIntegrityError, content_hash
from trademl.schemas import SchemaViolation, conform, table_spec

BARS = "raw/equities_bars"
D1, D2 = "2024-01-02", "2024-01-03"
SYMBOLS = ["AAA", "BBB", "CCC"]


def _corrupt(path: str) -> None:
    """Flip one byte in the middle of a stored file (a bit rot / torn sector stand-in)."""
    data = bytearray(Path(path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(path).write_bytes(bytes(data))


def test_partition_layout_is_layer_table_date_dir_with_numbered_versions(lake):
    result = lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    expected_dir = Path(lake.root) / "raw" / "equities_bars" / "date=2024-01-02"
    assert Path(lake.partition_dir(BARS, D1)) == expected_dir
    assert Path(result.path) == expected_dir / "v00001.parquet"
    assert (result.version, result.row_count, result.changed) == (1, 3, True)


def test_atomic_write_leaves_no_tmp_file_visible(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1))
    names = sorted(os.listdir(lake.partition_dir(BARS, D1)))
    assert names == [".lock", "_manifest.json", "v00001.parquet", "v00002.parquet"]


def test_written_file_sha256_and_row_count_match_the_write_result(lake):
    result = lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    data = Path(result.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == result.sha256
    assert pq.read_metadata(result.path).num_rows == 3
    manifest = json.loads((Path(result.path).parent / "_manifest.json").read_text())
    assert manifest["versions"][0]["sha256"] == result.sha256


def test_identical_payload_reingest_is_a_noop(lake):
    first = lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    before = files_state(lake.partition_dir(BARS, D1))
    later = bars([D1], SYMBOLS, ingested_at=pd.Timestamp("2024-06-30 12:00", tz="UTC"))
    again = lake.write_partition(BARS, D1, later.iloc[::-1])  # same rows, other order, later ingest
    assert again.changed is False
    assert (again.version, again.path, again.sha256, again.content_hash) == (
        first.version,
        first.path,
        first.sha256,
        first.content_hash,
    )
    assert files_state(lake.partition_dir(BARS, D1)) == before  # same files, bytes and mtimes


def test_revision_creates_v2_beside_v1_and_reads_return_v2(lake):
    original, revised = bars([D1], SYMBOLS, seed=0), bars([D1], SYMBOLS, seed=1)
    v1 = lake.write_partition(BARS, D1, original)
    v1_bytes = Path(v1.path).read_bytes()
    v2 = lake.write_partition(BARS, D1, revised, vendor="synthetic")
    assert (v2.version, v2.changed) == (2, True)
    assert Path(v1.path).read_bytes() == v1_bytes  # never overwritten
    pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, D1)), rows(revised), check_dtype=False)
    pd.testing.assert_frame_equal(
        rows(lake.read_partition(BARS, D1, version=1)), rows(original), check_dtype=False
    )
    assert [v.version for v in lake.versions(BARS, D1)] == [1, 2]


def test_versions_report_the_manifest_checksums_of_each_file(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1))
    for info in lake.versions(BARS, D1):
        assert hashlib.sha256(Path(info.path).read_bytes()).hexdigest() == info.sha256
        assert info.row_count == 3
        assert info.created_at.tzinfo is not None and info.created_at.utcoffset() == dt.timedelta(0)


def test_merge_mode_replaces_only_the_given_symbols_rows(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    gap_fill = bars([D1], ["BBB", "DDD"], seed=7, ingested_at=pd.Timestamp("2024-04-01", tz="UTC"))
    result = lake.write_partition(BARS, D1, gap_fill, mode="merge")
    expected = pd.concat([stored[stored["symbol"] != "BBB"], gap_fill])
    assert (result.version, result.row_count) == (2, 4)
    pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, D1)), rows(expected), check_dtype=False)


def test_merge_of_already_stored_rows_is_a_noop(lake):
    stored = bars([D1], SYMBOLS, seed=0)
    lake.write_partition(BARS, D1, stored)
    again = lake.write_partition(BARS, D1, stored[stored["symbol"] == "CCC"], mode="merge")
    assert (again.changed, again.version) == (False, 1)


def test_merge_into_an_absent_partition_writes_the_payload(lake):
    payload = bars([D1], ["AAA"])
    result = lake.write_partition(BARS, D1, payload, mode="merge")
    assert (result.version, result.row_count) == (1, 1)
    pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, D1)), rows(payload), check_dtype=False)


def test_schema_violation_leaves_stored_data_untouched(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    before = files_state(lake.partition_dir(BARS, D1))
    bad = bars([D1], SYMBOLS, seed=3)
    bad.loc[1, "volume"] = -5
    with pytest.raises(SchemaViolation, match="negative volume") as err:
        lake.write_partition(BARS, D1, bad, vendor="alpaca")
    assert (err.value.vendor, err.value.symbol) == ("alpaca", "BBB")
    assert files_state(lake.partition_dir(BARS, D1)) == before


def test_rows_of_another_partition_are_rejected(lake):
    payload = bars([D1, D2], ["AAA"])
    with pytest.raises(SchemaViolation, match="does not belong to partition 2024-01-02") as err:
        lake.write_partition(BARS, D1, payload)
    assert err.value.session == D2
    assert lake.partitions(BARS) == []


def test_bulk_schema_violation_writes_no_partition(lake):
    payload = bars([D1, D2], SYMBOLS)
    payload.loc[payload.index[-1], "high"] = payload["low"].iloc[-1] / 2  # last row: high < low
    with pytest.raises(SchemaViolation, match="OHLC"):
        lake.write_partitions(BARS, payload)
    assert lake.partitions(BARS) == []


def test_write_partitions_splits_a_multi_session_payload_by_date(lake):
    dates = [D1, D2, "2024-01-04"]
    payload = bars(dates, SYMBOLS).sample(frac=1.0, random_state=3)  # sessions interleaved
    results = lake.write_partitions(BARS, payload)
    assert [r.partition for r in results] == [dt.date.fromisoformat(d) for d in dates]
    assert [r.row_count for r in results] == [3, 3, 3]
    for day, group in payload.groupby("date"):
        pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, day)), rows(group), check_dtype=False)


def test_stale_tmp_files_are_removed_by_the_next_write(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=0))
    stale = Path(lake.partition_dir(BARS, D1)) / ".tmp-deadwriter.parquet"
    stale.write_bytes(b"half a parquet file")
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS, seed=1))
    assert not stale.exists()


def test_checksum_verification_detects_a_corrupted_file(lake):
    result = lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    assert lake.verify_partition(BARS, D1) is True
    _corrupt(result.path)
    assert lake.verify_partition(BARS, D1) is False


def test_verify_of_an_absent_partition_is_false(lake):
    assert lake.verify_partition(BARS, D1) is False


def test_same_content_serialises_to_identical_bytes(tmp_path):
    payload = bars([D1], SYMBOLS)
    a = Lake(tmp_path / "a").write_partition(BARS, D1, payload)
    b = Lake(tmp_path / "b").write_partition(BARS, D1, payload.iloc[::-1])
    assert Path(a.path).read_bytes() == Path(b.path).read_bytes()


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(range(6)), ingest_hours=st.integers(0, 10_000))
def test_content_hash_ignores_row_order_and_ingest_time(order, ingest_hours):
    base = bars([D1, D2], SYMBOLS)
    other = bars(
        [D1, D2], SYMBOLS, ingested_at=pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(hours=ingest_hours)
    )
    other = other.iloc[list(order)]
    assert content_hash(conform(BARS, other), table_spec(BARS)) == content_hash(
        conform(BARS, base), table_spec(BARS)
    )


def test_content_hash_changes_when_one_value_changes():
    base = bars([D1], SYMBOLS)
    changed = base.copy()
    changed.loc[2, "trades"] += 1
    spec = table_spec(BARS)
    assert content_hash(conform(BARS, changed), spec) != content_hash(conform(BARS, base), spec)


def test_content_hash_distinguishes_null_from_a_filled_value():
    base = bars([D1], SYMBOLS)
    with_null = base.copy()
    with_null["nbbo_spread"] = with_null["nbbo_spread"].astype("float64")
    with_null.loc[0, "nbbo_spread"] = None
    zero = base.copy()
    zero.loc[0, "nbbo_spread"] = 0.0
    spec = table_spec(BARS)
    assert content_hash(conform(BARS, with_null), spec) != content_hash(conform(BARS, zero), spec)


def test_read_partition_of_an_absent_partition_is_empty_with_the_table_schema(lake):
    empty = lake.read_partition(BARS, D1)
    assert empty.num_rows == 0
    assert empty.schema.equals(table_spec(BARS).schema)


def test_reading_an_unknown_version_names_the_committed_ones(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    with pytest.raises(ValueError, match=r"no version 3; committed versions: \[1\]"):
        lake.read_partition(BARS, D1, version=3)


def test_unknown_write_mode_is_rejected(lake):
    with pytest.raises(ValueError, match="mode must be 'replace' or 'merge'"):
        lake.write_partition(BARS, D1, bars([D1], SYMBOLS), mode="append")


@pytest.mark.parametrize("key", ["2024-13-40", "2024-01-02 15:30", pd.Timestamp("2024-01-02", tz="UTC")])
def test_partition_keys_that_are_not_plain_dates_are_rejected(lake, key):
    with pytest.raises(ValueError, match="partition"):
        lake.partition_dir(BARS, key)


def test_fsspec_store_round_trips_versions_and_duckdb_reads():
    remote = Lake(f"memory://lake-{uuid.uuid4().hex}")  # a fresh in-memory object store
    original, revised = bars([D1, D2], SYMBOLS, seed=0), bars([D1], SYMBOLS, seed=1)
    remote.write_partitions(BARS, original)
    v2 = remote.write_partition(BARS, D1, revised)
    assert v2.path.startswith("memory://") and v2.version == 2
    assert remote.write_partition(BARS, D1, revised).changed is False
    assert remote.verify_partition(BARS, D1) is True
    assert remote.partitions(BARS) == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    expected = pd.concat([revised, original[original["date"] == dt.date(2024, 1, 3)]])
    expected = expected[expected["symbol"] == "BBB"]
    pd.testing.assert_frame_equal(rows(remote.read(BARS, symbols=["BBB"])), rows(expected), check_dtype=False)


def test_identical_reingest_over_a_corrupted_version_writes_a_fresh_version(lake):
    payload = bars([D1], SYMBOLS)
    first = lake.write_partition(BARS, D1, payload)
    _corrupt(first.path)
    repaired = lake.write_partition(BARS, D1, payload)
    assert (repaired.version, repaired.changed, repaired.content_hash) == (2, True, first.content_hash)
    assert lake.verify_partition(BARS, D1) is True
    pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, D1)), rows(payload), check_dtype=False)


def test_merge_into_a_corrupted_version_is_refused(lake):
    first = lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    _corrupt(first.path)
    with pytest.raises(LakeIntegrityError, match="mode='replace'"):
        lake.write_partition(BARS, D1, bars([D1], ["DDD"]), mode="merge")
    assert [v.version for v in lake.versions(BARS, D1)] == [1]


def test_empty_payload_commits_an_empty_version(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS))
    result = lake.write_partition(BARS, D1, bars([D1], SYMBOLS).iloc[:0])
    assert (result.version, result.row_count) == (2, 0)
    assert lake.read_partition(BARS, D1).num_rows == 0
    assert lake.read_partition(BARS, D1, version=1).num_rows == 3


def test_one_value_string_columns_read_back_as_plain_strings(lake):
    lake.write_partition(BARS, D1, bars([D1], SYMBOLS))  # source_name, api_version, session_id: one value each
    stored = lake.read_partition(BARS, D1)
    assert stored.schema.equals(table_spec(BARS).schema)
    assert stored.column("source_name").to_pylist() == ["synthetic"] * 3
    assert pq.read_schema(lake.versions(BARS, D1)[-1].path).field("api_version").type == "string"


def test_one_partition_stores_the_same_bytes_from_write_partition_and_write_partitions(tmp_path):
    payload = bars([D1], SYMBOLS)
    single = Lake(tmp_path / "a").write_partition(BARS, D1, payload)
    (bulk,) = Lake(tmp_path / "b").write_partitions(BARS, payload)
    assert Path(single.path).read_bytes() == Path(bulk.path).read_bytes()


def test_content_hash_does_not_depend_on_how_a_one_value_column_is_encoded():
    import pyarrow as pa

    table = conform(BARS, bars([D1], SYMBOLS))
    i = table.schema.get_field_index("source_name")
    encoded = pa.chunked_array([table.column(i).combine_chunks().dictionary_encode()])
    recoded = table.set_column(i, pa.field("source_name", encoded.type), encoded)
    assert content_hash(recoded, table_spec(BARS)) == content_hash(table, table_spec(BARS))


def test_key_sorted_payload_spanning_sessions_is_written_in_key_order_per_session(lake):
    dates = [D1, D2, "2024-01-04"]
    payload = bars(dates, SYMBOLS).sort_values(["symbol", "date"])  # vendor order: per symbol, then time
    lake.write_partitions(BARS, payload)
    for day, group in payload.groupby("date"):
        stored = lake.read_partition(BARS, day)
        assert stored.column("symbol").to_pylist() == SYMBOLS
        pd.testing.assert_frame_equal(rows(stored), rows(group), check_dtype=False)


def test_new_partition_directories_of_one_write_fsync_their_parent_once(lake, monkeypatch):
    import trademl.data.lake.store as lake_module

    synced: list[str] = []
    real = lake_module._fsync_dir
    monkeypatch.setattr(lake_module, "_fsync_dir", lambda path: (synced.append(path), real(path)))
    lake.write_partitions(BARS, bars([D1, D2, "2024-01-04"], SYMBOLS))
    assert synced.count(lake.table_dir(BARS)) == 1
    assert all(Path(lake.partition_dir(BARS, d)).is_dir() for d in (D1, D2, "2024-01-04"))

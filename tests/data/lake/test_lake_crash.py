"""Crash safety: a writer process killed with SIGKILL never leaves a partial partition visible."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lake_payloads import bars, rows
from lake_writer_child import BARS, BIG_DATE, BIG_SYMBOLS, LOOP_DATES

from trademl.data.lake import Lake

CHILD = Path(__file__).with_name("lake_writer_child.py")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _read_until(proc: subprocess.Popen, prefix: str, count: int = 1) -> list[str]:
    """Lines of the child's stdout up to the `count`-th one starting with `prefix`."""
    seen, hits = [], 0
    while hits < count:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise AssertionError(f"child exited before {prefix!r}: {proc.stderr.read()}")
        seen.append(line.strip())
        hits += line.startswith(prefix)
    return seen


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


@pytest.fixture
def big_v1(tmp_path):
    """A lake whose BIG_DATE partition holds a committed 5,000-row version 1."""
    lake = Lake(tmp_path / "lake")
    original = bars([BIG_DATE], BIG_SYMBOLS, seed=0)
    lake.write_partition(BARS, BIG_DATE, original)
    return lake, original


@pytest.mark.timeout(60)
def test_sigkill_during_tmp_write_leaves_old_version_visible_and_next_write_succeeds(big_v1):
    lake, original = big_v1
    proc = _start("mid-write", lake.root)
    tmp = Path(_read_until(proc, "PAUSED")[-1].split(" ", 1)[1])
    _kill(proc)

    assert tmp.exists() and tmp.name.startswith(".tmp-")  # the partial file really is on disk
    with pytest.raises((pa.ArrowInvalid, OSError)):
        pq.read_metadata(tmp)
    assert [v.version for v in lake.versions(BARS, BIG_DATE)] == [1]
    assert lake.verify_partition(BARS, BIG_DATE)
    pd.testing.assert_frame_equal(rows(lake.read(BARS)), rows(original), check_dtype=False)

    revision = bars([BIG_DATE], BIG_SYMBOLS, seed=1)
    result = lake.write_partition(BARS, BIG_DATE, revision)
    assert (result.version, result.changed) == (2, True)
    assert not tmp.exists()
    pd.testing.assert_frame_equal(
        rows(lake.read_partition(BARS, BIG_DATE)), rows(revision), check_dtype=False
    )


@pytest.mark.timeout(60)
def test_sigkill_between_manifest_update_and_rename_leaves_old_version_visible(big_v1):
    lake, original = big_v1
    proc = _start("before-rename", lake.root)
    tmp = Path(_read_until(proc, "PAUSED")[-1].split(" ", 1)[1])
    _kill(proc)

    assert tmp.exists()  # complete and verified, but never renamed: not committed
    assert [v.version for v in lake.versions(BARS, BIG_DATE)] == [1]
    pd.testing.assert_frame_equal(
        rows(lake.read_partition(BARS, BIG_DATE)), rows(original), check_dtype=False
    )

    other = bars([BIG_DATE], BIG_SYMBOLS, seed=2)
    result = lake.write_partition(BARS, BIG_DATE, other)
    assert result.version == 2 and not tmp.exists()
    info = {v.version: v for v in lake.versions(BARS, BIG_DATE)}
    assert info[2].content_hash == result.content_hash  # the dead writer's entry was replaced
    assert lake.verify_partition(BARS, BIG_DATE)


@pytest.mark.timeout(60)
def test_sigkill_in_a_partition_write_loop_leaves_only_complete_partitions(tmp_path):
    root = tmp_path / "lake"
    proc = _start("loop", str(root))
    _read_until(proc, "COMMITTED", count=3)
    _kill(proc)

    lake = Lake(root)
    visible = [d.isoformat() for d in lake.partitions(BARS)]
    assert len(visible) >= 3
    assert visible == LOOP_DATES[: len(visible)]  # a prefix of the loop, nothing half-done
    for i, day in enumerate(visible):
        assert lake.verify_partition(BARS, day)
        expected = bars([day], BIG_SYMBOLS, seed=i)
        pd.testing.assert_frame_equal(rows(lake.read_partition(BARS, day)), rows(expected), check_dtype=False)

    following = LOOP_DATES[len(visible)]
    result = Lake(root).write_partition(BARS, following, bars([following], BIG_SYMBOLS, seed=len(visible)))
    assert (result.version, result.changed) == (1, True)
    assert not [p for p in Path(lake.partition_dir(BARS, following)).iterdir() if p.name.startswith(".tmp-")]

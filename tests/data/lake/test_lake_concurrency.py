"""Concurrent writers of one partition serialise: every version number is used exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lake_payloads import bars
from lake_writer_child import BARS, BIG_DATE, BIG_SYMBOLS

from trademl.data.lake import Lake, content_hash
from trademl.schemas import conform, table_spec

CHILD = Path(__file__).with_name("lake_writer_child.py")


def _expected_hash(seed: int, symbols: list[str]) -> str:
    return content_hash(conform(BARS, bars([BIG_DATE], symbols, seed=seed)), table_spec(BARS))


def test_two_concurrent_thread_writers_produce_distinct_consecutive_versions(tmp_path):
    lake = Lake(tmp_path / "lake")
    symbols = BIG_SYMBOLS[:300]
    payloads = {seed: bars([BIG_DATE], symbols, seed=seed) for seed in range(16)}
    start = threading.Barrier(2)
    written: dict[int, int] = {}  # seed -> version
    guard = threading.Lock()

    def writer(seeds: range) -> None:
        start.wait()
        for seed in seeds:
            result = lake.write_partition(BARS, BIG_DATE, payloads[seed])
            with guard:
                written[seed] = result.version

    threads = [threading.Thread(target=writer, args=(r,)) for r in (range(8), range(8, 16))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(written.values()) == list(range(1, 17))
    for seed, version in written.items():
        stored = lake.read_partition(BARS, BIG_DATE, version=version)
        assert content_hash(stored, table_spec(BARS)) == _expected_hash(seed, symbols)
    assert [v.version for v in lake.versions(BARS, BIG_DATE)] == list(range(1, 17))


@pytest.mark.timeout(60)
def test_two_concurrent_process_writers_produce_distinct_consecutive_versions(tmp_path):
    root, go = tmp_path / "lake", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(CHILD), "revisions", str(root), str(seed), "6", str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (100, 200)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "READY", p.stderr.read()
    go.touch()  # release both writers at once
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=50)
        assert p.returncode == 0, err
        reports += [line.split() for line in out.splitlines() if line.startswith("VERSION")]

    versions = sorted(int(v) for _, v, _, _ in reports)
    assert versions == list(range(1, 13))
    lake = Lake(root)
    for _, version, seed, digest in reports:
        assert digest == _expected_hash(int(seed), BIG_SYMBOLS[:200])
        stored = lake.read_partition(BARS, BIG_DATE, version=int(version))
        assert content_hash(stored, table_spec(BARS)) == digest
    assert lake.verify_partition(BARS, BIG_DATE)

"""The ledger never lags the lake after a crash (issue 8.4, first half).

A real `trademl ingest` of daily bars (synthetic vendor, isolated node) is SIGKILLed while it
writes partitions: the moment is observed by polling the lake directory for committed version
files, not guessed. Every partition file that is visible afterwards must have its
partition_status rows, so `trademl status` never under-reports what the lake holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trademl.config import REPO_ROOT

TRADEML = Path(sys.executable).with_name("trademl")
TABLE = "raw/equities_bars"
WINDOW = ("2024-01-02", "2025-06-30")  # 374 sessions: two 260-session requests


class SyntheticNode:
    """An isolated node (own lake, control db, Dagster home, configs/) on the synthetic market."""

    def __init__(self, root: Path, mp: pytest.MonkeyPatch, n_symbols: int) -> None:
        shutil.copytree(REPO_ROOT / "configs", root / "configs")
        self.root, self.data = root, root / "data_layer"
        for key, value in {
            "TRADEML_DATA_ROOT": self.data,
            "DAGSTER_HOME": root / "dagster_home",
            "TRADEML_CONFIG_DIR": root / "configs",
            "TRADEML_ENV": "local",
            "TRADEML_VENDOR": "synthetic",
            "TRADEML_SYNTHETIC_N_SYMBOLS": n_symbols,
            "TRADEML_SYNTHETIC_OUTAGES": "off",
        }.items():
            mp.setenv(key, str(value))
        mp.delenv("DB_URI", raising=False)
        self.env = dict(os.environ)
        self.runs = 0

    def ingest(self) -> subprocess.Popen:
        self.runs += 1
        log = open(self.root / f"ingest-{self.runs}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(TRADEML), "ingest", "--dataset", "equities_eod", "--start", WINDOW[0], "--end", WINDOW[1]],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
        )
        proc.log_path = self.root / f"ingest-{self.runs}.log"
        return proc

    def stored_partitions(self) -> set[str]:
        """Partition dates with a committed version file (what a reader of the lake sees)."""
        table_dir = self.data / "raw" / "equities_bars"
        if not table_dir.is_dir():
            return set()
        out = set()
        for entry in os.scandir(table_dir):
            if entry.name.startswith("date=") and any(n.startswith("v") and n.endswith(".parquet") for n in os.listdir(entry.path)):
                out.add(entry.name.removeprefix("date="))
        return out

    def ledger_sessions(self) -> set[str]:
        from trademl.data import control

        engine = control.make_engine(f"sqlite:///{self.data / 'control' / 'node.sqlite'}")
        try:
            rows = control.read_partition_status(engine, table_name=TABLE)
        finally:
            engine.dispose()
        return {d.isoformat() for d in rows["dt"]}

    def kill_once_stored(self, n: int, timeout: float = 120) -> set[str]:
        """Start an ingest, SIGKILL it (process group) once at least n partitions are visible."""
        proc = self.ingest()
        deadline = time.monotonic() + timeout
        while len(self.stored_partitions()) < n:
            assert proc.poll() is None, f"ingest exited (rc {proc.returncode}) before {n} partitions:\n{proc.log_path.read_text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {n} partitions"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return self.stored_partitions()


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Three ingests of the same window killed mid-write (early in the first request, late in it,
    in the second request), each leaving the lake as it was at the kill."""
    with pytest.MonkeyPatch.context() as mp:
        node = SyntheticNode(tmp_path_factory.mktemp("ledger-lag"), mp, n_symbols=300)
        states = []
        for n in (10, 150, 300):
            stored = node.kill_once_stored(n)
            states.append((n, stored, node.ledger_sessions()))
        yield node, states


@pytest.mark.parametrize("kill", [0, 1, 2], ids=["early", "late-in-first-request", "second-request"])
def test_every_partition_stored_before_a_sigkill_has_its_ledger_rows(killed, kill):
    _, states = killed
    n, stored, ledger = states[kill]
    assert len(stored) >= n
    assert sorted(stored - ledger) == []


def test_status_counts_every_stored_partition_after_the_kills(killed):
    node, _ = killed
    out = subprocess.run([str(TRADEML), "status", "--json"], env=node.env, capture_output=True, text=True, timeout=60)
    counts = json.loads(out.stdout)["tables"].get(TABLE, {})
    from trademl.data.lake import Lake

    stored_bars = Lake(node.data).read(TABLE, columns=["date", "symbol"]).num_rows  # one per symbol and session
    assert stored_bars > 0 and counts.get("GREEN", 0) >= stored_bars

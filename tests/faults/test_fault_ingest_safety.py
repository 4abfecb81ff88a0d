"""Bad input never replaces good data silently (issue 8.2).

Each test runs the real `trademl ingest` (and `trademl lake ...`) as a subprocess on an isolated
node (own lake, control db, Dagster home and configs/) whose vendor is the `files` connector over
a minute-bar CSV written in tmp_path. The CSV holds New York wall-clock times without an offset,
as exported by many tools; read as UTC they move every bar 4 hours (June: EDT).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import yaml

from trademl.config import REPO_ROOT

TRADEML = Path(sys.executable).with_name("trademl")
TABLE = "raw/equities_minute"
SYMBOLS = ("AAA", "BBB")
JUNE = ("2025-06-02", "2025-06-04")  # three EDT sessions, Mon..Wed


# ---------------------------------------------------------------------------------------------- helpers
def ny_minute_bars(days: list[str], symbols=SYMBOLS, *, first: str = "09:30", last: str = "15:59") -> pd.DataFrame:
    """Minute bars stamped with naive New York times from `first` to `last` (inclusive) of each day;
    prices move every minute so a shifted bar never equals the bar it lands on."""
    frames = []
    for day in days:
        stamps = pd.date_range(f"{day} {first}", f"{day} {last}", freq="min")
        for k, sym in enumerate(symbols):
            px = 100.0 + 10 * k + np.arange(len(stamps)) * 0.01
            frames.append(pd.DataFrame({
                "ticker": sym, "time": stamps.strftime("%Y-%m-%d %H:%M:%S"),
                "o": px, "h": px + 0.05, "l": px - 0.05, "c": px + 0.01, "v": 1000 + np.arange(len(stamps)),
            }))
    return pd.concat(frames, ignore_index=True)


def mapping(path: str = "bars/minute.csv", **extra) -> dict:
    return {
        "dataset": "equities_minute", "path": path, "format": "csv",
        "columns": {"symbol": "ticker", "ts": "time", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"},
        **extra,
    }


class FilesNode:
    """An isolated node served by the files connector: configs/ copied with only our mapping in files/."""

    def __init__(self, root: Path, mp: pytest.MonkeyPatch) -> None:
        self.root, self.configs, self.files = root, root / "configs", root / "files"
        shutil.copytree(REPO_ROOT / "configs", self.configs)
        shutil.rmtree(self.configs / "files")
        (self.configs / "files").mkdir()
        (self.files / "bars").mkdir(parents=True)
        for key, value in {
            "TRADEML_DATA_ROOT": root / "data_layer",
            "DAGSTER_HOME": root / "dagster_home",
            "TRADEML_CONFIG_DIR": self.configs,
            "TRADEML_ENV": "local",
            "TRADEML_VENDOR": "files",
            "TRADEML_FILES_ROOT": self.files,
        }.items():
            mp.setenv(key, str(value))
        mp.delenv("DB_URI", raising=False)
        self.env = dict(os.environ)

    def set_mapping(self, doc: dict, name: str = "minute") -> None:
        (self.configs / "files" / f"{name}.yml").write_text(yaml.safe_dump(doc))

    def write_bars(self, frame: pd.DataFrame, rel: str = "bars/minute.csv") -> Path:
        path = self.files / rel
        frame.to_csv(path, index=False)
        return path

    def trademl(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(TRADEML), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def ingest(self, start: str = JUNE[0], end: str = JUNE[1]) -> subprocess.CompletedProcess:
        return self.trademl("ingest", "--dataset", "equities_minute", "--start", start, "--end", end, "--symbols", ",".join(SYMBOLS))

    def ledger(self) -> pd.DataFrame:
        from trademl.data import control

        engine = control.make_engine(f"sqlite:///{self.root / 'data_layer' / 'control' / 'node.sqlite'}")
        try:
            return control.read_partition_status(engine, table_name=TABLE)
        finally:
            engine.dispose()

    def lake(self):
        from trademl.data.lake import Lake

        return Lake(self.root / "data_layer")

    def last_materialization_metadata(self) -> dict:
        from dagster._core.instance.ref import InstanceRef

        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.root / "dagster_home")))
        event = instance.get_latest_materialization_event(dg.AssetKey(TABLE.split("/")))
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


@pytest.fixture
def node(tmp_path, monkeypatch) -> FilesNode:
    return FilesNode(tmp_path, monkeypatch)


# ---------------------------------------------------------------------------------------------- naive timestamps
def test_naive_timestamps_without_a_timezone_fail_naming_the_file_the_column_and_the_fix(node):
    path = node.write_bars(ny_minute_bars(["2025-06-02", "2025-06-03", "2025-06-04"]))
    node.set_mapping(mapping())  # no timezone:
    proc = node.ingest()
    out = _out(proc)
    assert proc.returncode != 0, out
    assert str(path) in out and "column 'time'" in out and "timezone: America/New_York" in out
    assert node.lake().partitions(TABLE) == []  # nothing shifted was stored
    assert not (node.ledger()["status"] == "GREEN").any()


# ---------------------------------------------------------------------------------------------- large revisions
@pytest.fixture(scope="module")
def revised(tmp_path_factory):
    """Good bars ingested (mapping in New York time), then re-ingested through a mapping that
    names the wrong zone (UTC): 150 of each symbol's 390 bars per session land on other good bars
    (300 of the 780 rows of each partition), the other 240 fall outside regular hours."""
    with pytest.MonkeyPatch.context() as mp:
        node = FilesNode(tmp_path_factory.mktemp("revised"), mp)
        node.write_bars(ny_minute_bars(["2025-06-02", "2025-06-03", "2025-06-04"]))
        node.set_mapping(mapping(timezone="America/New_York"))
        first = node.ingest()
        assert first.returncode == 0 and "GREEN 3  AMBER 0  RED 0" in first.stdout, _out(first)
        good = node.lake().read(TABLE).to_pandas()
        node.set_mapping(mapping(timezone="UTC"))
        second = node.ingest()
        yield node, good, second


def test_a_reingest_that_revises_most_bars_of_a_green_session_is_recorded_amber_large_revision(revised):
    node, _, second = revised
    assert "GREEN 0  AMBER 3  RED 0" in second.stdout, _out(second)
    ledger = node.ledger()
    assert set(ledger["status"]) == {"AMBER"} and set(ledger["qc_code"]) == {"LARGE_REVISION"}
    detail = [json.loads(d) for d in ledger["detail"]]
    assert {(d["revised_rows"], d["previous_rows"], d["previous_version"], d["version"]) for d in detail} == {(300, 780, 1, 2)}
    assert {round(d["revised_frac"], 4) for d in detail} == {round(150 / 390, 4)}


def test_the_large_revision_share_is_in_the_run_metadata_and_the_log(revised):
    node, _, second = revised
    meta = node.last_materialization_metadata()
    assert set(meta["large_revisions"]) == {"2025-06-02", "2025-06-03", "2025-06-04"}
    assert {round(r["revised_frac"], 4) for r in meta["large_revisions"].values()} == {round(150 / 390, 4)}
    assert "revised 300 of 780 stored rows (38.5%)" in second.stderr


def test_the_previous_version_stays_readable_through_the_library_and_the_cli(revised, tmp_path):
    node, good, _ = revised
    day = dt.date(2025, 6, 3)
    lake = node.lake()
    good_day = good[good["date"] == day].reset_index(drop=True)
    v1 = lake.read(TABLE, start=day, version=1).to_pandas()
    assert v1[["symbol", "ts", "close"]].equals(good_day[["symbol", "ts", "close"]])
    assert not lake.read(TABLE, start=day).to_pandas()[["symbol", "ts", "close"]].equals(good_day[["symbol", "ts", "close"]])

    listing = node.trademl("lake", "versions", "--table", TABLE, "--partition", "2025-06-03")
    assert listing.returncode == 0, _out(listing)
    lines = listing.stdout.splitlines()
    assert any(line.split()[0] == "1" for line in lines[2:]) and "LARGE_REVISION (pending)" in listing.stdout
    assert "300/780 of v1 (38.5%)" in listing.stdout

    out = tmp_path / "v1.parquet"
    export = node.trademl("lake", "read", "--table", TABLE, "--partition", "2025-06-03", "--version", "1", "--out", str(out),
                          "--allow-outside")
    assert export.returncode == 0, _out(export)
    exported = pd.read_parquet(out)
    assert exported[["symbol", "close"]].equals(good_day[["symbol", "close"]])


# ---------------------------------------------------------------------------------------------- rows not stored
@pytest.fixture(scope="module")
def with_extra_rows(tmp_path_factory):
    """Window 2025-06-17..20 (Juneteenth, 06-19, is a holiday). The file also holds 30 pre-market bars
    per session, a full day of bars on the holiday and bars on 06-16 and 06-23 (outside the window)."""
    with pytest.MonkeyPatch.context() as mp:
        node = FilesNode(tmp_path_factory.mktemp("extra"), mp)
        sessions = ["2025-06-17", "2025-06-18", "2025-06-20"]
        frame = pd.concat([
            ny_minute_bars(sessions, first="09:00", last="15:59"),
            ny_minute_bars(["2025-06-19"]),
            ny_minute_bars(["2025-06-16", "2025-06-23"]),
        ], ignore_index=True)
        node.write_bars(frame)
        node.set_mapping(mapping(timezone="America/New_York"))
        proc = node.ingest("2025-06-17", "2025-06-20")
        yield node, proc


def test_rows_outside_regular_hours_on_non_sessions_and_outside_the_window_are_counted_in_the_run_metadata(with_extra_rows):
    node, proc = with_extra_rows
    assert proc.returncode == 0 and "GREEN 3  AMBER 0  RED 0" in proc.stdout, _out(proc)
    not_stored = node.last_materialization_metadata()["not_stored"]
    per_session = 30 * len(SYMBOLS)
    assert not_stored["outside_regular_hours"]["by_date"] == dict.fromkeys(["2025-06-17", "2025-06-18", "2025-06-20"], per_session)
    assert not_stored["non_session"]["by_date"] == {"2025-06-19": 390 * len(SYMBOLS)}
    assert not_stored["outside_window"] == {"rows": 2 * 390 * len(SYMBOLS), "dates": 2, "first": "2025-06-16", "last": "2025-06-23"}


def test_rows_not_stored_are_reported_in_one_log_line(with_extra_rows):
    _, proc = with_extra_rows
    lines = [json.loads(line) for line in proc.stderr.splitlines() if "not stored" in line and line.startswith("{")]
    assert len(lines) == 1, proc.stderr
    assert lines[0]["level"] == "WARNING"
    assert "180 bars outside regular hours (3 dates)" in lines[0]["msg"]
    assert "780 rows on non-sessions (1 dates)" in lines[0]["msg"]
    assert "1560 rows outside the requested window (2 dates)" in lines[0]["msg"]


# ---------------------------------------------------------------------------------------------- missing files
def test_a_mapping_whose_file_is_missing_fails_the_ingest_naming_the_path(node):
    path = node.write_bars(ny_minute_bars(["2025-06-02", "2025-06-03", "2025-06-04"]))
    node.set_mapping(mapping(timezone="America/New_York"))
    assert node.ingest().returncode == 0
    path.unlink()
    proc = node.ingest()
    out = _out(proc)
    assert proc.returncode != 0, out
    assert str(path) in out
    assert "files: files:" not in out

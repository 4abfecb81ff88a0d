"""`trademl files check` and the one-market rule, driven through the real console script from a tmp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TRADEML = Path(sys.executable).with_name("trademl")
CSV = """ticker,day,open,high,low,close,volume
ACME,2024-01-02,10.00,10.40,9.90,10.20,120000
ACME,2024-01-03,10.20,10.30,9.80,9.90,98000
BOLT,2024-01-02,55.10,56.00,54.80,55.90,40100
BOLT,2024-01-03,55.90,56.20,55.00,55.20,38800
"""
MAPPING = {
    "dataset": "equities_eod",
    "path": "bars.csv",
    "columns": {"symbol": "ticker", "date": "day", "open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"},
}


@pytest.fixture
def user(tmp_path: Path) -> dict:
    """A user's folder (CSV + mapping), a fresh data root, and an environment pointing at them."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "bars.csv").write_text(CSV)
    (mine / "my_bars.yml").write_text(yaml.safe_dump(MAPPING))
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEML_", "DB_URI"))}
    env.update(TRADEML_FILES_MAPPINGS=str(mine), TRADEML_DATA_ROOT=str(tmp_path / "lake"), DAGSTER_HOME=str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return {"env": env, "cwd": cwd, "lake": tmp_path / "lake"}


def _trademl(user: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TRADEML), *args], cwd=user["cwd"], env=user["env"], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def _synthetic_lake(user: dict) -> None:
    user["lake"].mkdir()
    (user["lake"] / "market.json").write_text(json.dumps({"market": "synthetic", "first_source": "synthetic"}))


INGEST = ("ingest", "--vendor", "files", "--dataset", "equities_eod", "--start", "2024-01-02", "--end", "2024-01-03", "--symbols", "ACME,BOLT")


def test_files_check_reports_symbols_and_range(user):
    proc = _trademl(user, "files", "check", "my_bars")
    assert proc.returncode == 0, proc.stderr
    assert "symbols: 2 (ACME, BOLT)" in proc.stdout
    assert "sessions: 2024-01-02..2024-01-03 (2 sessions)" in proc.stdout
    assert "rows: 4 would be ingested into raw/equities_bars" in proc.stdout and "problems: none" in proc.stdout


def test_files_check_of_an_unknown_mapping_is_one_line_exit_2(user):
    proc = _trademl(user, "files", "check", "sp500_daily_alphavantage")  # a shipped mapping, replaced by the user's folder
    assert proc.returncode == 2
    assert proc.stderr.startswith("trademl: error: no files mapping 'sp500_daily_alphavantage'") and "mappings there: my_bars" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_ingesting_files_into_a_synthetic_lake_is_refused(user):
    _synthetic_lake(user)
    proc = _trademl(user, *INGEST)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"trademl: error: data root {user['lake']} holds the embedded synthetic market")
    assert "use another TRADEML_DATA_ROOT" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (user["lake"] / "raw").exists()


def test_force_market_allows_mixing(user):
    _synthetic_lake(user)
    proc = _trademl(user, *INGEST, "--force-market")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "raw/equities_bars: GREEN 2  AMBER 0  RED 0" in proc.stdout
    marker = json.loads((user["lake"] / "market.json").read_text())
    assert marker["market"] == "synthetic" and [f["source"] for f in marker["forced"]] == ["files"]

"""A newcomer's CLI (issue 10): every RED names its cause, `symbols` lists what a vendor serves,
`audit gaps` without dates checks the lake's range, `status` keeps sessions and symbol-sessions apart.

Each behaviour drives the real `trademl` console script in a subprocess from a directory that is
not the checkout, on the isolated `node` (6-symbol synthetic market, outages off); setup that is
not under test runs in-process through `trademl_jobs.cli.main`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from trademl import calendar
from trademl_jobs.cli import main

TRADEML = Path(sys.executable).with_name("trademl")
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(node, tmp_path):
    """`trademl *argv` from tmp_path/elsewhere (not the checkout) with the node's environment."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(TRADEML), *argv], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=300)

    return _run


def test_ingest_of_symbols_the_vendor_does_not_list_names_the_range_code_vendor_and_reason(run):
    proc = run("ingest", "--dataset", "equities_eod", "--start", "2024-01-02", "--end", "2024-01-05", "--symbols", "AAPL,MSFT")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ("2024-01-02..2024-01-05: NO_DATA from synthetic for AAPL, MSFT (UNKNOWN_SYMBOL: not in the synthetic universe; "
            "its symbols are SYN001..SYN006, see `trademl symbols`)") in proc.stdout
    assert "see the UI" not in proc.stdout


def test_files_ingest_past_the_end_of_the_file_names_the_sessions_and_what_the_files_hold(run, tmp_path):
    configs, files = tmp_path / "configs", tmp_path / "files"
    shutil.copytree(REPO_ROOT / "configs", configs)
    shutil.rmtree(configs / "files")
    (configs / "files").mkdir()
    files.mkdir()
    (configs / "files" / "eod.yml").write_text(yaml.safe_dump({
        "dataset": "equities_eod", "path": "eod.csv",
        "columns": {"symbol": "ticker", "date": "day", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"},
    }))
    days = calendar.sessions("2024-03-25", "2024-03-28").strftime("%Y-%m-%d")
    pd.DataFrame({"ticker": "AAPL", "day": days, "o": 10.0, "h": 11.0, "l": 9.0, "c": 10.5, "v": 100}).to_csv(files / "eod.csv", index=False)
    env = {"TRADEML_CONFIG_DIR": str(configs), "TRADEML_FILES_ROOT": str(files), "TRADEML_VENDOR": "files"}
    proc = run("ingest", "--dataset", "equities_eod", "--start", "2024-03-27", "--end", "2024-04-02", "--symbols", "AAPL", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2024-04-01..2024-04-02: NO_DATA from files for AAPL (" in proc.stdout
    assert "the files hold AAPL: 2024-03-25..2024-03-28 (see `trademl symbols --vendor files`)" in proc.stdout


def test_backfill_run_names_why_a_task_stays_red(node, run):
    from trademl.data import control

    engine = control.control_engine(node["db_uri"])
    control.enqueue_tasks(engine, [{"dataset": "equities_eod", "symbol": None, "start_date": dt.date(2017, 12, 27),
                                    "end_date": dt.date(2018, 1, 2), "kind": "GAP", "vendor": "synthetic"}])
    proc = run("backfill", "run", "--max-tasks", "1")
    assert "still RED in raw/equities_bars:" in proc.stdout, proc.stdout + proc.stderr
    assert ("  2017-12-27..2017-12-29: NO_DATA from synthetic (BEFORE_HISTORY: the synthetic market's history starts 2018-01-02)"
            in proc.stdout)


def test_symbols_lists_the_synthetic_universe_on_a_date(run):
    proc = run("symbols", "--asof", "2024-03-28", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["vendor"] == "synthetic" and doc["asof"] == "2024-03-28"
    assert doc["symbols"][0] == "SYN001" and set(doc["symbols"]) <= {f"SYN00{i}" for i in range(1, 7)}


def test_symbols_of_an_http_vendor_without_a_stored_universe_is_one_line_saying_what_to_do(run):
    proc = run("symbols", "--vendor", "alpaca", "--asof", "2024-03-28")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "alpaca publishes no symbol listing" in proc.stderr and "Traceback" not in proc.stderr


def test_audit_gaps_without_dates_audits_the_lake_range_says_so_and_dry_run_writes_nothing(node, run, capsys):
    from trademl.data import control

    assert main(["ingest", "--dataset", "equities_eod", "--start", "2024-01-02", "--end", "2024-01-05"]) == 0
    engine = control.control_engine(node["db_uri"])
    before = control.read_partition_status(engine)
    proc = run("audit", "gaps", "--tables", "raw/equities_bars,reference/universe", "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("auditing raw/equities_bars over 2024-01-02..2024-01-05 (the range in the lake; pass --start/--end to plan beyond it)"
            in proc.stdout)
    assert "reference/universe: nothing stored; skipped" in proc.stdout
    assert "(dry run: nothing written): would queue 0 new GAP task(s)" in proc.stdout
    assert control.read_queue(engine).empty
    after = control.read_partition_status(engine)
    assert after["last_observed_at"].tolist() == before["last_observed_at"].tolist()


def test_status_reports_sessions_and_symbol_sessions_apart_with_span_and_sources(node, run, capsys):
    assert main(["ingest", "--dataset", "equities_eod", "--start", "2024-01-02", "--end", "2024-01-05", "--symbols", "SYN001,SYN002"]) == 0
    proc = run("status")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("raw/equities_bars"))
    assert line.split() == ["raw/equities_bars", "2024-01-02..2024-01-05", "4", "0", "0", "8", "0", "0", "synthetic"]
    doc = json.loads(run("status", "--json").stdout)["details"]["raw/equities_bars"]
    assert (doc["sessions"]["GREEN"], doc["symbol_sessions"]["GREEN"], doc["sources"]) == (4, 8, ["synthetic"])


def test_status_of_one_symbol_lists_its_sessions_as_ranges_with_their_codes(node, run, capsys):
    assert main(["ingest", "--dataset", "equities_eod", "--start", "2017-12-28", "--end", "2018-01-03", "--symbols", "SYN001"]) == 1
    proc = run("status", "--table", "equities_eod", "--symbol", "SYN001")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "raw/equities_bars SYN001: 2017-12-28..2018-01-03, GREEN 2, AMBER 0, RED 2 (sessions)"
    assert lines[1].startswith("  2017-12-28..2017-12-29 (2 sessions): RED NO_DATA from synthetic")
    assert "BEFORE_HISTORY" in lines[1]
    assert lines[2] == "  2018-01-02..2018-01-03 (2 sessions): GREEN OK from synthetic"

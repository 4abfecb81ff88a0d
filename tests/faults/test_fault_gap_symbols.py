"""A GAP task re-fetches only the symbols that were RED, not the whole universe (issue 8.3).

Real `trademl` subprocesses on an isolated node whose synthetic vendor has an outage: the ingest
leaves some symbols of some sessions RED, `trademl audit gaps` plans a GAP task, `trademl backfill
run` runs it. The run must ask the vendor for the RED symbols only, and the lake must end up with
the symbols the node had, not every symbol the vendor lists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from trademl.data import control
from trademl.config import REPO_ROOT, settings
from trademl.data.lake import Lake

TRADEML = Path(sys.executable).with_name("trademl")
CLI_TASK_TAG = "trademl/cli_task_id"


def _trademl(*argv: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(TRADEML), *argv], env=dict(os.environ), capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: an ingest that left RED sessions
    return proc


def _outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outage: dict) -> None:
    """configs/ copied with one synthetic outage (env/local/synthetic.yml), outages on."""
    configs = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", configs)
    (configs / "env" / "local").mkdir(parents=True, exist_ok=True)
    (configs / "env" / "local" / "synthetic.yml").write_text(yaml.safe_dump({"outages": [outage]}))
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    monkeypatch.setenv("TRADEML_ENV", "local")
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "on")


def _gap_run(node) -> tuple[dict, dg.DagsterRun]:
    """The one GAP task in the queue and the Dagster run `backfill run` executed for it."""
    engine = control.make_engine(settings().db_uri)
    (task,) = control.read_queue(engine, kind="GAP").to_dict("records")
    instance = dg.DagsterInstance.from_config(str(node["dagster_home"]))
    (run,) = instance.get_runs(filters=dg.RunsFilter(tags={CLI_TASK_TAG: str(task["id"])}))
    return task, run


def _requested_symbols(run: dg.DagsterRun) -> list[str] | None:
    ops = (run.run_config or {}).get("ops", {})
    return ops.get("raw__equities_bars", {}).get("config", {}).get("symbols") if ops else None


def test_gap_after_a_symbol_subset_ingest_refetches_only_the_symbols_that_were_red(node, tmp_path, monkeypatch):
    _outage(tmp_path, monkeypatch, {"name": "eod-outage", "datasets": ["equities_eod"], "start": "2025-04-14",
                                    "end": "2025-04-16", "failures": 1, "mode": "omit"})
    _trademl("ingest", "--dataset", "equities_eod", "--start", "2025-04-10", "--end", "2025-04-17", "--symbols", "SYN001,SYN002")
    _trademl("audit", "gaps", "--tables", "equities_eod", "--start", "2025-04-10", "--end", "2025-04-17")
    out = _trademl("backfill", "run").stdout
    assert "1 DONE" in out, out

    task, run = _gap_run(node)
    assert (str(task["start_date"]), str(task["end_date"]), task["status"]) == ("2025-04-14", "2025-04-17", "DONE")
    assert _requested_symbols(run) == ["SYN001", "SYN002"]
    stored = Lake(node["data_root"]).read("raw/equities_bars", start="2025-04-14", end="2025-04-16", columns=["date", "symbol"])
    assert sorted(set(stored.column("symbol").to_pylist())) == ["SYN001", "SYN002"]  # not the vendor's 6 symbols
    ledger = control.read_partition_status(control.make_engine(settings().db_uri), table_name="raw/equities_bars")
    assert ledger["symbol"].notna().all() and set(ledger["status"]) == {"GREEN"}


def test_gap_for_a_session_red_for_most_symbols_refetches_only_those_symbols(node, tmp_path, monkeypatch):
    red = ["SYN001", "SYN002", "SYN003", "SYN004"]  # 4 of 6: above whole_session_red_frac, one symbol-less task
    _outage(tmp_path, monkeypatch, {"name": "partial-outage", "datasets": ["equities_eod"], "sessions": ["2025-03-05"],
                                    "symbols": red, "failures": 1, "mode": "omit"})
    from trademl_jobs.runner import dagster_instance, materialize_range

    assert materialize_range(dagster_instance(), ["universe"], "2025-03-03", "2025-03-07").success
    _trademl("ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-07")
    _trademl("audit", "gaps", "--tables", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-07")
    out = _trademl("backfill", "run").stdout
    assert "1 DONE" in out, out

    task, run = _gap_run(node)
    assert (task["symbol"], str(task["start_date"]), str(task["end_date"])) == (None, "2025-03-05", "2025-03-06")
    assert _requested_symbols(run) == red  # SYN005 and SYN006 were GREEN: not fetched again
    ledger = control.read_partition_status(control.make_engine(settings().db_uri), table_name="raw/equities_bars",
                                           start="2025-03-05", end="2025-03-05")
    assert len(ledger) == 6 and set(ledger["status"]) == {"GREEN"}

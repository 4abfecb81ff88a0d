"""End to end through Dagster: a vendor outage leaves sessions RED, audit plans GAP tasks, the queue heals them.

Runs on the embedded synthetic market with one configured outage, on a real temporary Dagster
instance, lake and control db; every materialization is one single run over the range.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.event_log.base import PartitionKeyFilter  # not re-exported by dagster 1.13

from trademl import calendar

from trademl.data import backfill, control
from trademl.config import REPO_ROOT
from trademl.data.lake import Lake
from trademl_jobs.runner import check_evaluations, execute_tasks, materialize_range
from trademl.data.control import control_engine as _engine

pytestmark = pytest.mark.slow
FIRST, LAST = "2025-03-03", "2025-03-14"
OUTAGE = ("2025-03-06", "2025-03-07")
BARS = dg.AssetKey(["raw", "equities_bars"])


@pytest.fixture
def outage_node(node, tmp_path, monkeypatch):
    """The node with configs/ copied and one equities_eod outage (first request fails) planted."""
    configs = tmp_path / "configs"
    shutil.copytree(REPO_ROOT / "configs", configs)
    doc = yaml.safe_load((configs / "synthetic.yml").read_text()) or {}
    doc["outages"] = [
        {"name": "e2e-eod-outage", "datasets": ["equities_eod"], "start": OUTAGE[0], "end": OUTAGE[1], "failures": 1}
    ]
    (configs / "synthetic.yml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("TRADEML_CONFIG_DIR", str(configs))
    monkeypatch.setenv("TRADEML_SYNTHETIC_OUTAGES", "on")
    return node


@pytest.fixture
def instance(outage_node):
    with dg.instance_for_test() as inst:
        yield inst


def _check_evaluations(instance, run_id: str) -> dict[str, object]:
    return check_evaluations(instance, run_id, BARS)


def _lake_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def _sessions() -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in calendar.sessions(FIRST, LAST)]


def test_outage_sessions_get_red_check_evaluations_and_others_green(instance):
    run = materialize_range(instance, ["universe", "equities_eod"], FIRST, LAST)
    evals = _check_evaluations(instance, run.run_id)
    assert sorted(evals) == _sessions()  # one evaluation per session, not one per run
    red = sorted(pk for pk, ev in evals.items() if not ev.passed)
    assert red == list(OUTAGE)
    assert all(evals[pk].severity == dg.AssetCheckSeverity.ERROR for pk in red)
    green = evals[FIRST]
    assert green.passed and green.metadata["status"].value == "GREEN"
    assert green.metadata["row_count"].value == green.metadata["expected_rows"].value > 0
    assert "VENDOR_OUTAGE" in evals[OUTAGE[0]].metadata["qc_codes"].value


def test_instance_holds_one_check_result_per_session(instance):
    materialize_range(instance, ["universe", "equities_eod"], FIRST, LAST)
    check_key = dg.AssetCheckKey(BARS, "qc_coverage")
    for pk in (FIRST, OUTAGE[0]):
        execution = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [check_key], partition_filter=PartitionKeyFilter(key=pk)
        )[check_key]
        evaluation = execution.event.dagster_event.event_specific_data
        assert evaluation.partition == pk
        assert evaluation.passed is (pk == FIRST)


def test_audit_gap_queue_recovers_outage_to_green_and_rerun_changes_nothing(instance, outage_node):
    engine = _engine(outage_node["db_uri"])
    lake = Lake(outage_node["data_root"])
    materialize_range(instance, ["universe", "equities_eod"], FIRST, LAST)

    report = backfill.audit_scan(["raw/equities_bars"], engine=engine, lake=lake, start=FIRST, end=LAST)
    queue = control.read_queue(engine, status="PENDING")
    assert len(queue) == 1, report
    task = queue.iloc[0]
    assert (task.kind, str(task.start_date), str(task.end_date)) == ("GAP", OUTAGE[0], "2025-03-10")

    done = backfill.backfill_run(None, engine=engine, execute=execute_tasks(instance, "e2e"), owner="e2e")
    assert control.queue_counts(engine) == {"PENDING": 0, "LEASED": 0, "DONE": 1, "FAILED": 0}, str(done)
    counts = control.status_counts(engine)["raw/equities_bars"]
    assert counts["RED"] == 0 and counts["GREEN"] > 0

    digest, status_rows = _lake_digest(outage_node["data_root"]), len(control.read_partition_status(engine))
    rerun = materialize_range(instance, ["universe", "equities_eod"], FIRST, LAST)
    assert rerun.success
    backfill.audit_scan(["raw/equities_bars"], engine=engine, lake=lake, start=FIRST, end=LAST)
    assert _lake_digest(outage_node["data_root"]) == digest
    assert len(control.read_partition_status(engine)) == status_rows
    assert control.queue_counts(engine) == {"PENDING": 0, "LEASED": 0, "DONE": 1, "FAILED": 0}

"""CLI and vendor edge cases (issue 8.5): no invented future bars, reasons instead of "see the UI",
one-line errors for bad input, and an automation switch for the daemon.

Every CLI case runs the real `trademl` console script as a subprocess on an isolated node (the
`node` fixture: own lake, control db and DAGSTER_HOME, a 6-symbol synthetic market).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trademl import calendar
from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector

TRADEML = Path(sys.executable).with_name("trademl")


def trademl(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TRADEML), *argv], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env or dict(os.environ), timeout=300
    )


def lake_files(node: dict[str, Path]) -> list[Path]:
    raw = node["data_root"] / "raw"
    return sorted(p for p in raw.rglob("*") if p.is_file()) if raw.exists() else []


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("trademl: error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


# ------------------------------------------------------------------------------------- future sessions
def test_ingest_reaching_past_the_latest_completed_session_is_rejected_and_stores_nothing(node):
    latest = calendar.latest_completed_session()
    later = calendar.next_session(latest, 3).date()
    proc = trademl("ingest", "--dataset", "equities_eod", "--start", str(calendar.previous_session(latest).date()), "--end", str(later))
    line = one_error_line(proc)
    assert f"latest completed XNYS session {latest}" in line
    assert str(calendar.next_session(latest).date()) in line  # names the first session that has not happened
    assert lake_files(node) == []


def test_audit_past_the_latest_completed_session_is_rejected(node):
    later = calendar.next_session(calendar.latest_completed_session(), 5).date()
    line = one_error_line(trademl("audit", "gaps", "--tables", "equities_eod", "--end", str(later)))
    assert "not closed yet" in line


def test_synthetic_market_never_produces_a_session_that_has_not_closed():
    config = SyntheticConfig(n_symbols=5)
    # the market publishes a session `publication_lag_minutes` after its close, not at the close itself
    latest = calendar.latest_completed_session(lag_minutes=config.publication_lag_minutes)
    start, end = calendar.previous_session(latest, 2).date(), calendar.next_session(latest, 4).date()
    result = SyntheticConnector(config).fetch(FetchRequest("equities_eod", start, end))
    dates = pd.to_datetime(result.to_pandas()["date"]).dt.date
    assert dates.max() == latest and dates.min() == start
    unhappened = [d.date().isoformat() for d in calendar.sessions(calendar.next_session(latest), end)]
    assert sorted(result.failed_sessions) == unhappened
    assert all(r.startswith("NOT_PUBLISHED: ") for r in result.failed_sessions.values())


def test_synthetic_market_with_a_configured_end_stops_there():
    end = dt.date(2024, 6, 14)
    connector = SyntheticConnector(SyntheticConfig(n_symbols=5, end=end))
    result = connector.fetch(FetchRequest("equities_minute", dt.date(2024, 6, 13), dt.date(2024, 6, 18)))
    sessions = set(pd.to_datetime(result.to_pandas()["ts"]).dt.tz_convert(calendar.EXCHANGE_TZ).dt.date)
    assert sessions == {dt.date(2024, 6, 13), end}
    assert sorted(result.failed_sessions) == ["2024-06-17", "2024-06-18"]


# ------------------------------------------------------------------------------------- reasons, not "see the UI"
def test_unknown_symbol_fails_naming_the_symbol_and_the_vendor_reason(node):
    proc = trademl("ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-04", "--symbols", "ZZZZ")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_line = next(line for line in proc.stdout.splitlines() if line.startswith("run "))
    assert "UNKNOWN_SYMBOL" in run_line and "ZZZZ" in run_line and "2025-03-03..2025-03-04" in run_line
    assert "see the UI" not in proc.stdout


def test_unknown_symbol_beside_known_ones_is_named_and_the_known_ones_are_stored(node):
    proc = trademl("ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-04", "--symbols", "SYN001,ZZZZ")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_line = next(line for line in proc.stdout.splitlines() if line.startswith("run "))
    assert "2025-03-03..2025-03-04: nothing stored for ZZZZ (not listed by synthetic on 2025-03-04" in run_line
    assert "GREEN 2" in proc.stdout  # SYN001 was stored and is complete


def test_range_before_the_vendor_history_fails_saying_where_history_starts(node):
    proc = trademl("ingest", "--dataset", "equities_eod", "--start", "2017-12-27", "--end", "2018-01-03")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run_line = next(line for line in proc.stdout.splitlines() if line.startswith("run "))
    assert "2017-12-27..2017-12-29: NO_DATA from synthetic (BEFORE_HISTORY: the synthetic market's history starts 2018-01-02)" in run_line
    assert "GREEN 2" in proc.stdout and "RED 3" in proc.stdout


def test_cli_output_carries_no_dagster_beta_or_preview_warnings(node):
    proc = trademl("ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-04")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ""


# ------------------------------------------------------------------------------------- bad input, one line
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["backfill", "run", "--budget", "nosuch=5"], "unknown vendor 'nosuch'; known vendors: "),
        (["backfill", "run", "--max-tasks", "x"], "--max-tasks: expected a whole number >= 1, got 'x'"),
        (["backfill", "run", "--max-tasks", "0"], "--max-tasks: expected a whole number >= 1, got '0'"),
        (["backfill", "run", "--max-tasks", "-1"], "--max-tasks: expected a whole number >= 1, got '-1'"),
        (["--log-level", "LOUD", "status"], "unknown log level 'LOUD'; choose one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        (["ingest", "--dataset", "equities_eod"], "the following arguments are required: --start, --end"),
    ],
)
def test_bad_cli_input_is_one_line_exit_2(node, argv, says):
    assert says in one_error_line(trademl(*argv))


def test_bad_log_level_from_the_environment_is_one_line(node):
    env = {**os.environ, "TRADEML_LOG_LEVEL": "chatty"}
    assert "unknown log level 'chatty'" in one_error_line(trademl("status", env=env))


# ------------------------------------------------------------------------------------- automation switch
_DEFAULT_STATUSES = (
    "import json, trademl_jobs.definitions as d;"
    "print(json.dumps({**{s.name: s.default_status.value for s in d.defs().sensors},"
    " **{s.name: s.default_status.value for s in d.defs().schedules}}))"
)


def _default_statuses(automation: str | None) -> dict[str, str]:
    import json

    env = {k: v for k, v in os.environ.items() if k != "TRADEML_AUTOMATION"}
    if automation is not None:
        env["TRADEML_AUTOMATION"] = automation
    proc = subprocess.run([sys.executable, "-c", _DEFAULT_STATUSES], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_schedules_and_sensors_start_running_by_default():
    statuses = _default_statuses(None)
    assert {"queue_worker_sensor", "forward_ingest_schedule", "planner_light_schedule"} <= set(statuses)
    # the alert sensor starts RUNNING only when configs/alerts.yml enables a channel (none is, as shipped)
    assert statuses.pop("check_alerts") == "STOPPED"
    assert set(statuses.values()) == {"RUNNING"}


def test_automation_off_starts_every_schedule_and_sensor_stopped_but_the_reaper():
    statuses = _default_statuses("off")
    assert statuses.pop("run_health_sensor") == "RUNNING"
    assert statuses and set(statuses.values()) == {"STOPPED"}, statuses


def test_automation_setting_other_than_on_or_off_is_rejected(monkeypatch):
    from trademl_jobs.automation import automation_on

    monkeypatch.setenv("TRADEML_AUTOMATION", "maybe")
    with pytest.raises(ValueError, match="TRADEML_AUTOMATION must be 'on' or 'off', got 'maybe'"):
        automation_on()


def test_explicit_automation_setting_wins_over_the_environment(monkeypatch):
    from trademl_jobs.automation import automation_on

    monkeypatch.setenv("TRADEML_AUTOMATION", "on")
    assert automation_on("off") is False
    with pytest.raises(ValueError, match="--automation must be 'on' or 'off', got 'later'"):
        automation_on("later")

"""The `trademl` console script: user errors are one line and exit 2; status prints the documented JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trademl_jobs.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["audit", "gaps", "--tables", "raw/nope"], "unknown table 'raw/nope'"),
        (["audit", "gaps", "--tables", "equities_eod", "--start", "2025-13-01"], "--start '2025-13-01' is not a date"),
        (["audit", "gaps", "--tables", "equities_eod", "--start", "2025-03-05", "--end", "2025-03-01"], "is before --start"),
        (["ingest", "--dataset", "bananas", "--start", "2025-03-03", "--end", "2025-03-04"], "unknown dataset 'bananas'"),
        (["ingest", "--dataset", "equities_eod", "--start", "2025-03-08", "--end", "2025-03-09"], "no XNYS session"),
        (["ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-04", "--vendor", "acme"], "unknown vendor 'acme'"),
        (["ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-04", "--symbols", "$$$"], "symbol"),
        (["backfill", "run", "--budget", "synthetic=lots"], "must look like vendor=N"),
    ],
)
def test_bad_input_is_an_error_message_not_a_traceback(node, capsys, argv, message):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("trademl: error: ")
    assert message in err
    assert "Traceback" not in err


def test_status_json_has_the_documented_shape_on_an_empty_node(node, capsys):
    from trademl.data.control import control_engine

    control_engine(node["db_uri"])  # a node whose control db exists and holds nothing
    assert main(["status", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload == {"tables": {}, "details": {}, "queue": {"PENDING": 0, "LEASED": 0, "DONE": 0, "FAILED": 0}, "leases": []}


def test_ingest_prints_colour_counts_of_the_range(node, capsys):
    code = main(["ingest", "--dataset", "equities_eod", "--start", "2025-03-03", "--end", "2025-03-07"])
    out = capsys.readouterr().out
    assert code == 0
    assert "raw/equities_bars: GREEN 5  AMBER 0  RED 0" in out
    main(["status", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert payload["tables"]["raw/equities_bars"] == {"GREEN": 6 * 5, "AMBER": 0, "RED": 0}


def test_console_script_reports_unknown_table_without_traceback(node, tmp_path):
    exe = Path(sys.executable).with_name("trademl")
    proc = subprocess.run(
        [str(exe), "audit", "gaps", "--tables", "raw/unknown_table"],
        capture_output=True, text=True, env=dict(os.environ), timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "unknown table 'raw/unknown_table'" in proc.stderr
    assert "Traceback" not in proc.stderr

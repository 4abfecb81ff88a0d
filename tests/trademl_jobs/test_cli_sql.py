"""`trademl sql "<query>"`: read-only SQL over the lake views, as a table, CSV or Parquet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from trademl.config import settings
from trademl.data.lake import Lake
from trademl_jobs.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "lake"))
from lake_payloads import bars  # noqa: E402

BARS = "raw/equities_bars"
DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
SYMBOLS = ["AAA", "BBB", "CCC"]


@pytest.fixture
def stored(node) -> Lake:
    """The node's lake with four sessions of three symbols (12 rows), the second session revised once."""
    lake = Lake(settings().data_root)
    lake.write_partitions(BARS, bars(DATES, SYMBOLS, seed=5))
    lake.write_partition(BARS, DATES[1], bars([DATES[1]], SYMBOLS, seed=6))
    return lake


def _trademl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("trademl")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ), timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_sql_prints_the_query_result_as_a_table_from_any_directory(stored, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _trademl("sql", "SELECT symbol, count(*) AS sessions FROM raw.equities_bars GROUP BY symbol ORDER BY symbol",
                    cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["symbol", "sessions"]
    assert [line.split() for line in lines[1:4]] == [["AAA", "4"], ["BBB", "4"], ["CCC", "4"]]
    assert lines[4] == "(3 rows)"


def test_sql_with_a_bad_query_is_duckdbs_message_on_one_line_and_exit_2(stored, tmp_path):
    proc = _trademl("sql", "SELECT nope FROM raw.equities_bars", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith('trademl: error: Binder Error: Referenced column "nope" not found')
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_sql_caps_the_printed_rows_and_says_how_many_there_are(stored, capsys):
    assert main(["sql", "SELECT * FROM raw.equities_bars ORDER BY date, symbol", "--max-rows", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 5 + 1 and lines[1].split()[:2] == ["2024-01-02", "AAA"]
    assert lines[-1].startswith("(12 rows, showing the first 5;")


def test_sql_counts_the_latest_version_of_each_partition_only(stored, capsys):
    assert main(["sql", "SELECT count(*) AS n FROM raw.equities_bars"]) == 0
    assert capsys.readouterr().out.splitlines()[1].strip() == "12"


def test_sql_exports_every_row_to_parquet_under_the_data_roots_exports(stored, node, capsys):
    assert main(["sql", "SELECT date, symbol, close FROM raw.equities_bars", "--format", "parquet", "--out", "bars.parquet"]) == 0
    out = (node["data_root"] / "exports" / "bars.parquet").resolve()
    assert capsys.readouterr().out.strip() == f"wrote 12 rows to {out}"
    table = pq.read_table(out)
    assert table.num_rows == 12 and table.column_names == ["date", "symbol", "close"]


def test_sql_writes_csv_to_stdout_or_to_the_out_file_by_its_suffix(stored, tmp_path, capsys):
    assert main(["sql", "SELECT date, symbol FROM raw.equities_bars WHERE symbol = 'BBB' ORDER BY date", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ['"date","symbol"'] + [f'{d},"BBB"' for d in DATES]
    out = tmp_path / "bbb.csv"  # outside the data root: only with --allow-outside
    assert main(["sql", "SELECT * FROM raw.equities_bars WHERE symbol = 'BBB'", "--out", str(out), "--allow-outside"]) == 0
    assert len(out.read_text().splitlines()) == 1 + 4


def test_sql_refuses_an_out_file_outside_the_data_root_and_writes_nothing(stored, tmp_path, capsys):
    out = tmp_path / "elsewhere" / "bbb.csv"
    assert main(["sql", "SELECT * FROM raw.equities_bars", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "outside the data root" in err and "--allow-outside" in err and len(err.strip().splitlines()) == 1
    assert not out.parent.exists()


def test_sql_refuses_an_out_path_that_climbs_out_of_exports(stored, capsys):
    assert main(["sql", "SELECT 1 AS x", "--format", "csv", "--out", "../../escape.csv"]) == 2
    assert "outside the data root" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sql", "DROP VIEW raw.equities_bars"], "the lake views are read-only: only SELECT (or EXPLAIN) queries run, not DROP"),
        (["sql", "CREATE TABLE notes AS SELECT 1"], "read-only: only SELECT (or EXPLAIN) queries run, not CREATE"),
        (["sql", "SELECT * FROM bars"], "Table with name bars does not exist"),
        (["sql", "SELECT 1", "--format", "parquet"], "--format parquet needs --out FILE"),
        (["sql", "SELECT 1", "--out", "result.json"], "name a .csv or .parquet file"),
    ],
)
def test_sql_refusals_are_one_line_errors(stored, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("trademl: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_sql_on_an_empty_data_root_says_there_is_no_lake_there(node, capsys):
    assert main(["sql", "SELECT 1"]) == 2
    assert f"trademl: error: the lake at {node['data_root']} holds no table yet" in capsys.readouterr().err

"""`trademl lake versions|read|accept`: a partition's versions, an older version, accepting a revision."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from trademl.config import settings
from trademl.data.lake import Lake, RevisionGuard
from trademl_jobs.cli import main

TABLE = "raw/equities_bars"
DAY = "2025-03-03"


def _bars(close: float) -> pd.DataFrame:
    return pd.DataFrame({
        "date": [pd.Timestamp(DAY).date()] * 2, "symbol": ["AAA", "BBB"], "open": close, "high": close + 1,
        "low": close - 1, "close": close, "vwap": close, "volume": 100, "nbbo_spread": None, "trades": 5,
        "session_id": f"XNYS:{DAY}", "ingested_at": pd.Timestamp("2025-03-04", tz="UTC"), "source_name": "synthetic",
        "source_uri": "synthetic://bars", "vendor_ts": pd.Series([pd.NaT] * 2, dtype="datetime64[us, UTC]"),
        "api_version": "v1",
    })


@pytest.fixture
def revised(node) -> Lake:
    lake = Lake(settings().data_root)
    lake.write_partition(TABLE, DAY, _bars(10.0), vendor="synthetic")
    lake.write_partition(TABLE, DAY, _bars(20.0), vendor="synthetic", guard=RevisionGuard(0.1))
    return lake


def test_versions_lists_each_version_with_what_it_revised_and_its_review(revised, capsys):
    assert main(["lake", "versions", "--table", TABLE, "--partition", DAY]) == 0
    out = capsys.readouterr().out
    assert "2 version(s)" in out and "2/2 of v1 (100.0%)" in out and "LARGE_REVISION (pending)  latest" in out
    assert main(["lake", "versions", "--table", "equities_eod", "--partition", DAY, "--json"]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)] == [1, 2]


def test_read_prints_an_older_version_as_csv(revised, capsys):
    assert main(["lake", "read", "--table", TABLE, "--partition", DAY, "--version", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("date,symbol,open") and len(lines) == 3 and ",10.0," in lines[1]


def test_read_out_writes_under_the_data_roots_exports(revised, node, capsys):
    assert main(["lake", "read", "--table", TABLE, "--partition", DAY, "--version", "1", "--out", "v1.csv"]) == 0
    out = (node["data_root"] / "exports" / "v1.csv").resolve()
    assert capsys.readouterr().out.strip().endswith(f"to {out}")
    assert len(out.read_text().splitlines()) == 3


def test_read_out_outside_the_data_root_is_refused_without_allow_outside(revised, tmp_path, capsys):
    out = tmp_path / "v1.parquet"
    assert main(["lake", "read", "--table", TABLE, "--partition", DAY, "--out", str(out)]) == 2
    assert "outside the data root" in capsys.readouterr().err and not out.exists()
    assert main(["lake", "read", "--table", TABLE, "--partition", DAY, "--out", str(out), "--allow-outside"]) == 0
    assert out.exists()


def test_accept_clears_the_review_and_records_the_session_green(revised, capsys):
    assert main(["lake", "accept", "--table", TABLE, "--partition", DAY]) == 0
    assert "latest version accepted; now GREEN" in capsys.readouterr().out
    assert revised.pending_reviews(TABLE, [DAY]) == {}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["lake", "versions", "--table", "raw/nope", "--partition", DAY], "unknown table 'raw/nope'"),
        (["lake", "versions", "--table", TABLE, "--partition", "2025-03-04"], "has no stored version of partition 2025-03-04"),
        (["lake", "read", "--table", TABLE, "--partition", DAY, "--version", "7"], "has no version 7; versions: 1, 2"),
        (["lake", "read", "--table", TABLE, "--partition", DAY, "--out", "x.json"], "name a .parquet or .csv file"),
        (["lake", "versions", "--table", TABLE, "--partition", "03/03/2025"], "is not a date"),
    ],
)
def test_bad_lake_arguments_are_one_line_errors(revised, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("trademl: error: ") and message in err and "Traceback" not in err

"""Files mappings and `check_mapping`: the user mappings folder, the template, and what a check reports."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
import yaml

from trademl.config import REPO_ROOT
from trademl.data.connectors.files import FileMapping, check_mapping, find_mapping, load_mappings
from trademl.data.connectors.files.mapping import KEYS, read_mapping

BAR_COLUMNS = {"symbol": "ticker", "date": "day", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}


def _daily_csv(path, rows: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["ticker", "day"]).assign(o=10.0, h=11.0, l=9.0, c=10.5, v=1000)
    frame.to_csv(path, index=False)


def _write_mapping(folder, name: str, doc: dict) -> None:
    (folder / f"{name}.yml").write_text(yaml.safe_dump(doc))


def _daily(path: str = "bars.csv", **extra) -> dict:
    return {"dataset": "equities_eod", "path": path, "columns": BAR_COLUMNS, **extra}


def test_check_reports_symbols_range_and_rows_per_symbol(tmp_path):
    _daily_csv(tmp_path / "bars.csv", [("AAA", "2024-01-02"), ("AAA", "2024-01-03"), ("BBB", "2024-01-03"), ("BBB", "2024-01-04")])
    report = check_mapping(FileMapping.from_dict("m", _daily()), root=tmp_path)
    assert report.ok and report.table == "raw/equities_bars"
    assert report.files == {tmp_path / "bars.csv": 4}
    assert report.symbols == ["AAA", "BBB"]
    assert (report.first, report.last, report.sessions, report.rows) == (dt.date(2024, 1, 2), dt.date(2024, 1, 4), 3, 4)
    assert report.per_symbol.loc["BBB", "first"] == dt.date(2024, 1, 3)


def test_check_counts_rows_left_out_by_reason(tmp_path):
    _daily_csv(tmp_path / "bars.csv", [("AAA", "2024-01-02"), ("AAA", "2024-01-06")])  # a Saturday
    report = check_mapping(FileMapping.from_dict("m", _daily()), root=tmp_path)
    assert report.rows == 1 and report.left_out == {"non_session": {"2024-01-06": 1}}
    assert "left out: 1 rows non_session on 1 date(s) (2024-01-06)" in report.lines()


def test_check_lists_a_mapped_column_missing_from_the_file(tmp_path):
    _daily_csv(tmp_path / "bars.csv", [("AAA", "2024-01-02")])
    columns = {**BAR_COLUMNS, "volume": "vol"}
    report = check_mapping(FileMapping.from_dict("m", {**_daily(), "columns": columns}), root=tmp_path)
    assert not report.ok
    assert "mapped column(s) ['vol'] not in the file" in report.problems[0] and "ticker, day, o" in report.problems[0]


def test_check_lists_naive_minute_timestamps_without_a_timezone(tmp_path):
    frame = pd.DataFrame({"ticker": "AAA", "time": ["2024-01-02 09:30:00"], "o": 1.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 1})
    frame.to_csv(tmp_path / "m.csv", index=False)
    columns = {**{k: v for k, v in BAR_COLUMNS.items() if k != "date"}, "ts": "time"}
    report = check_mapping(FileMapping.from_dict("m", {"dataset": "equities_minute", "path": "m.csv", "columns": columns}), root=tmp_path)
    assert len(report.problems) == 1 and "timezone: America/New_York" in report.problems[0]


def test_check_lists_a_path_that_matches_no_file(tmp_path):
    report = check_mapping(FileMapping.from_dict("m", _daily("nowhere/*.csv")), root=tmp_path)
    assert report.files == {} and "no file matches" in report.problems[0] and "nowhere" in report.problems[0]


def test_user_mappings_folder_replaces_shipped_mappings(tmp_path, monkeypatch):
    _write_mapping(tmp_path, "mine", _daily())
    monkeypatch.setenv("TRADEML_FILES_MAPPINGS", str(tmp_path))
    assert [m.name for m in load_mappings()] == ["mine"]


def test_a_user_mappings_folder_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_FILES_MAPPINGS", str(tmp_path / "typo"))
    with pytest.raises(ValueError, match="TRADEML_FILES_MAPPINGS=.*typo is not a folder"):
        load_mappings()


def test_relative_paths_resolve_next_to_the_mapping_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TRADEML_FILES_ROOT", raising=False)
    _daily_csv(tmp_path / "bars.csv", [("AAA", "2024-01-02")])
    _write_mapping(tmp_path, "mine", _daily())
    report = check_mapping(read_mapping(tmp_path / "mine.yml"))
    assert report.ok and report.files == {tmp_path / "bars.csv": 1}


def test_an_unknown_mapping_key_is_rejected():
    with pytest.raises(ValueError, match=r"mapping 'm': unknown key\(s\) \['timezon'\]"):
        FileMapping.from_dict("m", _daily(timezon="UTC"))


def test_an_unknown_target_column_is_rejected():
    with pytest.raises(ValueError, match=r"equities_eod has no column\(s\) \['adj_close'\]"):
        FileMapping.from_dict("m", {**_daily(), "columns": {**BAR_COLUMNS, "adj_close": "ac"}})


def test_an_unknown_mapping_name_lists_the_mappings_there(tmp_path, monkeypatch):
    _write_mapping(tmp_path, "mine", _daily())
    monkeypatch.setenv("TRADEML_FILES_MAPPINGS", str(tmp_path))
    with pytest.raises(ValueError, match=r"no files mapping 'other' in .* \(mappings there: mine\)"):
        find_mapping("other")


def test_the_template_is_a_valid_mapping_documenting_every_key(tmp_path):
    template = (REPO_ROOT / "configs" / "files" / "TEMPLATE.yml.example").read_text()
    (tmp_path / "template.yml").write_text(template)
    assert read_mapping(tmp_path / "template.yml").dataset == "equities_eod"
    documented = set(re.findall(r"^#? ?([a-z_]+):", template, flags=re.M))
    assert set(KEYS) - {"paths"} <= documented


def test_the_template_is_not_loaded_as_a_mapping():
    assert "TEMPLATE" not in {m.name for m in load_mappings(REPO_ROOT / "configs" / "files")}

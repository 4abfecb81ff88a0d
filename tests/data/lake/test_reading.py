"""`trademl.read`: the notebook reading API (latest versions, symbol-then-time order, pandas out)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from lake_payloads import bars

import trademl
from trademl import calendar
from trademl.data.lake import EmptyLakeError, Lake
from trademl.data.reading import read
from trademl.features.indicators import compute_indicator_set, load_indicator_set
from trademl.labels import build_label

BARS = "raw/equities_bars"
SESSIONS = [d.strftime("%Y-%m-%d") for d in calendar.sessions("2024-01-02", "2024-02-29")]  # 40 sessions
SYMBOLS = ["CCC", "AAA", "BBB"]


@pytest.fixture
def filled(lake) -> Lake:
    """Two months of daily bars of three symbols, written partition by partition (session order)."""
    lake.write_partitions(BARS, bars(SESSIONS, SYMBOLS, seed=3))
    return lake


def test_read_sorts_rows_by_symbol_then_session(filled):
    got = read(BARS, root=filled.root, columns=["symbol", "date"])
    expected = got.sort_values(["symbol", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert got["symbol"].iloc[0] == "AAA" and got["symbol"].iloc[-1] == "CCC" and len(got) == 3 * len(SESSIONS)


def test_lake_read_in_partition_order_interleaves_symbols_which_the_indicators_refuse(filled):
    on_disk = filled.read(BARS).to_pandas()
    with pytest.raises(ValueError, match="are not contiguous"):
        compute_indicator_set(on_disk, load_indicator_set("minimal"))


def test_read_output_feeds_compute_indicator_set_directly(filled):
    frame = read(BARS, root=filled.root)
    features = compute_indicator_set(frame, load_indicator_set("minimal"))
    assert list(features.index) == list(frame.index)
    assert features.notna().all(axis=1).sum() == 3 * (len(SESSIONS) - 19)  # sma_20 needs 20 bars per symbol


def test_read_output_feeds_the_label_builders_directly(filled):
    frame = read(BARS, root=filled.root)
    labels = build_label("fwd_returns", frame)
    aaa = frame[frame["symbol"] == "AAA"]["close"].to_numpy()
    first = labels.loc[frame["symbol"] == "AAA", "ret_fwd_1d"].iloc[0]
    assert first == pytest.approx(aaa[1] / aaa[0] - 1.0)


def test_read_returns_only_the_latest_version_of_a_revised_partition(filled):
    revision = bars([SESSIONS[5]], SYMBOLS, seed=99)
    filled.write_partition(BARS, SESSIONS[5], revision)
    got = read(BARS, SESSIONS[5], SESSIONS[5], root=filled.root)
    assert len(got) == 3
    expected = revision.sort_values("symbol")["close"].to_numpy()
    np.testing.assert_allclose(got["close"].to_numpy(), expected)


def test_read_filters_sessions_symbols_and_columns(filled):
    got = read(BARS, SESSIONS[2], SESSIONS[4], symbols=["BBB", "AAA"], columns=["date", "symbol", "close"], root=filled.root)
    assert list(got.columns) == ["date", "symbol", "close"]
    assert got["symbol"].tolist() == ["AAA"] * 3 + ["BBB"] * 3
    assert got["date"].dt.strftime("%Y-%m-%d").tolist() == SESSIONS[2:5] * 2


def test_read_gives_session_dates_as_datetime64_and_instants_in_utc(filled):
    got = read(BARS, SESSIONS[0], SESSIONS[0], symbols="AAA", root=filled.root)
    assert got["date"].dtype == "datetime64[ns]" and got["date"].iloc[0] == pd.Timestamp(SESSIONS[0])
    assert str(got["ingested_at"].dt.tz) == "UTC"
    assert list(got.index) == [0]


def test_read_defaults_to_the_settings_data_root(filled, monkeypatch):
    monkeypatch.setenv("TRADEML_DATA_ROOT", filled.root)
    assert len(read("equities_eod", SESSIONS[0], SESSIONS[1])) == 6


def test_read_of_an_unknown_table_lists_the_known_tables(filled):
    with pytest.raises(ValueError, match=r"unknown table 'raw/bars'; known tables and datasets: .*raw/equities_bars"):
        read("raw/bars", root=filled.root)


def test_read_of_a_root_without_a_lake_is_a_one_line_empty_lake_error(tmp_path):
    with pytest.raises(EmptyLakeError) as info:
        read(BARS, root=tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message and f"the lake at {tmp_path / 'nowhere'} holds no table yet" in message
    assert "trademl demo" in message


def test_read_of_a_table_not_stored_in_a_filled_lake_is_an_empty_frame_with_its_columns(filled):
    got = read("reference/delistings", root=filled.root)
    assert got.empty and list(got.columns)[:3] == ["date", "symbol", "delist_date"]


def test_import_trademl_stays_light_and_read_is_loaded_on_first_use():
    code = (
        "import json, sys, trademl\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'duckdb', 'trademl.data') if m in sys.modules]\n"
        "from trademl import read\n"
        "print(json.dumps({'heavy': heavy, 'read': read.__module__}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"heavy": [], "read": "trademl.data.reading"}


def test_trademl_has_no_other_lazy_attribute():
    with pytest.raises(AttributeError, match="no attribute 'reed'"):
        trademl.reed  # noqa: B018

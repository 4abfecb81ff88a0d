"""The files connector on the shared real data slice, through trademl.data.ingest into a temporary lake + ledger."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.data import control
from trademl.data.connectors.base import FetchRequest, SourceConfigError
from trademl.data.connectors.files import FileMapping, FilesConnector
from trademl.data.lake import Lake

pytestmark = pytest.mark.realdata


@pytest.fixture
def node(tmp_path):
    pytest.importorskip("trademl.data.qc")
    lake = Lake(tmp_path / "lake")
    engine = control.make_engine(f"sqlite:///{tmp_path / 'control.sqlite'}")
    return lake, engine


@pytest.fixture
def files(real_data_dir):
    return FilesConnector(root=real_data_dir)


def _ingest(*args, **kwargs):
    from trademl.data.ingest import ingest

    return ingest(*args, **kwargs)


def test_complete_daily_bars_are_green(files, node):
    lake, engine = node
    report = _ingest("equities_eod", "2021-03-01", "2021-03-05", connector=files, lake=lake, engine=engine,
                     symbols=["AAPL", "MSFT", "JPM", "SPY"])
    assert report.colour_counts == {"GREEN": 5, "AMBER": 0, "RED": 0}
    stored = lake.read("raw/equities_bars", start=dt.date(2021, 3, 1), end=dt.date(2021, 3, 5)).to_pandas()
    assert len(stored) == 20
    aapl = stored[(stored["symbol"] == "AAPL") & (stored["date"] == dt.date(2021, 3, 1))].iloc[0]
    assert (aapl["open"], aapl["close"], aapl["volume"]) == (123.75, 127.79, 116307892)


def test_session_a_symbol_misses_in_the_file_is_not_green(files, node):
    lake, engine = node  # KIM has no row on 2006-05-25 in the Alpha Vantage file
    report = _ingest("equities_eod", "2006-05-24", "2006-05-26", connector=files, lake=lake, engine=engine, symbols=["KIM", "AAPL"])
    colours = {k: v.color for k, v in report.summaries.items()}
    assert colours["2006-05-24"] == "GREEN" and colours["2006-05-26"] == "GREEN"
    assert colours["2006-05-25"] != "GREEN"
    assert "MISSING_ROWS" in report.summaries["2006-05-25"].qc_codes or "NO_DATA" in report.summaries["2006-05-25"].qc_codes


def test_reingesting_the_same_files_changes_nothing(files, node):
    lake, engine = node
    first = _ingest("equities_eod", "2021-03-01", "2021-03-03", connector=files, lake=lake, engine=engine, symbols=["AAPL", "SPY"])
    again = _ingest("equities_eod", "2021-03-01", "2021-03-03", connector=files, lake=lake, engine=engine, symbols=["AAPL", "SPY"])
    assert first.partitions_written == 3
    assert again.partitions_written == 0 and again.partitions_unchanged == 3


def test_minute_bars_with_utc_offsets_are_green_across_the_dst_switch(files, node):
    lake, engine = node
    report = _ingest("equities_minute", "2024-03-08", "2024-03-12", connector=files, lake=lake, engine=engine, symbols=["SPY"])
    assert report.colour_counts == {"GREEN": 3, "AMBER": 0, "RED": 0}
    stored = lake.read("raw/equities_minute", start=dt.date(2024, 3, 8), end=dt.date(2024, 3, 12)).to_pandas()
    opens = stored.groupby("date")["ts"].min()
    assert opens[dt.date(2024, 3, 8)] == pd.Timestamp("2024-03-08 14:30", tz="UTC")
    assert opens[dt.date(2024, 3, 11)] == pd.Timestamp("2024-03-11 13:30", tz="UTC")
    assert stored.groupby("date").size().tolist() == [390, 390, 390]


def test_sparse_minute_bars_are_not_green(files, node):
    lake, engine = node  # INDA prints only minutes with trades: sessions lack some of their 390 bars
    report = _ingest("equities_minute", "2023-07-10", "2023-07-14", connector=files, lake=lake, engine=engine, symbols=["INDA"])
    stored = lake.read("raw/equities_minute", start=dt.date(2023, 7, 10), end=dt.date(2023, 7, 14)).to_pandas()
    counts = stored.groupby("date").size()
    for day, summary in report.summaries.items():
        n = int(counts.get(dt.date.fromisoformat(day), 0))
        assert (summary.color == "GREEN") == (n == 390), (day, n, summary)
    assert (counts < 390).any()


def test_macro_series_and_corporate_actions_are_stored(files, node):
    lake, engine = node
    macro = _ingest("macros_fred", "2019-03-04", "2019-03-08", connector=files, lake=lake, engine=engine, series=["DGS10"])
    assert macro.colour_counts["GREEN"] == 5
    rows = lake.read("raw/macros_fred", start=dt.date(2019, 3, 4), end=dt.date(2019, 3, 8)).to_pandas()
    assert rows.loc[rows["observation_date"] == dt.date(2019, 3, 1), "value"].item() == 2.76
    ca = _ingest("corp_actions", "2020-08-31", "2020-08-31", connector=files, lake=lake, engine=engine)
    events = lake.read("reference/corp_actions", start=dt.date(2020, 8, 31), end=dt.date(2020, 8, 31)).to_pandas()
    splits = events[events["event_type"] == "SPLIT"].set_index("symbol")["ratio"]
    assert splits["AAPL"] == 4.0 and splits["TSLA"] == 5.0
    assert ca.colour_counts["GREEN"] == 1


def test_missing_files_of_a_mapping_are_a_set_up_error_naming_the_path(tmp_path):
    mapping = FileMapping.from_dict("x", {"dataset": "equities_eod", "path": "nope/*.csv", "columns": {
        "symbol": "s", "date": "d", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}})
    with pytest.raises(SourceConfigError) as err:
        FilesConnector([mapping], root=tmp_path).fetch(FetchRequest("equities_eod", dt.date(2021, 3, 1), dt.date(2021, 3, 1)))
    assert str(tmp_path / "nope" / "*.csv") in str(err.value) and "files: files:" not in str(err.value)


def test_a_mapping_of_another_constant_symbol_is_not_read(tmp_path):
    mapping = FileMapping.from_dict("inda", {"dataset": "equities_eod", "path": "nope.csv", "constants": {"symbol": "INDA"},
                                             "columns": {"date": "d", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}})
    request = FetchRequest("equities_eod", dt.date(2021, 3, 1), dt.date(2021, 3, 1), symbols=("SPY",))
    assert FilesConnector([mapping], root=tmp_path).fetch(request).num_rows == 0


def test_mapping_without_required_columns_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="mapping 'bad': no column or constant for \\['close'"):
        FileMapping.from_dict("bad", {"dataset": "equities_eod", "path": "x.csv", "columns": {
            "symbol": "s", "date": "d", "open": "o", "high": "h", "low": "l", "volume": "v"}})


def test_a_file_vintage_on_a_weekend_keeps_its_date_and_is_served_with_the_next_session(tmp_path):
    (tmp_path / "cpi.csv").write_text("series_id,observation_date,value,vintage_date\n"
                                      "CPI,2024-02-01,310.3,2024-03-16\nCPI,2024-01-01,309.7,2024-03-15\n")
    mapping = FileMapping.from_dict("cpi", {"dataset": "macros_fred", "path": "cpi.csv", "columns": {
        "series_id": "series_id", "observation_date": "observation_date", "value": "value", "vintage_date": "vintage_date"}})
    conn = FilesConnector([mapping], root=tmp_path)
    monday = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 18), dt.date(2024, 3, 18))).frame
    assert monday[["date", "vintage_date", "value"]].astype(str).values.tolist() == [["2024-03-18", "2024-03-16", "310.3"]]
    friday = conn.fetch(FetchRequest("macros_fred", dt.date(2024, 3, 15), dt.date(2024, 3, 15))).frame
    assert friday["vintage_date"].astype(str).tolist() == ["2024-03-15"]

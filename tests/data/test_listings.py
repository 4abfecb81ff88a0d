"""vendor_symbols: what a vendor serves (synthetic universe, files' contents, the lake's universe for HTTP vendors)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.files import FileMapping, FilesConnector
from trademl.data.connectors.synthetic import SyntheticConfig, SyntheticConnector
from trademl.data.lake import Lake
from trademl.data.listings import NoListing, vendor_symbols


def test_synthetic_listing_is_its_universe_on_the_date():
    connector = SyntheticConnector(SyntheticConfig(n_symbols=6))
    listing = connector.symbols(dt.date(2024, 3, 28))
    assert listing.symbols == tuple(sorted(connector.universe_symbols(dt.date(2024, 3, 28))))
    assert listing.symbols[0] == "SYN001" and "configs/synthetic.yml" in listing.source


def test_synthetic_lists_nothing_before_its_history():
    assert SyntheticConnector(SyntheticConfig(n_symbols=6)).symbols(dt.date(2017, 12, 29)).symbols == ()


def test_files_listing_names_each_symbol_with_its_first_and_last_session(tmp_path):
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    pd.DataFrame({"ticker": ["AAPL"] * 3 + ["MSFT"] * 2, "day": days + days[:2], "o": 1.0, "h": 1.0, "l": 1.0, "c": 1.0, "v": 10}).to_csv(
        tmp_path / "eod.csv", index=False
    )
    mapping = FileMapping.from_dict(
        "eod",
        {"dataset": "equities_eod", "path": "eod.csv", "columns": {
            "symbol": "ticker", "date": "day", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}},
    )
    listing = FilesConnector([mapping], root=tmp_path).symbols(dt.date(2024, 3, 28))
    assert listing.symbols == ("AAPL", "MSFT")
    assert listing.spans == {"AAPL": ("2024-01-02", "2024-01-04"), "MSFT": ("2024-01-02", "2024-01-03")}


def test_an_http_vendor_without_a_stored_universe_says_how_to_get_one(tmp_path):
    with pytest.raises(NoListing, match="alpaca publishes no symbol listing.*--dataset universe --vendor alpaca"):
        vendor_symbols("alpaca", dt.date(2024, 3, 28), lake=Lake(tmp_path))


def test_an_http_vendor_lists_the_lakes_universe_rows_from_it(tmp_path):
    lake = Lake(tmp_path)
    day = dt.date(2024, 3, 27)
    rows = SyntheticConnector(SyntheticConfig(n_symbols=6)).fetch(FetchRequest("universe", day, day)).to_pandas()
    rows = rows.assign(source_name="alpaca", is_listed=rows["symbol"] != "SYN002")  # SYN002 delisted
    lake.write_partition("reference/universe", day, rows, vendor="alpaca")
    listing = vendor_symbols("alpaca", dt.date(2024, 3, 28), lake=lake)
    assert listing.symbols == tuple(s for s in sorted(rows["symbol"]) if s != "SYN002")
    assert "reference/universe of 2024-03-27" in listing.source


def test_a_route_is_not_a_vendor_to_list(tmp_path):
    with pytest.raises(ValueError, match="name one vendor"):
        vendor_symbols("auto", dt.date(2024, 3, 28), lake=Lake(tmp_path))

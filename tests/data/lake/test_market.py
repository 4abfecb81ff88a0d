"""One lake, one market: the data root's marker and the refusal to mix synthetic with real data."""

from __future__ import annotations

import json
import types

import pytest
from lake_payloads import bars

from trademl.data.lake import Lake
from trademl.data.lake.market import (
    MARKER_NAME,
    MarketMismatchError,
    claim_market,
    lake_market,
    market_of_sources,
)


def _connector(name: str, prefer: list[str] | None = None):
    return types.SimpleNamespace(source_name=name, prefer=prefer)


def test_sources_are_synthetic_real_or_mixed():
    assert market_of_sources(["synthetic"]) == "synthetic"
    assert market_of_sources(["files"]) == "real"
    assert market_of_sources(["alpaca+massive"]) == "real"
    assert market_of_sources(["synthetic", "alpaca"]) == "mixed"


def test_first_ingest_writes_the_market_marker(tmp_path):
    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("synthetic"), force=False)
    doc = json.loads((tmp_path / "lake" / MARKER_NAME).read_text())
    assert (doc["market"], doc["first_source"]) == ("synthetic", "synthetic")


def test_real_vendor_into_a_synthetic_lake_is_refused_naming_the_root_and_the_fix(tmp_path):
    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("synthetic"), force=False)
    with pytest.raises(MarketMismatchError) as err:
        claim_market(lake, _connector("files"), force=False)
    message = str(err.value)
    assert str(tmp_path / "lake") in message and "synthetic market" in message
    assert "TRADEML_DATA_ROOT" in message and "--force-market" in message and "\n" not in message


def test_synthetic_into_a_real_lake_is_refused(tmp_path):
    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("router", prefer=["alpaca"]), force=False)
    with pytest.raises(MarketMismatchError, match="holds real vendors' data"):
        claim_market(lake, _connector("synthetic"), force=False)


def test_a_forced_ingest_is_recorded_and_keeps_the_market(tmp_path):
    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("synthetic"), force=False)
    claim_market(lake, _connector("files"), force=True)
    doc = json.loads((tmp_path / "lake" / MARKER_NAME).read_text())
    assert doc["market"] == "synthetic"
    assert [(f["source"], f["market"]) for f in doc["forced"]] == [("files", "real")]


def test_the_force_env_var_allows_mixing(tmp_path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("synthetic"), force=False)
    monkeypatch.setenv("TRADEML_FORCE_MARKET", "1")
    claim_market(lake, _connector("files"))
    assert lake_market(lake) == "synthetic"


def test_an_unmarked_lake_takes_the_market_of_the_data_it_holds(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.write_partition("raw/equities_bars", "2024-01-02", bars(["2024-01-02"], ["AAA"]), vendor="synthetic")
    assert lake_market(lake) == "synthetic"
    with pytest.raises(MarketMismatchError):
        claim_market(lake, _connector("files"), force=False)


def test_ingest_refuses_the_other_market_before_fetching(tmp_path):
    from trademl.data.ingest import ingest

    class NeverFetched:
        source_name, prefer = "files", None

        def fetch(self, request):
            raise AssertionError("fetched despite the market mismatch")

    lake = Lake(tmp_path / "lake")
    claim_market(lake, _connector("synthetic"), force=False)
    with pytest.raises(MarketMismatchError, match="refusing to ingest real vendors' data from files"):
        ingest("equities_eod", "2024-01-02", "2024-01-03", connector=NeverFetched(), lake=lake, engine=None)

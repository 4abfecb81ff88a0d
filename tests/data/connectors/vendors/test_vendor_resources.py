"""Per-vendor Dagster resources: non-secret fields only, keys from the environment, clear errors without values."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from vendor_wire import AlpacaSim, daily_bars

from trademl.data.connectors.alpaca import AlpacaConnector
from trademl.data.connectors.base import FetchRequest, VendorAuthError
from trademl.data.connectors.files import FilesConnector
from trademl.data.connectors.fred import AlfredConnector, FredConnector
from trademl.data.routing import RoutedConnector
from trademl_resources.vendor import VendorResource
from trademl_resources.vendors import (
    VENDOR_RESOURCES,
    AlpacaResource,
    AlphaVantageResource,
    FilesResource,
    FinnhubResource,
    FmpResource,
    FredResource,
    MassiveResource,
    SyntheticResource,
)

# resource -> (the variable a missing key must name, variables set to a value that must never be printed)
KEYED = [
    (AlpacaResource, "ALPACA_API_SECRET_KEY", {"ALPACA_API_KEY_ID": "AKVISIBLE0000001"}),
    (AlpacaResource, "ALPACA_API_KEY_ID", {"ALPACA_API_SECRET_KEY": "secret-visible-0001"}),
    (MassiveResource, "MASSIVE_API_KEY", {}),
    (FinnhubResource, "FINNHUB_API_KEY", {}),
    (FredResource, "FRED_API_KEY", {}),
    (AlphaVantageResource, "ALPHAVANTAGE_API_KEY", {}),
    (FmpResource, "FMP_API_KEY", {}),
]


@pytest.mark.parametrize(("resource", "variable", "present"), KEYED, ids=[f"{r.__name__}-{v}" for r, v, _ in KEYED])
def test_missing_key_names_the_variable_and_never_a_value(resource, variable, present, monkeypatch):
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(VendorAuthError) as err:
        resource().connector()
    message = str(err.value)
    assert variable in message
    assert all(value not in message for value in present.values())


def test_every_resource_field_is_a_non_secret_setting():
    fields = {name: set(cls.model_fields) for name, cls in VENDOR_RESOURCES.items()}
    assert fields == {
        "alpaca": {"base_url", "feed"},
        "massive": {"base_url"},
        "finnhub": {"base_url"},
        "fred": {"base_url", "vintages"},
        "alpha_vantage": {"base_url"},
        "fmp": {"base_url"},
        "files": {"root"},
        "synthetic": {"n_symbols", "signal_strength"},
    }


def test_alpaca_resource_settings_reach_the_connector(monkeypatch):
    monkeypatch.setenv("ALPACA_API_KEY_ID", "AKRES0001")
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", "res-secret-0001")
    monkeypatch.setenv("ALPACA_FEED", "iex")
    conn = AlpacaResource(base_url="http://127.0.0.1:9/", feed="SIP").connector()
    assert isinstance(conn, AlpacaConnector)
    assert (conn.base_url, conn.feed) == ("http://127.0.0.1:9", "sip")
    monkeypatch.setenv("TRADEML_ALPACA_BASE_URL", "http://127.0.0.1:8")
    env_conn = AlpacaResource().connector()
    assert (env_conn.base_url, env_conn.feed) == ("http://127.0.0.1:8", "iex")


def test_bad_resource_settings_are_rejected_when_configured():
    with pytest.raises(ValueError, match="feed 'nasdaq'"):
        AlpacaResource(feed="nasdaq")
    with pytest.raises(ValueError, match="must start with http"):
        MassiveResource(base_url="ftp://example.org")


def test_fred_resource_serves_alfred_vintages_or_fred_latest(monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "fred-res-0001")
    assert type(FredResource().connector()) is AlfredConnector
    assert type(FredResource(vintages=False).connector()) is FredConnector
    assert type(FredResource().connector(vintages=False)) is FredConnector


def test_files_resource_root_overrides_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_FILES_ROOT", str(tmp_path / "elsewhere"))
    conn = FilesResource(root=str(tmp_path)).connector()
    assert isinstance(conn, FilesConnector)
    mapping = conn.mappings[0]
    assert conn.root_for(mapping) == tmp_path


def test_vendor_resource_builds_configured_providers_from_their_resources(monkeypatch, mount):
    key_id, secret = "AKROUTED0001", "routed-secret-0001"
    monkeypatch.setenv("ALPACA_API_KEY_ID", key_id)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", secret)
    monkeypatch.setenv("TRADEML_ALPACA_BASE_URL", "http://127.0.0.1:9")  # a dead port: the resource's URL must win
    sim = AlpacaSim({"1Day": daily_bars(["AAPL"], "2024-03-04", "2024-03-05")}, key_id=key_id, secret=secret)
    vendor = VendorResource(vendor="alpaca", alpaca=AlpacaResource(base_url=mount(sim), feed="sip"))
    conn = vendor.connector()
    assert isinstance(conn, RoutedConnector)
    result = conn.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 5), symbols=("AAPL",)))
    assert len(result.frame) == 2 and result.source_name == "alpaca"
    assert [r.args["feed"] for r in sim.seen] == ["sip"]


def test_vendor_resource_nests_per_vendor_resources_inside_dagster(monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "fred-nested-0001")

    @dg.asset
    def provider_classes(vendor: VendorResource) -> list[str]:
        return sorted(f"{name}:{type(build()).__name__}" for name, build in vendor.builders().items())

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [provider_classes],
            instance=instance,
            resources={"vendor": VendorResource(vendor="auto", fred=FredResource(base_url="http://127.0.0.1:9"), files=FilesResource())},
        )
    assert result.output_for_node("provider_classes") == [
        "alfred:AlfredConnector", "files:FilesConnector", "fred:FredConnector",
    ]


def test_synthetic_resource_sizes_the_market_unless_the_environment_overrides_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEML_DATA_ROOT", str(tmp_path))
    monkeypatch.delenv("TRADEML_SYNTHETIC_N_SYMBOLS", raising=False)
    conn = SyntheticResource(n_symbols=7, signal_strength=0.05).connector()
    assert (conn.config.n_symbols, conn.config.signal_strength) == (7, 0.05)
    monkeypatch.setenv("TRADEML_SYNTHETIC_N_SYMBOLS", "5")
    assert SyntheticResource(n_symbols=7).connector().config.n_symbols == 5

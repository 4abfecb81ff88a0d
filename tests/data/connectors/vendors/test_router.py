"""Capability routing (route) and provider fallback (RoutedConnector), the latter over real local servers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pytest_httpserver import HTTPServer
from vendor_wire import AlpacaSim, MassiveSim, daily_bars, status

from trademl.data.connectors.alpaca import AlpacaConnector
from trademl.data.connectors.base import FetchRequest, VendorError
from trademl.data.connectors.massive import MassiveConnector
from trademl.data.connectors.registry import connector_for
from trademl.data.routing import RoutedConnector, route

NO_OVERRIDES = {"order": {}, "disabled": [], "enabled": {}}


def test_equities_eod_routes_alpaca_then_massive_then_finnhub():
    assert route("equities_eod", dt.date(2024, 3, 8), ["AAPL"], overrides=NO_OVERRIDES) == ["alpaca", "massive", "finnhub"]


def test_offline_providers_are_not_routed_automatically():
    assert "synthetic" not in route("macros_fred", dt.date(2024, 3, 8), overrides=NO_OVERRIDES)
    assert route("macros_fred", dt.date(2024, 3, 8), overrides=NO_OVERRIDES) == ["alfred", "fred"]


def test_history_start_excludes_providers_that_do_not_reach_back():
    assert route("equities_eod", dt.date(2010, 6, 1), overrides=NO_OVERRIDES) == ["massive", "finnhub"]


def test_router_yml_order_disabled_and_enabled_apply():
    cfg = {"order": {"equities_eod": ["finnhub"]}, "disabled": ["massive"], "enabled": {"equities_eod": ["files"]}}
    assert route("equities_eod", dt.date(2024, 3, 8), overrides=cfg) == ["finnhub", "alpaca", "files"]


def test_provider_whose_daily_cap_cannot_cover_the_universe_goes_last():
    universe = [f"S{i}" for i in range(8000)]  # massive: 8000 requests > 7000/day; finnhub: 8000 < 50000
    assert route("equities_eod", dt.date(2024, 3, 8), universe, overrides=NO_OVERRIDES) == ["alpaca", "finnhub", "massive"]


def test_preferred_provider_comes_first_and_keeps_fallbacks():
    assert route("equities_eod", dt.date(2024, 3, 8), prefer=["massive"], overrides=NO_OVERRIDES) == ["massive", "alpaca", "finnhub"]


def test_preferring_an_offline_provider_routes_only_to_it():
    assert route("equities_eod", dt.date(2024, 3, 8), prefer=["synthetic"], overrides=NO_OVERRIDES) == ["synthetic"]


def test_unknown_dataset_and_provider_are_clear_errors():
    with pytest.raises(ValueError, match="no provider serves dataset 'bitcoin'"):
        route("bitcoin", dt.date(2024, 3, 8))
    with pytest.raises(ValueError, match="unknown provider"):
        route("equities_eod", dt.date(2024, 3, 8), prefer=["yahoo"])


def test_registry_wraps_real_vendors_in_fallback_and_leaves_offline_ones_alone():
    assert isinstance(connector_for("alpaca"), RoutedConnector)
    assert isinstance(connector_for("auto"), RoutedConnector)
    assert isinstance(connector_for("alpaca", fallback=False), AlpacaConnector)
    assert not isinstance(connector_for("files"), RoutedConnector)
    with pytest.raises(ValueError, match="unknown vendor 'yahoo'"):
        connector_for("yahoo")


# ---- fallback over two real local servers --------------------------------------------------------------

ALPACA_KEY, ALPACA_SECRET, MASSIVE_KEY = "AKROUTER0001", "router-secret-0001", "massive-router-key"


@pytest.fixture
def two_vendors(monkeypatch, clock, generous):
    """Alpaca (AAPL, MSFT only) and Massive (AAPL, MSFT, VIX) on two local servers; a routed connector over them."""
    monkeypatch.setenv("ALPACA_API_KEY_ID", ALPACA_KEY)
    monkeypatch.setenv("ALPACA_API_SECRET_KEY", ALPACA_SECRET)
    monkeypatch.setenv("MASSIVE_API_KEY", MASSIVE_KEY)
    servers = [HTTPServer(), HTTPServer()]
    for s in servers:
        s.start()
    alpaca = AlpacaSim({"1Day": daily_bars(["AAPL", "MSFT"], "2024-03-04", "2024-03-08")}, key_id=ALPACA_KEY, secret=ALPACA_SECRET)
    massive = MassiveSim(key=MASSIVE_KEY, aggs={"day": daily_bars(["AAPL", "MSFT", "VIX"], "2024-03-04", "2024-03-08")})
    servers[0].expect_request(re.compile(".*")).respond_with_handler(alpaca)
    servers[1].expect_request(re.compile(".*")).respond_with_handler(massive)
    urls = {"alpaca": servers[0].url_for("").rstrip("/"), "massive": servers[1].url_for("").rstrip("/")}

    def factory(name):
        cls = {"alpaca": AlpacaConnector, "massive": MassiveConnector}.get(name)
        if cls is None:
            from trademl.data.connectors.base import VendorUnavailable

            class Down(AlpacaConnector):
                def _fetch(self, request):
                    raise VendorUnavailable(name, "not reachable in this test")

            Down.source_name = name
            return Down()
        return cls(base_url=urls[name], limits=generous, clock=clock, sleep=clock.sleep)

    yield RoutedConnector(["alpaca"], factory=factory, overrides=NO_OVERRIDES), alpaca, massive
    for s in servers:
        s.clear()
        s.stop()


def test_symbol_the_first_provider_lacks_is_fetched_from_the_next(two_vendors):
    routed, alpaca, massive = two_vendors
    result = routed.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL", "MSFT", "VIX")))
    frame = result.frame
    assert sorted(frame.groupby("symbol")["source_name"].first().items()) == [("AAPL", "alpaca"), ("MSFT", "alpaca"), ("VIX", "massive")]
    assert len(frame) == 15 and result.failed_sessions == {}
    assert len(alpaca.seen) == 1
    assert [r.path.split("/")[4] for r in massive.seen] == ["VIX"]  # only the missing symbol was asked of massive
    assert routed.source_name == "alpaca+massive"


def test_failing_first_provider_falls_back_to_the_next(two_vendors):
    routed, alpaca, massive = two_vendors
    alpaca.fault(status(403, '{"message": "forbidden"}'))
    result = routed.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("AAPL",)))
    assert set(result.frame["source_name"]) == {"massive"} and len(result.frame) == 5
    assert routed.attempts[0][0] == "alpaca" and "AUTH_ERROR" in routed.attempts[0][1]


def test_no_provider_with_data_raises_with_every_providers_reason(two_vendors):
    routed, alpaca, massive = two_vendors
    with pytest.raises(VendorError) as err:
        routed.fetch(FetchRequest("equities_eod", dt.date(2024, 3, 4), dt.date(2024, 3, 8), symbols=("ZZZZ",)))
    text = str(err.value)
    assert "alpaca -> NO_DATA" in text and "massive -> NO_DATA" in text and "finnhub -> VENDOR_OUTAGE" in text
    assert err.value.qc_code == "VENDOR_OUTAGE"
    assert len(alpaca.seen) == 1 and len(massive.seen) == 1


def test_unusable_payload_outranks_outages_in_the_combined_failure_code():
    from trademl.data.routing import failure_code

    assert failure_code(["MALFORMED_PAYLOAD", "AUTH_ERROR", "VENDOR_OUTAGE"]) == "MALFORMED_PAYLOAD"
    assert failure_code(["AUTH_ERROR", "SCHEMA_VIOLATION", "MALFORMED_PAYLOAD"]) == "SCHEMA_VIOLATION"
    assert failure_code(["NO_DATA", "AUTH_ERROR"]) == "VENDOR_OUTAGE"
    assert failure_code(["NO_DATA", "NO_DATA"]) == "NO_DATA"


def test_registry_builders_replace_a_provider_and_reject_unknown_names():
    from trademl.data.connectors.synthetic import SyntheticConnector

    built = SyntheticConnector()
    assert connector_for("synthetic", builders={"synthetic": lambda: built}) is built
    with pytest.raises(ValueError, match="unknown vendor"):
        connector_for("alpaca", builders={"bloomberg": lambda: built})

"""Fixtures for the vendor connector tests: a clean vendor environment, a manual clock, a mounted simulator."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer

from trademl.data.http import ManualClock, VendorLimits, reset_gates

VENDOR_ENV = (
    "ALPACA_API_KEY_ID", "ALPACA_API_SECRET_KEY", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "ALPACA_API_BASE_URL",
    "ALPACA_FEED", "MASSIVE_API_KEY", "POLYGON_API_KEY", "FINNHUB_API_KEY", "FRED_API_KEY", "ALPHAVANTAGE_API_KEY",
    "ALPHA_VANTAGE_API_KEY", "FMP_API_KEY", "TRADEML_VENDOR", "TRADEML_FILES_ROOT",
)


@pytest.fixture(autouse=True)
def clean_vendor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No vendor key, base URL or process-wide budget leaks into or out of a test."""
    import os

    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if re.match(r"^(TRADEML_\w+_BASE_URL|NODE_MAX_INFLIGHT_\w+|VENDOR_FREEZE_SECONDS_\w+)$", name):
            monkeypatch.delenv(name, raising=False)
    reset_gates()
    yield
    reset_gates()


@pytest.fixture
def clock() -> ManualClock:
    """A clock whose sleeps return at once and are recorded (freezes and backoff never really wait)."""
    return ManualClock()


@pytest.fixture
def generous() -> VendorLimits:
    """Limits that never throttle a small test."""
    return VendorLimits(hard_rpm=100_000, burst_limit=1_000, soft_daily_cap=None, freeze_seconds=60, max_inflight=2)


@pytest.fixture
def mount(httpserver: HTTPServer) -> Callable:
    """Mount a simulator on the local server for every path; returns the server's base URL."""

    def _mount(sim) -> str:
        httpserver.expect_request(re.compile(r".*")).respond_with_handler(sim)
        return httpserver.url_for("").rstrip("/")

    return _mount

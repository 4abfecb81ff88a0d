"""The shared vendor HTTP client (trademl/data/http/) against a real local server."""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from trademl.data.connectors.base import VendorError, VendorUnavailable
from trademl.data.http import (
    ManualClock,
    VendorGate,
    VendorHttpClient,
    VendorLimits,
    budget_vendor,
    paginate,
    register_secret,
    reset_gates,
    scrub,
    scrub_url,
    vendor_limits,
)

LIMITS = VendorLimits(hard_rpm=6000, burst_limit=100, soft_daily_cap=None, freeze_seconds=60, max_inflight=2)


@pytest.fixture
def threaded_server():
    """A local server handling requests concurrently (slow answers do not queue the next request)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_gates():
    reset_gates()
    yield
    reset_gates()


def _client(clock, limits=LIMITS, **kw):
    return VendorHttpClient("alpaca", limits=limits, clock=clock, sleep=clock.sleep, rng=random.Random(1), **kw)


def _script(httpserver, answers):
    seen = []

    def handler(request):
        seen.append(request)
        return answers.pop(0) if answers else Response("{}", content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    return seen


def test_retry_after_http_date_is_honoured(httpserver: HTTPServer):
    clock = ManualClock(1_700_000_000)
    when = email.utils.formatdate(clock() + 90, usegmt=True)
    seen = _script(httpserver, [Response("", status=429, headers={"Retry-After": when})])
    _client(clock).get(httpserver.url_for("/x"))
    assert len(seen) == 2 and clock.sleeps == [pytest.approx(90, abs=1)]


def test_freeze_longer_than_max_wait_is_unavailable_without_sending(httpserver: HTTPServer):
    clock = ManualClock()
    seen = _script(httpserver, [Response("", status=429, headers={"Retry-After": "3600"})])
    with pytest.raises(VendorUnavailable, match="frozen for another 3600s"):
        _client(clock, max_wait=300).get(httpserver.url_for("/x"))
    assert len(seen) == 1


def test_backoff_is_full_jitter_and_capped():
    client = _client(ManualClock(), backoff_base=0.5, backoff_cap=4.0)
    delays = [client.backoff_delay(k) for k in range(8) for _ in range(50)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert max(client.backoff_delay(0) for _ in range(200)) <= 0.5
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not a fixed ladder


def test_timeouts_are_retried(threaded_server: HTTPServer):
    httpserver = threaded_server
    clock = ManualClock()
    answers = []

    def slow(request):
        answers.append(request)
        if len(answers) == 1:
            time.sleep(0.6)
        return Response('{"ok": 1}', content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow)
    resp = _client(clock, timeout=(1.0, 0.3)).get(httpserver.url_for("/x"))
    assert resp.json() == {"ok": 1} and len(answers) == 2 and len(clock.sleeps) == 1


def test_other_4xx_is_a_non_retryable_error_with_scrubbed_url(httpserver: HTTPServer):
    clock = ManualClock()
    seen = _script(httpserver, [Response('{"message": "bad symbol"}', status=422)])
    with pytest.raises(VendorError) as err:
        _client(clock).get(httpserver.url_for("/x"), params={"symbol": "A", "apikey": "topsecret999"})
    assert not err.value.retryable and "bad symbol" in str(err.value) and "topsecret999" not in str(err.value)
    assert len(seen) == 1


def test_scrub_masks_query_keys_bearer_tokens_and_registered_values():
    register_secret("registered-value-42")
    text = scrub("GET /q?apikey=abc123&x=1 Authorization: Bearer tok.en-9 and registered-value-42")
    assert "abc123" not in text and "tok.en-9" not in text and "registered-value-42" not in text and "x=1" in text
    assert scrub_url("https://h/p?series_id=DGS10&api_key=zzz&token=yyy") == "https://h/p?series_id=DGS10"


def test_scrub_masks_the_password_of_a_uri_and_keeps_the_user_and_host():
    assert scrub("postgresql://alice:pa%40ss@db.example:5432/node") == "postgresql://alice:***@db.example:5432/node"
    assert scrub("postgresql://alice@db.example/node") == "postgresql://alice@db.example/node"


def test_secret_never_reaches_a_log_line(httpserver: HTTPServer, caplog):
    clock = ManualClock()
    _script(httpserver, [Response("", status=500)])
    with caplog.at_level(logging.DEBUG, logger="trademl.data.http"):
        _client(clock).get(httpserver.url_for("/x"), params={"api_key": "leakme12345"})
    ours = [r for r in caplog.records if r.name == "trademl.data.http"]
    assert ours and all("leakme12345" not in str(r.__dict__) for r in ours)


def test_inflight_cap_limits_concurrent_requests(threaded_server: HTTPServer):
    httpserver = threaded_server
    live, peak, lock = [0], [0], threading.Lock()

    def handler(request):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.1)
        with lock:
            live[0] -= 1
        return Response("{}", content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)
    client = VendorHttpClient("alpaca", limits=VendorLimits(6000, 100, None, 60, 2))
    threads = [threading.Thread(target=client.get, args=(httpserver.url_for("/x"),)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_gate_daily_cap_resets_on_the_next_utc_day():
    clock = ManualClock(1_700_006_400 - 10)  # 10 s before a UTC midnight
    gate = VendorGate("v", VendorLimits(6000, 10, 2, 0, 1), clock=clock, sleep=clock.sleep)
    gate.admit(max_wait=1)
    gate.admit(max_wait=1)
    with pytest.raises(VendorUnavailable, match="daily cap of 2"):
        gate.admit(max_wait=1)
    clock.advance(11)
    gate.admit(max_wait=1)
    assert gate.sent_total == 3


def test_pagination_loop_is_detected():
    pages = iter([(1, "a"), (2, "b"), (3, "a")])
    with pytest.raises(VendorError, match="pagination loop") as err:
        list(paginate("v", lambda cursor: next(pages)))
    assert err.value.qc_code == "MALFORMED_PAYLOAD"


def test_limits_come_from_endpoints_yml_and_environment(monkeypatch):
    monkeypatch.setenv("NODE_MAX_INFLIGHT_FRED", "5")
    monkeypatch.setenv("VENDOR_FREEZE_SECONDS_FRED", "9")
    limits = vendor_limits("alfred")
    assert budget_vendor("alfred") == "fred"
    assert (limits.hard_rpm, limits.max_inflight, limits.freeze_seconds) == (120.0, 5, 9.0)
    monkeypatch.setenv("NODE_MAX_INFLIGHT_FRED", "many")
    with pytest.raises(ValueError, match="NODE_MAX_INFLIGHT_FRED"):
        vendor_limits("fred")


def test_invalid_limits_are_rejected():
    with pytest.raises(ValueError, match="hard_rpm"):
        VendorLimits(hard_rpm=0, burst_limit=1, soft_daily_cap=None, freeze_seconds=1, max_inflight=1)
    with pytest.raises(ValueError, match="unknown|not in configs/endpoints.yml"):
        budget_vendor("yahoo")

"""The one HTTP client every vendor connector uses: budgets, retries, freezes, pagination, secret hygiene.

Per vendor (SSOT 1.4, 2.2, 2.5, 2.9) a process-wide `VendorGate` enforces
- a token bucket refilled at ``hard_rpm / 60`` requests per second with ``burst_limit`` capacity,
- a daily cap of ``soft_daily_cap`` requests per UTC day (requests beyond it are never sent),
- ``NODE_MAX_INFLIGHT_<VENDOR>`` concurrent requests (``NODE_MAX_INFLIGHT_DEFAULT`` fallback),
- a freeze after HTTP 429 that lasts what the vendor advertises (``Retry-After`` seconds or HTTP date,
  else the vendor's reset header such as Alpaca's ``X-RateLimit-Reset`` epoch seconds) or, when the
  vendor says nothing, ``VENDOR_FREEZE_SECONDS_<VENDOR>``.
`VendorHttpClient` retries 5xx, timeouts, dropped connections and truncated transfers with exponential
backoff and full jitter, turns 401/403 into `VendorAuthError` naming the environment variable, and
never lets a key reach a log line, an exception or a ``source_uri``: query parameters such as
``apiKey=``/``api_key=``/``token=`` and secret-looking headers are scrubbed, and every secret value a
connector registers is masked wherever it appears (`ScrubbingFilter` on the loggers; JSON lines with
UTC timestamps come from trademl.logs.JsonFormatter).
Clock and sleep are injectable so tests and simulations never really wait.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from trademl.config import load_config
from trademl.data.connectors.base import VendorAuthError, VendorError, VendorUnavailable

log = logging.getLogger("trademl.data.http")

MASK = "***"
# Query parameters that carry credentials (Polygon apiKey, FRED api_key, Finnhub token, AV/FMP apikey).
_SECRET_PARAM_RE = re.compile(
    r"(?i)(\b(?:api[_-]?key|apikey|token|access[_-]?token|secret|password|key)=)([^&\s'\"#]+)"
)
_SECRET_HEADER_RE = re.compile(r"(?i)(key|secret|token|authorization|password|cookie)")
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]+)")

_secrets_lock = threading.Lock()
_secret_values: set[str] = set()

T = TypeVar("T")


class VendorBudgetExhausted(VendorUnavailable):
    """The vendor's daily request cap (soft_daily_cap) is spent; nothing more is sent until the next UTC day."""


def register_secret(value: str | None) -> None:
    """Remember a credential so `scrub` masks it anywhere it appears (values shorter than 4 chars are ignored)."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secret_values.add(value)


def scrub(text: Any) -> str:
    """`text` as a string with credentials masked: secret query parameters, bearer tokens, registered keys."""
    out = str(text)
    out = _SECRET_PARAM_RE.sub(lambda m: m.group(1) + MASK, out)
    out = _BEARER_RE.sub(lambda m: m.group(1) + MASK, out)
    with _secrets_lock:
        values = sorted(_secret_values, key=len, reverse=True)
    for value in values:
        if value in out:
            out = out.replace(value, MASK)
    return out


def scrub_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of `headers` with credential-bearing headers (key/secret/token/authorization) masked."""
    return {k: (MASK if _SECRET_HEADER_RE.search(k) else scrub(v)) for k, v in (headers or {}).items()}


def scrub_url(url: str) -> str:
    """A URL safe to store as ``source_uri`` or to log: credential query parameters removed entirely."""
    parts = urlsplit(url)
    query = "&".join(
        p for p in parts.query.split("&") if p and not _SECRET_PARAM_RE.fullmatch(p) and MASK not in scrub(p)
    )
    return scrub(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))


_STD_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class ScrubbingFilter(logging.Filter):
    """Masks credentials in a record's message, arguments and string `extra` fields, in place.

    Attached to the trademl.data.http logger and to urllib3 (which logs full request URLs at DEBUG);
    add it to any handler that may see vendor URLs. JSON formatting is trademl.logs.JsonFormatter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = scrub(record.getMessage())
            record.args = ()
        else:
            record.msg = scrub(record.msg)
        for key, value in list(vars(record).items()):
            if key not in _STD_RECORD_KEYS and isinstance(value, str):
                setattr(record, key, scrub(value))
        return True


log.addFilter(ScrubbingFilter())
logging.getLogger("urllib3.connectionpool").addFilter(ScrubbingFilter())


@dataclass(frozen=True)
class VendorLimits:
    """Admission limits of one vendor: requests/minute, burst, daily cap, 429 freeze and in-flight cap."""

    hard_rpm: float
    burst_limit: int
    soft_daily_cap: int | None
    freeze_seconds: float
    max_inflight: int

    def __post_init__(self) -> None:
        if not self.hard_rpm > 0:
            raise ValueError(f"hard_rpm must be > 0, got {self.hard_rpm}")
        if self.burst_limit < 1:
            raise ValueError(f"burst_limit must be >= 1, got {self.burst_limit}")
        if self.soft_daily_cap is not None and self.soft_daily_cap < 1:
            raise ValueError(f"soft_daily_cap must be >= 1 or null, got {self.soft_daily_cap}")
        if self.freeze_seconds < 0:
            raise ValueError(f"freeze_seconds must be >= 0, got {self.freeze_seconds}")
        if self.max_inflight < 1:
            raise ValueError(f"max_inflight must be >= 1, got {self.max_inflight}")


def env_number(name: str) -> float | None:
    """The numeric value of environment variable `name` (None when unset or blank; ValueError when not a number)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


def budget_vendor(vendor: str, registry: Mapping[str, Any] | None = None) -> str:
    """The vendor whose budget `vendor` spends (``alfred`` -> ``fred`` via ``same_as`` in configs/endpoints.yml)."""
    doc = registry if registry is not None else load_config("endpoints")
    vendors = doc.get("vendors", {})
    seen = [vendor]
    while True:
        if vendor not in vendors:
            raise ValueError(f"vendor {vendor!r} is not in configs/endpoints.yml (known: {', '.join(sorted(vendors))})")
        alias = (vendors[vendor] or {}).get("same_as")
        if not alias:
            return vendor
        if alias in seen:
            raise ValueError(f"configs/endpoints.yml: same_as cycle {' -> '.join(seen + [alias])}")
        seen.append(alias)
        vendor = alias


def vendor_limits(vendor: str, registry: Mapping[str, Any] | None = None) -> VendorLimits:
    """Limits of `vendor` from configs/endpoints.yml ``vendors:``, overridden by NODE_MAX_INFLIGHT_* and VENDOR_FREEZE_SECONDS_*."""
    doc = registry if registry is not None else load_config("endpoints")
    vendors = doc.get("vendors", {})
    vendor = budget_vendor(vendor, doc)
    cfg = vendors[vendor] or {}
    env_name = vendor.upper()
    inflight = env_number(f"NODE_MAX_INFLIGHT_{env_name}")
    if inflight is None:
        inflight = cfg.get("max_inflight")
    if inflight is None:
        inflight = env_number("NODE_MAX_INFLIGHT_DEFAULT") or 2
    freeze = env_number(f"VENDOR_FREEZE_SECONDS_{env_name}")
    if freeze is None:
        freeze = float(cfg.get("freeze_seconds", 60))
    cap = cfg.get("soft_daily_cap")
    return VendorLimits(
        hard_rpm=float(cfg.get("hard_rpm", 60)),
        burst_limit=int(cfg.get("burst_limit", 1)),
        soft_daily_cap=int(cap) if cap is not None else None,
        freeze_seconds=float(freeze),
        max_inflight=int(inflight),
    )


class ManualClock:
    """A deterministic clock for tests and simulations: `sleep` advances time instantly and is recorded."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds})")
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)


class VendorGate:
    """Admission control for one vendor: token bucket, UTC-daily cap, in-flight semaphore and 429 freeze."""

    def __init__(
        self,
        vendor: str,
        limits: VendorLimits,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.vendor, self.limits = vendor, limits
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.max_inflight)
        self._tokens = float(limits.burst_limit)
        self._refilled_at = clock()
        self._day = self._utc_day(self._refilled_at)
        self.sent_today = 0
        self.sent_total = 0
        self.frozen_until = 0.0
        self.freeze_reason = ""

    @staticmethod
    def _utc_day(ts: float) -> dt.date:
        return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).date()

    def now(self) -> float:
        return self._clock()

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the vendor's NODE_MAX_INFLIGHT slots for the duration of a request."""
        self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    def freeze(self, seconds: float, reason: str) -> float:
        """Stop sending to this vendor for `seconds` (extends, never shortens, a running freeze); returns the end."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self.frozen_until:
                self.frozen_until, self.freeze_reason = until, reason
            end = self.frozen_until
        log.warning("vendor frozen", extra={"vendor": self.vendor, "freeze_seconds": round(seconds, 3), "reason": reason})
        return end

    def admit(self, *, max_wait: float) -> None:
        """Block until one request may be sent (freeze over, a token free, daily cap not reached).

        Raises VendorUnavailable when the wait would exceed `max_wait` seconds (a long freeze) and
        VendorBudgetExhausted when today's cap is spent; neither sends anything.
        """
        while True:
            with self._lock:
                now = self._clock()
                if now < self.frozen_until:
                    wait = self.frozen_until - now
                    if wait > max_wait:
                        raise VendorUnavailable(
                            self.vendor,
                            f"frozen for another {wait:.0f}s ({self.freeze_reason}); longer than the {max_wait:.0f}s wait allowed",
                        )
                else:
                    day = self._utc_day(now)
                    if day != self._day:
                        self._day, self.sent_today = day, 0
                    cap = self.limits.soft_daily_cap
                    if cap is not None and self.sent_today >= cap:
                        raise VendorBudgetExhausted(
                            self.vendor, f"daily cap of {cap} requests reached for {day.isoformat()} (UTC)"
                        )
                    rate = self.limits.hard_rpm / 60.0
                    self._tokens = min(float(self.limits.burst_limit), self._tokens + (now - self._refilled_at) * rate)
                    self._refilled_at = now
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        self.sent_today += 1
                        self.sent_total += 1
                        return
                    wait = (1.0 - self._tokens) / rate
                    if wait > max_wait:
                        raise VendorUnavailable(self.vendor, f"rate limit needs a {wait:.0f}s wait, over {max_wait:.0f}s")
            self._sleep(wait)


_gates_lock = threading.Lock()
_gates: dict[str, VendorGate] = {}


def gate_for(vendor: str) -> VendorGate:
    """The process-wide gate of `vendor` (created from configs/endpoints.yml and the environment on first use)."""
    vendor = budget_vendor(vendor)
    with _gates_lock:
        gate = _gates.get(vendor)
        if gate is None:
            gate = _gates[vendor] = VendorGate(vendor, vendor_limits(vendor))
        return gate


def reset_gates() -> None:
    """Forget every process-wide gate (budgets restart; used when configuration changes, e.g. in tests)."""
    with _gates_lock:
        _gates.clear()


@dataclass
class VendorResponse:
    """A successful vendor response: body bytes, headers, the scrubbed URL and when it arrived (UTC)."""

    vendor: str
    status: int
    url: str
    headers: Mapping[str, str]
    content: bytes
    received_at: dt.datetime
    _json: Any = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed JSON body; a truncated or malformed body raises VendorError(qc_code=MALFORMED_PAYLOAD)."""
        if self._json is None:
            try:
                self._json = json.loads(self.content)
            except (ValueError, UnicodeDecodeError) as exc:
                raise VendorError(
                    self.vendor,
                    f"malformed JSON from {self.url}: {exc.__class__.__name__}: {scrub(exc)} "
                    f"({len(self.content)} bytes)",
                    retryable=True,
                    qc_code="MALFORMED_PAYLOAD",
                ) from None
        return self._json

    @property
    def server_time(self) -> dt.datetime | None:
        """The response's HTTP Date header as an aware UTC datetime (None when absent or unparsable)."""
        raw = self.headers.get("Date")
        if not raw:
            return None
        try:
            return email.utils.parsedate_to_datetime(raw).astimezone(dt.timezone.utc)
        except (TypeError, ValueError):
            return None


# A vendor-specific look at a 200 response: None, a throttle reason, or (reason, seconds to freeze | None).
ThrottleDetector = Callable[[requests.Response], "str | tuple[str, float | None] | None"]


class VendorHttpClient:
    """requests.Session-based client for one vendor, enforcing its gate and the retry/freeze policy.

    `auth_env` names the environment variables holding the vendor's credentials; they appear in
    `VendorAuthError` messages (the values never do). `throttle_detector` lets a vendor mark a 200
    response as a rate-limit answer (Alpha Vantage's "Note"/"Information" JSON).
    """

    def __init__(
        self,
        vendor: str,
        *,
        limits: VendorLimits | None = None,
        gate: VendorGate | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_wait: float = 300.0,
        rng: random.Random | None = None,
        reset_header: str | None = None,
        remaining_header: str | None = None,
        throttle_detector: ThrottleDetector | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if backoff_base <= 0 or backoff_cap <= 0:
            raise ValueError("backoff_base and backoff_cap must be > 0")
        self.vendor = vendor
        if gate is None:
            if clock is None and sleep is None and limits is None:
                gate = gate_for(vendor)
            else:
                gate = VendorGate(
                    vendor,
                    limits or vendor_limits(vendor),
                    clock=clock or time.time,
                    sleep=sleep or time.sleep,
                )
        self.gate = gate
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries, self.backoff_base, self.backoff_cap = max_retries, backoff_base, backoff_cap
        self.max_wait = max_wait
        self.rng = rng or random.Random()
        self.reset_header, self.remaining_header = reset_header, remaining_header
        self.throttle_detector = throttle_detector

    # -- policy helpers -------------------------------------------------------------------------
    def backoff_delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**attempt)) seconds (attempt from 0)."""
        return self.rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * (2.0**attempt)))

    def _advertised_wait(self, headers: Mapping[str, str]) -> float | None:
        """Seconds the vendor asks us to wait: Retry-After (seconds or HTTP date), else the reset header."""
        now = self.gate.now()
        retry_after = headers.get("Retry-After")
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                    return max(0.0, when.timestamp() - now)
                except (TypeError, ValueError):
                    pass
        if self.reset_header and headers.get(self.reset_header):
            try:
                reset = float(headers[self.reset_header])
            except ValueError:
                return None
            # Epoch seconds (Alpaca) or, for small values, seconds until reset.
            return max(0.0, reset - now) if reset > 1e9 else max(0.0, reset)
        return None

    def _note_remaining(self, headers: Mapping[str, str]) -> None:
        """Freeze pre-emptively when a success says no requests remain in the window (X-RateLimit-Remaining: 0)."""
        if not self.remaining_header:
            return
        raw = headers.get(self.remaining_header)
        if raw is None:
            return
        try:
            remaining = int(float(raw))
        except ValueError:
            return
        if remaining <= 0:
            wait = self._advertised_wait({k: v for k, v in headers.items() if k != "Retry-After"})
            if wait:
                self.gate.freeze(wait, f"{self.remaining_header}=0 until the window resets")

    # -- requests -------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth_env: Iterable[str] = (),
        allow_status: Iterable[int] = (),
    ) -> VendorResponse:
        """GET `url` under the vendor's budget and retry policy; see `request`."""
        return self.request("GET", url, params=params, headers=headers, auth_env=auth_env, allow_status=allow_status)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth_env: Iterable[str] = (),
        allow_status: Iterable[int] = (),
    ) -> VendorResponse:
        """Send one logical request, retrying transient failures; returns a 2xx (or allowed) response.

        Raises VendorAuthError (401/403), VendorUnavailable (5xx/timeouts after retries, freezes longer
        than `max_wait`, daily cap), VendorError for other 4xx. Nothing raised contains a credential.
        """
        auth_env = tuple(auth_env)
        allowed = set(allow_status)
        safe_url = scrub_url(requests.Request(method, url, params=params).prepare().url or url)
        failures = 0
        throttles = 0
        while True:
            with self.gate.slot():
                self.gate.admit(max_wait=self.max_wait)
                started = time.perf_counter()
                try:
                    resp = self.session.request(method, url, params=params, headers=headers, timeout=self.timeout)
                    content = resp.content  # reading here surfaces truncated transfers as exceptions
                except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                    failures += 1
                    reason = f"{exc.__class__.__name__}: {scrub(exc)}"
                    if failures > self.max_retries:
                        raise VendorUnavailable(
                            self.vendor, f"{safe_url} failed {failures} times; last: {reason}"
                        ) from None
                    delay = self.backoff_delay(failures - 1)
                    log.warning(
                        "vendor transport error, retrying",
                        extra={"vendor": self.vendor, "url": safe_url, "attempt": failures, "delay_s": round(delay, 3), "error": reason},
                    )
                    self.gate.sleep(delay)
                    continue
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            status = resp.status_code
            log.debug(
                "vendor request",
                extra={"vendor": self.vendor, "url": safe_url, "status": status, "elapsed_ms": round(elapsed_ms, 2), "bytes": len(content)},
            )
            throttle_reason: str | None = None
            vendor_wait: float | None = None
            if status == 429:
                throttle_reason = "HTTP 429"
            elif 200 <= status < 300 and self.throttle_detector is not None:
                verdict = self.throttle_detector(resp)
                if isinstance(verdict, tuple):
                    throttle_reason, vendor_wait = verdict
                else:
                    throttle_reason = verdict
            if throttle_reason:
                throttles += 1
                advertised = self._advertised_wait(resp.headers)
                if advertised is None:
                    advertised = vendor_wait
                wait = advertised if advertised is not None else self.gate.limits.freeze_seconds
                self.gate.freeze(wait, f"{throttle_reason} on {safe_url}")
                if throttles > self.max_retries:
                    raise VendorUnavailable(self.vendor, f"still rate-limited after {throttles} freezes ({throttle_reason})")
                continue
            if status in (401, 403):
                names = " / ".join(auth_env) if auth_env else "the vendor's API key variable"
                raise VendorAuthError(
                    self.vendor,
                    f"HTTP {status} from {safe_url}: credentials rejected; check {names} "
                    f"(the key is set but wrong, expired or lacks this entitlement)",
                )
            if status >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise VendorUnavailable(self.vendor, f"{safe_url} answered HTTP {status} {failures} times")
                delay = self.backoff_delay(failures - 1)
                log.warning(
                    "vendor server error, retrying",
                    extra={"vendor": self.vendor, "url": safe_url, "status": status, "attempt": failures, "delay_s": round(delay, 3)},
                )
                self.gate.sleep(delay)
                continue
            if status >= 400 and status not in allowed:
                body = scrub(content[:300].decode("utf-8", errors="replace"))
                raise VendorError(
                    self.vendor, f"HTTP {status} from {safe_url}: {body}", retryable=False, qc_code="VENDOR_ERROR"
                )
            self._note_remaining(resp.headers)
            return VendorResponse(
                vendor=self.vendor,
                status=status,
                url=safe_url,
                headers=dict(resp.headers),
                content=content,
                received_at=dt.datetime.fromtimestamp(self.gate.now(), tz=dt.timezone.utc),
            )


# -- pagination ------------------------------------------------------------------------------------
PageParser = Callable[[VendorResponse], tuple[T, str | None]]


def paginate(
    vendor: str, fetch_page: Callable[[str | None], tuple[T, str | None]], *, max_pages: int = 100_000
) -> Iterator[T]:
    """Yield pages from `fetch_page(cursor) -> (page, next_cursor)` until the cursor is empty.

    A cursor seen twice (a vendor looping) or more than `max_pages` pages raise VendorError
    (qc_code MALFORMED_PAYLOAD) instead of spinning forever.
    """
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page, cursor = fetch_page(cursor)
        yield page
        if not cursor:
            return
        if cursor in seen:
            raise VendorError(vendor, "pagination loop: the vendor repeated a page cursor", qc_code="MALFORMED_PAYLOAD")
        seen.add(cursor)
    raise VendorError(vendor, f"more than {max_pages} pages; refusing to continue", qc_code="MALFORMED_PAYLOAD")


def token_pages(
    client: VendorHttpClient,
    url: str,
    params: Mapping[str, Any],
    parse: PageParser[T],
    *,
    token_param: str = "page_token",
    headers: Mapping[str, str] | None = None,
    auth_env: Iterable[str] = (),
) -> Iterator[tuple[T, VendorResponse]]:
    """Token pagination (Alpaca ``page_token``/``next_page_token``): same URL, the token as a query parameter."""
    auth_env = tuple(auth_env)

    def fetch(cursor: str | None) -> tuple[tuple[T, VendorResponse], str | None]:
        query = dict(params)
        if cursor:
            query[token_param] = cursor
        resp = client.get(url, params=query, headers=headers, auth_env=auth_env)
        page, nxt = parse(resp)
        return (page, resp), nxt

    return paginate(client.vendor, fetch)


def next_url_pages(
    client: VendorHttpClient,
    url: str,
    params: Mapping[str, Any],
    parse: PageParser[T],
    *,
    base_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra_params: Mapping[str, Any] | None = None,
    auth_env: Iterable[str] = (),
) -> Iterator[tuple[T, VendorResponse]]:
    """Next-URL pagination (Polygon ``next_url``): follow the absolute URL the vendor returns.

    The next URL is re-rooted on `base_url` (so a proxy or replay server stays in the path) and
    `extra_params` (e.g. credentials the vendor leaves out of next_url) are added to it.
    """
    auth_env = tuple(auth_env)

    def fetch(cursor: str | None) -> tuple[tuple[T, VendorResponse], str | None]:
        if cursor is None:
            resp = client.get(url, params={**dict(params), **dict(extra_params or {})}, headers=headers, auth_env=auth_env)
        else:
            target = cursor
            if base_url:
                parts = urlsplit(cursor)
                target = urljoin(base_url.rstrip("/") + "/", parts.path.lstrip("/")) + (f"?{parts.query}" if parts.query else "")
            resp = client.get(target, params=dict(extra_params or {}), headers=headers, auth_env=auth_env)
        page, nxt = parse(resp)
        return (page, resp), nxt

    return paginate(client.vendor, fetch)

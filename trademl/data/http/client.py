"""The client every vendor connector uses: one vendor's gate, retries, freezes and a clean response.

`VendorHttpClient` sends each request under the vendor's `VendorGate` (trademl.data.http.limits),
retries 5xx, timeouts, dropped connections and truncated transfers with exponential backoff and full
jitter, freezes the vendor on HTTP 429 (or a vendor-specific throttle answer) for what the vendor
advertises (``Retry-After`` seconds or HTTP date, else a reset header such as Alpaca's
``X-RateLimit-Reset``), turns 401/403 into `VendorAuthError` naming the environment variable, and
returns a `VendorResponse` whose URL is scrubbed (trademl.data.http.secrets). `request` is the
loop; each of its steps (send once, read a throttle, retry, fail) is a named method below.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from trademl.data.connectors.base import VendorAuthError, VendorError, VendorUnavailable
from trademl.data.http.limits import VendorGate, VendorLimits, gate_for, vendor_limits
from trademl.data.http.secrets import log, scrub, scrub_url

_TRANSPORT_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


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


@dataclass
class _Attempts:
    """The counters of one logical request: transient failures (transport errors, 5xx) and throttle freezes."""

    failures: int = 0
    throttles: int = 0


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
        json_body: Any = None,
    ) -> VendorResponse:
        """Send one logical request, retrying transient failures; returns a 2xx (or allowed) response.
        `json_body`, when given, is sent as the JSON request body (e.g. a webhook POST).

        Raises VendorAuthError (401/403), VendorUnavailable (5xx/timeouts after retries, freezes longer
        than `max_wait`, daily cap), VendorError for other 4xx. Nothing raised contains a credential.
        """
        auth_env = tuple(auth_env)
        allowed = set(allow_status)
        safe_url = scrub_url(requests.Request(method, url, params=params).prepare().url or url)
        attempts = _Attempts()
        while True:
            sent = self._send_once(
                method, url, params=params, headers=headers, safe_url=safe_url, attempts=attempts, json_body=json_body
            )
            if sent is None:
                continue  # a transport error, already backed off
            resp, content = sent
            status = resp.status_code
            throttle_reason, vendor_wait = self._throttle_verdict(resp)
            if throttle_reason:
                self._freeze_for_throttle(resp.headers, throttle_reason, vendor_wait, safe_url, attempts)
                continue
            if status in (401, 403):
                raise self._auth_error(status, safe_url, auth_env)
            if status >= 500:
                self._back_off_server_error(status, safe_url, attempts)
                continue
            if status >= 400 and status not in allowed:
                raise self._client_error(status, content, safe_url)
            self._note_remaining(resp.headers)
            return VendorResponse(
                vendor=self.vendor,
                status=status,
                url=safe_url,
                headers=dict(resp.headers),
                content=content,
                received_at=dt.datetime.fromtimestamp(self.gate.now(), tz=dt.timezone.utc),
            )

    # -- the steps of `request` ------------------------------------------------------------------
    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        safe_url: str,
        attempts: _Attempts,
        json_body: Any = None,
    ) -> tuple[requests.Response, bytes] | None:
        """One admitted send holding an in-flight slot: the response and its body, or None after a
        transport error that was backed off (inside the slot) and may be retried."""
        with self.gate.slot():
            self.gate.admit(max_wait=self.max_wait)
            started = time.perf_counter()
            try:
                resp = self.session.request(
                    method, url, params=params, headers=headers, json=json_body, timeout=self.timeout
                )
                content = resp.content  # reading here surfaces truncated transfers as exceptions
            except _TRANSPORT_ERRORS as exc:
                self._back_off_transport_error(exc, safe_url, attempts)
                return None
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        log.debug(
            "vendor request",
            extra={"vendor": self.vendor, "url": safe_url, "status": resp.status_code, "elapsed_ms": round(elapsed_ms, 2), "bytes": len(content)},
        )
        return resp, content

    def _back_off_transport_error(self, exc: BaseException, safe_url: str, attempts: _Attempts) -> None:
        """Count a timeout / dropped connection / truncated body and sleep before the retry, or give up."""
        attempts.failures += 1
        reason = f"{exc.__class__.__name__}: {scrub(exc)}"
        if attempts.failures > self.max_retries:
            raise VendorUnavailable(
                self.vendor, f"{safe_url} failed {attempts.failures} times; last: {reason}"
            ) from None
        delay = self.backoff_delay(attempts.failures - 1)
        log.warning(
            "vendor transport error, retrying",
            extra={"vendor": self.vendor, "url": safe_url, "attempt": attempts.failures, "delay_s": round(delay, 3), "error": reason},
        )
        self.gate.sleep(delay)

    def _throttle_verdict(self, resp: requests.Response) -> tuple[str | None, float | None]:
        """Whether `resp` is a rate-limit answer: (reason or None, the vendor's own freeze seconds or None)."""
        status = resp.status_code
        if status == 429:
            return "HTTP 429", None
        if 200 <= status < 300 and self.throttle_detector is not None:
            verdict = self.throttle_detector(resp)
            if isinstance(verdict, tuple):
                return verdict
            return verdict, None
        return None, None

    def _freeze_for_throttle(
        self,
        headers: Mapping[str, str],
        reason: str,
        vendor_wait: float | None,
        safe_url: str,
        attempts: _Attempts,
    ) -> None:
        """Freeze the vendor for the advertised wait (else the detector's, else freeze_seconds), or give up."""
        attempts.throttles += 1
        advertised = self._advertised_wait(headers)
        if advertised is None:
            advertised = vendor_wait
        wait = advertised if advertised is not None else self.gate.limits.freeze_seconds
        self.gate.freeze(wait, f"{reason} on {safe_url}")
        if attempts.throttles > self.max_retries:
            raise VendorUnavailable(self.vendor, f"still rate-limited after {attempts.throttles} freezes ({reason})")

    def _auth_error(self, status: int, safe_url: str, auth_env: tuple[str, ...]) -> VendorAuthError:
        """The error for 401/403: names the credential variables, never their values."""
        names = " / ".join(auth_env) if auth_env else "the vendor's API key variable"
        return VendorAuthError(
            self.vendor,
            f"HTTP {status} from {safe_url}: credentials rejected; check {names} "
            f"(the key is set but wrong, expired or lacks this entitlement)",
        )

    def _back_off_server_error(self, status: int, safe_url: str, attempts: _Attempts) -> None:
        """Count a 5xx and sleep before the retry, or give up."""
        attempts.failures += 1
        if attempts.failures > self.max_retries:
            raise VendorUnavailable(self.vendor, f"{safe_url} answered HTTP {status} {attempts.failures} times")
        delay = self.backoff_delay(attempts.failures - 1)
        log.warning(
            "vendor server error, retrying",
            extra={"vendor": self.vendor, "url": safe_url, "status": status, "attempt": attempts.failures, "delay_s": round(delay, 3)},
        )
        self.gate.sleep(delay)

    def _client_error(self, status: int, content: bytes, safe_url: str) -> VendorError:
        """The error for a 4xx the caller did not allow, with the (scrubbed) start of the body."""
        body = scrub(content[:300].decode("utf-8", errors="replace"))
        return VendorError(
            self.vendor, f"HTTP {status} from {safe_url}: {body}", retryable=False, qc_code="VENDOR_ERROR"
        )

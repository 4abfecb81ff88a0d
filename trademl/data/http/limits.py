"""Admission limits and gates, one per vendor: token bucket, UTC-daily cap, in-flight cap, 429 freeze.

Per vendor (SSOT 1.4, 2.2, 2.5, 2.9) a process-wide `VendorGate` enforces
- a token bucket refilled at ``hard_rpm / 60`` requests per second with ``burst_limit`` capacity,
- a daily cap of ``soft_daily_cap`` requests per UTC day (requests beyond it are never sent),
- ``NODE_MAX_INFLIGHT_<VENDOR>`` concurrent requests (``NODE_MAX_INFLIGHT_DEFAULT`` fallback),
- a freeze (after HTTP 429 or a vendor's throttle answer) that the client sizes from what the vendor
  advertises or, when it says nothing, ``VENDOR_FREEZE_SECONDS_<VENDOR>``.
`VendorLimits` come from configs/endpoints.yml ``vendors:`` (``same_as`` vendors share one budget)
and the environment. Clock and sleep are injectable (`ManualClock`) so tests never really wait.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from trademl.data.connectors.base import VendorUnavailable
from trademl.data.endpoints import EndpointRegistry, endpoint_registry
from trademl.data.http.secrets import log


class VendorBudgetExhausted(VendorUnavailable):
    """The vendor's daily request cap (soft_daily_cap) is spent; nothing more is sent until the next UTC day."""


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


def budget_vendor(vendor: str, registry: EndpointRegistry | Mapping[str, Any] | None = None) -> str:
    """The vendor whose budget `vendor` spends (``alfred`` -> ``fred`` via ``same_as`` in configs/endpoints.yml)."""
    return endpoint_registry(registry).budget_vendor(vendor)


def vendor_limits(vendor: str, registry: EndpointRegistry | Mapping[str, Any] | None = None) -> VendorLimits:
    """Limits of `vendor` from configs/endpoints.yml ``vendors:``, overridden by NODE_MAX_INFLIGHT_* and VENDOR_FREEZE_SECONDS_*."""
    reg = endpoint_registry(registry)
    vendor = reg.budget_vendor(vendor)
    spec = reg.vendors[vendor]
    env_name = vendor.upper()
    inflight = env_number(f"NODE_MAX_INFLIGHT_{env_name}")
    if inflight is None:
        inflight = spec.max_inflight
    if inflight is None:
        inflight = env_number("NODE_MAX_INFLIGHT_DEFAULT") or 2
    freeze = env_number(f"VENDOR_FREEZE_SECONDS_{env_name}")
    if freeze is None:
        freeze = spec.freeze_seconds
    return VendorLimits(
        hard_rpm=spec.hard_rpm,
        burst_limit=spec.burst_limit,
        soft_daily_cap=spec.soft_daily_cap,
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

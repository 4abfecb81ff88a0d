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

Modules (this package's ``__init__`` is the facade; import from ``trademl.data.http``):
- ``secrets``: scrubbing of URLs, headers, messages and log records;
- ``limits``: `VendorLimits` from configs/endpoints.yml and the environment, `VendorGate`, the
  process-wide gates, `ManualClock`;
- ``client``: `VendorHttpClient` and `VendorResponse`;
- ``pagination``: `paginate`, `token_pages`, `next_url_pages`.
"""

from __future__ import annotations

from trademl.data.http.client import ThrottleDetector, VendorHttpClient, VendorResponse
from trademl.data.http.limits import (
    ManualClock,
    VendorBudgetExhausted,
    VendorGate,
    VendorLimits,
    budget_vendor,
    env_number,
    gate_for,
    reset_gates,
    vendor_limits,
)
from trademl.data.http.pagination import PageParser, next_url_pages, paginate, token_pages
from trademl.data.http.secrets import MASK, ScrubbingFilter, register_secret, scrub, scrub_headers, scrub_url

__all__ = [
    "MASK",
    "ManualClock",
    "PageParser",
    "ScrubbingFilter",
    "ThrottleDetector",
    "VendorBudgetExhausted",
    "VendorGate",
    "VendorHttpClient",
    "VendorLimits",
    "VendorResponse",
    "budget_vendor",
    "env_number",
    "gate_for",
    "next_url_pages",
    "paginate",
    "register_secret",
    "reset_gates",
    "scrub",
    "scrub_headers",
    "scrub_url",
    "token_pages",
    "vendor_limits",
]

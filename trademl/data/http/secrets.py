"""Secret hygiene for vendor traffic: no credential reaches a log line, an exception or a ``source_uri``.

Query parameters such as ``apiKey=``/``api_key=``/``token=``, bearer tokens and secret-looking
headers are masked, and every secret value a connector registers (`register_secret`) is masked
wherever it appears. `ScrubbingFilter` applies this to log records; it is attached here to the
package's logger (``trademl.data.http``, shared by every module of the package) and to urllib3,
which logs full request URLs at DEBUG.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# One logger for the whole package (tests and log routing address it by this name).
log = logging.getLogger("trademl.data.http")

MASK = "***"
# Query parameters that carry credentials (Polygon apiKey, FRED api_key, Finnhub token, AV/FMP apikey).
_SECRET_PARAM_RE = re.compile(
    r"(?i)(\b(?:api[_-]?key|apikey|token|access[_-]?token|secret|password|key)=)([^&\s'\"#]+)"
)
_SECRET_HEADER_RE = re.compile(r"(?i)(key|secret|token|authorization|password|cookie)")
_BEARER_RE = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]+)")
# The password of a URI's user info: postgresql://user:PASSWORD@host/db.
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*:)([^@\s/]+)(@)")

_secrets_lock = threading.Lock()
_secret_values: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a credential so `scrub` masks it anywhere it appears (values shorter than 4 chars are ignored)."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secret_values.add(value)


def scrub(text: Any) -> str:
    """`text` as a string with credentials masked: secret query parameters, bearer tokens, URI
    passwords (`scheme://user:***@host`), registered keys."""
    out = str(text)
    out = _SECRET_PARAM_RE.sub(lambda m: m.group(1) + MASK, out)
    out = _USERINFO_RE.sub(lambda m: m.group(1) + MASK + m.group(3), out)
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

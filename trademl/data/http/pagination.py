"""Pagination over vendor APIs: a loop-safe cursor walk and the two styles vendors use.

`paginate` follows ``fetch_page(cursor) -> (page, next_cursor)`` and refuses a repeated cursor or an
endless walk (VendorError, qc_code MALFORMED_PAYLOAD) instead of spinning forever; `token_pages`
(Alpaca ``page_token``) and `next_url_pages` (Polygon ``next_url``) drive it through a
`VendorHttpClient`, so every page spends the vendor's budget and gets its retry policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from trademl.data.connectors.base import VendorError
from trademl.data.http.client import VendorHttpClient, VendorResponse

T = TypeVar("T")

# How a page is read: a response -> (the page, the next cursor or None when it is the last).
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

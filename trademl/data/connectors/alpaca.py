"""Alpaca market data v2: daily and minute stock bars (GET /v2/stocks/bars), multi-symbol, page_token pagination.

Wire contract: ``symbols=A,B``, ``timeframe=1Day|1Min``, ``start``/``end`` RFC-3339, ``limit`` (max
10,000 bars per page), ``adjustment=raw`` (as-traded prices), ``feed=iex|sip`` from ALPACA_FEED
(default iex), ``sort=asc``; headers APCA-API-KEY-ID / APCA-API-SECRET-KEY. The body is
``{"bars": {"SYM": [{"t","o","h","l","c","v","n","vw"}, ...]}, "next_page_token": str|null}``.
Throttling follows X-RateLimit-Remaining / X-RateLimit-Reset (epoch seconds).
Pages in Alpaca's compact layout are scanned with numpy and Arrow casts (`alpaca_page`); other JSON
goes through pyarrow's C++ reader; per-bar Python objects are only built for bodies neither takes.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from trademl import calendar
from trademl.data.connectors.alpaca_page import LayoutMismatch, scan_bars_page
from trademl.data.connectors.base import FetchRequest, FetchResult, VendorError
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.normalize import add_dropped, add_metadata, bars_table, empty_frame, failed_sessions, to_table, to_utc
from trademl.data.http import VendorResponse, token_pages

ALPACA_FIELDS = {"t": "ts", "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume", "n": "trades", "vw": "vwap"}
PAGE_LIMIT = 10_000
ALPACA_FEEDS = ("iex", "sip", "delayed_sip", "otc")
_NUMERIC = {"o": pa.float64(), "h": pa.float64(), "l": pa.float64(), "c": pa.float64(), "v": pa.float64(), "n": pa.float64(), "vw": pa.float64()}


def _malformed(reason: str) -> VendorError:
    return VendorError("alpaca", f"malformed bars page: {reason}", retryable=True, qc_code="MALFORMED_PAYLOAD")


def _columns_from_struct(symbol: str, bars: pa.Array) -> dict[str, pa.Array]:
    """Columns of one symbol's bars (a StructArray with fields t,o,h,l,c,v,n,vw)."""
    n = len(bars)
    names = set(bars.type.names) if pa.types.is_struct(bars.type) else set()
    for required in ("t", "o", "h", "l", "c", "v"):
        if required not in names:
            raise _malformed(f"bars of {symbol} lack field {required!r}")
    out: dict[str, pa.Array] = {"symbol": pc.fill_null(pa.nulls(n, pa.string()), symbol)}
    for src, dst in ALPACA_FIELDS.items():
        if src in names:
            col = bars.field(src)
            out[dst] = col if src == "t" else col.cast(_NUMERIC[src])
    return out


def _concat(parts: list[dict[str, pa.Array]]) -> dict[str, pa.Array]:
    """One set of columns from the columns of several pages, whichever reader produced each."""
    if not parts:
        return {}
    out: dict[str, pa.Array] = {}
    for name in ("symbol", "ts", "open", "high", "low", "close", "volume", "trades", "vwap"):
        arrays = [p[name] if name in p else pa.nulls(len(p["symbol"]), pa.float64()) for p in parts]
        if len({a.type for a in arrays}) > 1:  # pages read by different readers (scanner vs JSON reader)
            if name == "ts":
                arrays = [to_utc(a) for a in arrays]  # timestamp[s, UTC] / naive timestamp / ISO string
            elif name != "symbol":
                arrays = [a.cast(pa.float64()) for a in arrays]  # int64 counts vs float64 JSON numbers
        out[name] = pa.concat_arrays(arrays)
    return out


def parse_bars_page(content: bytes) -> tuple[dict[str, pa.Array], str | None]:
    """Columns (symbol, ts, open, high, low, close, volume, trades, vwap) and the next page token of one page.

    Pages in Alpaca's own compact layout go through the vectorised scanner (`alpaca_page`); any
    other JSON through pyarrow's C++ reader, then json.loads for bodies it rejects. Truncated or
    malformed bodies raise VendorError(MALFORMED_PAYLOAD).
    """
    try:
        return scan_bars_page(content)
    except LayoutMismatch:
        pass
    return _read_bars_page(content)


def _read_bars_page(content: bytes) -> tuple[dict[str, pa.Array], str | None]:
    """General path: pyarrow's JSON reader on the whole document, json.loads when it refuses."""
    try:
        doc = pa_json.read_json(
            io.BytesIO(content),
            read_options=pa_json.ReadOptions(block_size=max(len(content) + 1, 1 << 16), use_threads=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _parse_bars_page_slow(content)
    if doc.num_rows != 1 or "bars" not in doc.column_names:
        raise _malformed(f"expected one object with 'bars', got columns {doc.column_names}")
    token = None
    if "next_page_token" in doc.column_names:
        token = doc.column("next_page_token")[0].as_py()
        token = str(token) if token else None
    bars = doc.column("bars").combine_chunks()
    parts: list[dict[str, pa.Array]] = []
    if pa.types.is_struct(bars.type) and bars.is_valid()[0].as_py():
        # One iteration per symbol on the page (a handful); bars are columnar inside.
        for i, fld in enumerate(bars.type):
            lists = bars.field(i)
            if not pa.types.is_list(lists.type):
                raise _malformed(f"bars of {fld.name} are not a list")
            if lists.null_count:
                continue
            parts.append(_columns_from_struct(fld.name, lists.flatten()))
    elif not pa.types.is_null(bars.type) and bars.is_valid()[0].as_py():
        raise _malformed(f"'bars' is {bars.type}, expected an object keyed by symbol")
    return _concat(parts), token


def _parse_bars_page_slow(content: bytes) -> tuple[dict[str, pa.Array], str | None]:
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _malformed(f"{exc.__class__.__name__}: {exc} ({len(content)} bytes)") from None
    if not isinstance(doc, dict) or "bars" not in doc:
        raise _malformed("expected a JSON object with 'bars'")
    raw = doc.get("bars") or {}
    if not isinstance(raw, dict):
        raise _malformed("'bars' must be an object keyed by symbol")
    parts = []
    for symbol, rows in raw.items():
        if not rows:
            continue
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _malformed(f"bars of {symbol} are not a list of objects")
        frame = pd.DataFrame.from_records(rows)
        struct = pa.StructArray.from_arrays(
            [pa.array(frame[c]) for c in frame.columns], names=list(frame.columns)
        )
        parts.append(_columns_from_struct(symbol, struct))
    token = doc.get("next_page_token") or None
    return _concat(parts), (str(token) if token else None)


def symbol_uris(request_uri: str, symbols: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Per-row ``source_uri``: the request URL narrowed to the row's symbol (no page token, no key).

    A multi-symbol request URL names up to 100 symbols; repeating it on every row would store
    kilobytes per bar, so each row carries the URL that reproduces its own symbol's bars.
    """
    parts = urlsplit(request_uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("symbols", "page_token")]
    prefix = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) + "?symbols="
    suffix = ("&" + urlencode(query, safe=":,")) if query else ""
    return pc.binary_join_element_wise(prefix, symbols, suffix, "")


class AlpacaConnector(HttpVendorConnector):
    """Alpaca market data v2 stock bars (equities_eod: 1Day; equities_minute: 1Min, regular hours kept)."""

    source_name = "alpaca"
    api_version = "v2"
    datasets = frozenset({"equities_eod", "equities_minute"})
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("ALPACA_API_KEY_ID", "APCA_API_KEY_ID"),
        ("ALPACA_API_SECRET_KEY", "APCA_API_SECRET_KEY"),
    )
    base_url_env: ClassVar[tuple[str, ...]] = ("ALPACA_API_BASE_URL",)
    reset_header = "X-RateLimit-Reset"
    remaining_header = "X-RateLimit-Remaining"
    symbols_per_request = 100

    def __init__(self, *, feed: str | None = None, **kwargs: Any) -> None:
        """`feed` fixes the data feed (iex, sip, ...); None reads ALPACA_FEED at call time. Other
        keyword arguments go to `HttpVendorConnector` (client, base_url, limits, clock, sleep)."""
        super().__init__(**kwargs)
        self._feed = feed.strip().lower() if feed else None
        if self._feed is not None:
            self._check_feed(self._feed, "feed")

    @staticmethod
    def _check_feed(feed: str, source: str) -> str:
        if feed not in ALPACA_FEEDS:
            raise ValueError(f"{source}={feed!r} is not one of {', '.join(ALPACA_FEEDS)}")
        return feed

    @property
    def feed(self) -> str:
        """The constructor's feed, else ALPACA_FEED read at call time; default iex."""
        if self._feed is not None:
            return self._feed
        feed = os.environ.get("ALPACA_FEED", "iex").strip().lower() or "iex"
        return self._check_feed(feed, "ALPACA_FEED")

    def _headers(self) -> dict[str, str]:
        return {"APCA-API-KEY-ID": self.secret(0), "APCA-API-SECRET-KEY": self.secret(1)}

    def _fetch(self, request: FetchRequest) -> FetchResult:
        minute = request.dataset == "equities_minute"
        symbols = list(request.symbols or self.universe_symbols(request.start))
        table = calendar.session_table(request.start, request.end)
        if table.empty or not symbols:
            return FetchResult(request.dataset, empty_frame(request.dataset), self.source_name)
        # RFC-3339 instants: daily bars are stamped at midnight New York (04:00Z/05:00Z), so a bare
        # end date (= 00:00Z) would drop the last session's bar; the window ends at its close instead.
        first_midnight = pd.Timestamp(table["session"].min()).tz_localize(calendar.EXCHANGE_TZ).tz_convert("UTC")
        start_ts = table["open_utc"].min() if minute else first_midnight
        start = start_ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        end = table["close_utc"].max().strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = self._headers()
        url = self.url("/v2/stocks/bars")
        tables: list[pa.Table] = []
        first_uri: str | None = None
        last_resp: VendorResponse | None = None
        dropped: dict[str, dict[str, int]] = {}
        for i in range(0, len(symbols), self.symbols_per_request):
            chunk = symbols[i : i + self.symbols_per_request]
            params = {
                "symbols": ",".join(chunk),
                "timeframe": "1Min" if minute else "1Day",
                "start": start,
                "end": end,
                "limit": PAGE_LIMIT,
                "adjustment": "raw",
                "feed": self.feed,
                "sort": "asc",
            }
            parts = []
            for cols, resp in token_pages(
                self.client, url, params, lambda r: parse_bars_page(r.content), headers=headers, auth_env=self.auth_env
            ):
                first_uri = first_uri or resp.url
                last_resp = resp
                if cols:
                    parts.append(cols)
            if not parts:
                continue
            merged = _concat(parts)
            norm = bars_table(merged, minute=minute)
            add_dropped(dropped, norm.dropped)
            tables.append(norm.table)
        if not tables:
            frame = empty_frame(request.dataset)
        else:
            data = pa.concat_tables(tables)
            data = add_metadata(
                data,
                source_name=self.source_name,
                source_uri=symbol_uris(first_uri or url, data.column("symbol")),
                api_version=self.api_version,
                ingested_at=last_resp.received_at if last_resp else None,
            )
            frame = to_table(data, request.dataset)  # stays Arrow: ingest conforms it without pandas
        return FetchResult(
            request.dataset, frame, self.source_name, failed_sessions(frame, table, dropped.get("non_session", {})), dropped=dropped
        )


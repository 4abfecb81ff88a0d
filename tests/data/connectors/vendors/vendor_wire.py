"""Local stand-ins for the vendors' HTTP APIs, speaking each vendor's wire format.

Each simulator is a werkzeug handler mounted on a real local HTTP server (pytest-httpserver):
it checks paths, query parameters and auth headers like the vendor does, paginates with the
vendor's own tokens, sends its rate-limit headers, and serves queued faults (429 with
Retry-After, 500s, truncated transfers, malformed bodies) before normal answers. Every request
the server saw is kept in `seen` so tests can count them.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from werkzeug import Request, Response

from trademl import calendar

Fault = Response | Callable[[Request], Response]


def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc, separators=(",", ":")), status=status, headers=headers or {}, content_type="application/json")


def status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Response:
    """A bare error answer (429, 500, 401, ...)."""
    return Response(body or json.dumps({"message": f"status {code}"}), status=code, headers=headers or {}, content_type="application/json")


def malformed(body: bytes = b'{"bars": {"AAPL": [{"t": "2024-03-08T14:30:00Z", "o": 1') -> Response:
    """A complete transfer whose body is not valid JSON (cut mid-document by the vendor)."""
    return Response(body, status=200, content_type="application/json")


def truncated_transfer(body: bytes = b'{"bars": {}, "next_page_token": null}') -> Response:
    """A response announcing more bytes than it sends before the connection closes (IncompleteRead)."""
    resp = Response(body[: len(body) // 2], status=200, content_type="application/json")
    resp.headers["Content-Length"] = str(len(body))
    resp.headers["Connection"] = "close"
    resp.automatically_set_content_length = False
    return resp


def iso_z(ts: pd.Series) -> pd.Series:
    """UTC instants as RFC-3339 strings with a Z suffix (Alpaca's format)."""
    return ts.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def daily_bars(symbols: list[str], start: str, end: str) -> pd.DataFrame:
    """One deterministic bar per symbol and XNYS session, stamped at midnight New York (as UTC)."""
    sessions = calendar.sessions(start, end)
    grid = pd.MultiIndex.from_product([symbols, sessions], names=["symbol", "session"]).to_frame(index=False)
    sym_idx = grid["symbol"].map({s: i for i, s in enumerate(symbols)}).to_numpy()
    day_idx = np.tile(np.arange(len(sessions)), len(symbols))
    close = 100.0 + 10.0 * sym_idx + 0.5 * day_idx
    grid["t"] = grid["session"].dt.tz_localize(calendar.EXCHANGE_TZ).dt.tz_convert("UTC")
    return _ohlc(grid, close, volume=1_000_000 + 1_000 * day_idx)


def minute_bars(symbols: list[str], start: str, end: str, *, extended: bool = True) -> pd.DataFrame:
    """Deterministic one-minute bars: the full regular session, plus pre/post-market bars when `extended`."""
    frames = []
    for session in calendar.sessions(start, end):  # one block per session (a handful in tests)
        open_utc, close_utc = calendar.session_open_close(session)
        lo = open_utc - pd.Timedelta(minutes=330) if extended else open_utc
        hi = close_utc + pd.Timedelta(minutes=240) if extended else close_utc
        minutes = pd.date_range(lo, hi, freq="1min", inclusive="left")
        frames.append(pd.DataFrame({"t": minutes, "session": session}))
    times = pd.concat(frames, ignore_index=True)
    grid = pd.concat([times.assign(symbol=s) for s in symbols], ignore_index=True)
    sym_idx = grid["symbol"].map({s: i for i, s in enumerate(symbols)}).to_numpy()
    k = np.tile(np.arange(len(times)), len(symbols))
    close = 50.0 + 5.0 * sym_idx + 0.01 * (k % 500)
    return _ohlc(grid, close, volume=100 + (k % 97))


def _ohlc(grid: pd.DataFrame, close: np.ndarray, volume: np.ndarray) -> pd.DataFrame:
    out = grid.assign(
        o=np.round(close - 0.05, 4),
        h=np.round(close + 0.10, 4),
        l=np.round(close - 0.10, 4),
        c=np.round(close, 4),
        v=volume.astype("int64"),
        n=(volume // 10).astype("int64"),
        vw=np.round(close - 0.01, 4),
    )
    return out.sort_values(["symbol", "t"]).reset_index(drop=True)


class VendorSim:
    """Base simulator: request log, queued faults, auth check, then the vendor's normal answer."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.seen: list[Request] = []
        self.seen_at: list[float] = []
        self.faults: deque[Fault] = deque()
        self.clock = clock or time.time

    def fault(self, *answers: Fault) -> "VendorSim":
        """Serve `answers` (in order) to the next requests, before any normal answer."""
        self.faults.extend(answers)
        return self

    def __call__(self, request: Request) -> Response:
        self.seen.append(request)
        self.seen_at.append(self.clock())
        if self.faults:
            answer = self.faults.popleft()
            return answer if isinstance(answer, Response) else answer(request)
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        return self.serve(request)

    def check_auth(self, request: Request) -> Response | None:
        return None

    def serve(self, request: Request) -> Response:
        raise NotImplementedError

    def paths(self) -> list[str]:
        return [r.path for r in self.seen]


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    return int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])


class AlpacaSim(VendorSim):
    """GET /v2/stocks/bars: multi-symbol bars, page_token pagination, APCA headers, X-RateLimit-*."""

    def __init__(
        self,
        bars: dict[str, pd.DataFrame],
        *,
        key_id: str,
        secret: str,
        page_cap: int | None = None,
        rate_limit: int = 200,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(clock)
        self.bars, self.key_id, self.secret = bars, key_id, secret
        self.page_cap, self.rate_limit = page_cap, rate_limit
        self.remaining = rate_limit
        self.remaining_script: deque[int] = deque()  # X-RateLimit-Remaining values to announce next

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("APCA-API-KEY-ID") != self.key_id or request.headers.get("APCA-API-SECRET-KEY") != self.secret:
            return status(401, json.dumps({"code": 40110000, "message": "request is not authorized"}))
        return None

    def serve(self, request: Request) -> Response:
        if request.path != "/v2/stocks/bars":
            return status(404)
        q = request.args
        timeframe = q.get("timeframe")
        if timeframe not in self.bars:
            return status(422, json.dumps({"message": f"invalid timeframe {timeframe}"}))
        if q.get("adjustment") != "raw" or q.get("feed") not in ("iex", "sip"):
            return status(422, json.dumps({"message": "adjustment/feed invalid"}))
        limit = int(q.get("limit", 1000))
        if not 1 <= limit <= 10_000:
            return status(422, json.dumps({"message": "invalid limit"}))
        start, end = pd.Timestamp(q["start"]), pd.Timestamp(q["end"])
        symbols = q["symbols"].split(",")
        frame = self.bars[timeframe]
        rows = frame[frame["symbol"].isin(symbols) & (frame["t"] >= start) & (frame["t"] <= end)]
        offset = _offset(q.get("page_token"))
        size = min(limit, self.page_cap or limit)
        page = rows.iloc[offset : offset + size]
        nxt = _token(offset + size) if offset + size < len(rows) else None
        body: dict[str, list[dict[str, Any]]] = {}
        recs = page.assign(t=iso_z(page["t"]))[["symbol", "t", "o", "h", "l", "c", "v", "n", "vw"]]
        for symbol, grp in recs.groupby("symbol", sort=True):
            body[str(symbol)] = grp.drop(columns="symbol").to_dict("records")
        self.remaining = self.remaining_script.popleft() if self.remaining_script else max(0, self.remaining - 1)
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.clock()) + 60),
        }
        return json_response({"bars": body, "next_page_token": nxt}, headers=headers)


class MassiveSim(VendorSim):
    """Massive/Polygon: aggs with next_url (absolute, on the vendor's public host), splits, dividends, tickers."""

    def __init__(self, *, key: str, aggs: dict[str, pd.DataFrame] | None = None, page_cap: int = 50_000,
                 splits: list[dict] | None = None, dividends: list[dict] | None = None,
                 tickers: list[dict] | None = None, public_host: str = "https://api.massive.com") -> None:
        super().__init__()
        self.key, self.aggs, self.page_cap = key, aggs or {}, page_cap
        self.splits, self.dividends, self.tickers = splits or [], dividends or [], tickers or []
        self.public_host = public_host

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_response({"status": "ERROR", "request_id": "x", "error": "Unknown API Key"}, status=401)
        return None

    def _next(self, request: Request, offset: int, total: int, size: int) -> str | None:
        if offset + size >= total:
            return None
        return f"{self.public_host}{request.path}?cursor={_token(offset + size)}"

    def serve(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        q = request.args
        offset = _offset(q.get("cursor"))
        if parts[:3] == ["v2", "aggs", "ticker"]:
            ticker, timespan, frm, to = parts[3], parts[6], parts[7], parts[8]
            if q.get("adjusted", "false") != "false" and "cursor" not in q:
                return status(400)
            frame = self.aggs.get(timespan, pd.DataFrame(columns=["symbol", "t", "session"]))
            lo = pd.Timestamp(frm).tz_localize(calendar.EXCHANGE_TZ)
            hi = (pd.Timestamp(to) + pd.Timedelta(days=1)).tz_localize(calendar.EXCHANGE_TZ)
            rows = frame[(frame["symbol"] == ticker) & (frame["t"] >= lo) & (frame["t"] < hi)]
            page = rows.iloc[offset : offset + self.page_cap]
            results = page.assign(t=(page["t"].astype("int64") // 10**6 if len(page) else page["t"]))[
                ["t", "o", "h", "l", "c", "v", "vw", "n"]
            ].to_dict("records")
            doc: dict[str, Any] = {"ticker": ticker, "status": "OK", "resultsCount": len(results), "adjusted": False}
            if results:
                doc["results"] = results
            nxt = self._next(request, offset, len(rows), self.page_cap)
            if nxt:
                doc["next_url"] = nxt
            return json_response(doc)
        if parts[:2] == ["v3", "reference"] and parts[2] in ("splits", "dividends"):
            rows = self.splits if parts[2] == "splits" else self.dividends
            date_key = "execution_date" if parts[2] == "splits" else "ex_dividend_date"
            if "cursor" not in q:
                self._filters = {k: v for k, v in q.items()}
            f = self._filters
            sel = [r for r in rows if (not f.get("ticker") or r["ticker"] == f["ticker"])
                   and f.get(f"{date_key}.gte", "0000") <= r[date_key] <= f.get(f"{date_key}.lte", "9999")]
            size = 2
            doc = {"status": "OK", "results": sel[offset : offset + size]}
            nxt = self._next(request, offset, len(sel), size)
            if nxt:
                doc["next_url"] = nxt
            return json_response(doc)
        if parts[:3] == ["v3", "reference", "tickers"]:
            if len(parts) == 4:
                match = [t for t in self.tickers if t["ticker"] == parts[3]]
                if not match:
                    return json_response({"status": "NOT_FOUND", "message": "Ticker not found."}, status=404)
                return json_response({"status": "OK", "results": match[0]})
            sel = [t for t in self.tickers if str(t.get("active")).lower() == q.get("active", "true")]
            return json_response({"status": "OK", "results": sel})
        return status(404)


class FinnhubSim(VendorSim):
    """Finnhub: /stock/candle (column arrays, s=ok|no_data, stamped 00:00 UTC) and /stock/option-chain."""

    def __init__(self, *, key: str, daily: pd.DataFrame | None = None, chains: dict[str, dict] | None = None) -> None:
        super().__init__()
        self.key, self.daily, self.chains = key, daily, chains or {}

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("X-Finnhub-Token") != self.key:
            return json_response({"error": "Invalid API key"}, status=401)
        return None

    def serve(self, request: Request) -> Response:
        q = request.args
        if request.path == "/api/v1/stock/candle":
            if q.get("resolution") != "D":
                return status(422)
            frm = pd.Timestamp(int(q["from"]), unit="s", tz="UTC")
            to = pd.Timestamp(int(q["to"]), unit="s", tz="UTC")
            d = self.daily
            stamp = d["session"].dt.tz_localize("UTC")  # Finnhub stamps daily candles at 00:00 UTC
            rows = d[(d["symbol"] == q["symbol"]) & (stamp >= frm) & (stamp <= to)]
            if rows.empty:
                return json_response({"s": "no_data"})
            st = stamp[rows.index]
            return json_response({
                "s": "ok", "t": (st.astype("int64") // 10**9).tolist(), "o": rows["o"].tolist(), "h": rows["h"].tolist(),
                "l": rows["l"].tolist(), "c": rows["c"].tolist(), "v": rows["v"].tolist(),
            }, headers={"X-Ratelimit-Remaining": "59"})
        if request.path == "/api/v1/stock/option-chain":
            chain = self.chains.get(q.get("symbol", ""))
            return json_response(chain or {"code": q.get("symbol"), "data": []})
        return status(404)


FRED_EARLIEST, FRED_LATEST = "1776-07-04", "9999-12-31"  # FRED's open real-time bounds


def alfred_periods(vintages: pd.DataFrame) -> list[dict[str, str]]:
    """ALFRED real-time periods from new-or-revised rows (``observation_date``, ``vintage_date``, ``value``).

    Each row's period runs from its vintage to the day before the observation's next vintage
    (``9999-12-31`` while current), the way FRED stores a series' history. Values are strings
    (``"."`` for a missing value), dates ``YYYY-MM-DD``.
    """
    rows = vintages.assign(
        observation_date=pd.to_datetime(vintages["observation_date"]),
        vintage_date=pd.to_datetime(vintages["vintage_date"]),
    ).sort_values(["observation_date", "vintage_date"])
    nxt = rows.groupby("observation_date")["vintage_date"].shift(-1) - pd.Timedelta(days=1)
    value = rows["value"].map(lambda v: "." if pd.isna(v) else f"{v:g}")
    return pd.DataFrame({
        "realtime_start": rows["vintage_date"].dt.strftime("%Y-%m-%d"),
        "realtime_end": nxt.dt.strftime("%Y-%m-%d").fillna(FRED_LATEST),
        "date": rows["observation_date"].dt.strftime("%Y-%m-%d"),
        "value": value,
    }).to_dict("records")


class FredSim(VendorSim):
    """FRED/ALFRED: /fred/series/observations and /fred/series/vintagedates as FRED answers them.

    ``observations`` holds each series' full real-time history: ALFRED periods
    ``{"realtime_start", "realtime_end", "date", "value"}`` (``"."`` missing). Like FRED:
    - the real-time window defaults to ``today`` for observations and to all of history for
      vintagedates; a window that ends before it starts is a 400;
    - every returned period is clipped to the requested window: a value published before
      ``realtime_start`` and still valid comes back with ``realtime_start`` = the window start
      (and ``realtime_end`` = the window end while it is still current);
    - vintagedates lists the dates on which a value was new or revised, weekends and exchange
      holidays included (FRED publishes on them);
    - only ``output_type=1`` (observations by real-time period) is served; anything else is a 400
      here so a connector relying on another layout fails loudly;
    - api_key query parameter, limit/offset pagination against ``count``.
    """

    def __init__(self, *, key: str, observations: dict[str, list[dict[str, str]]], page_cap: int = 100_000,
                 today: str = "2024-06-03") -> None:
        super().__init__()
        self.key, self.observations, self.page_cap, self.today = key, observations, page_cap, today

    def check_auth(self, request: Request) -> Response | None:
        if request.args.get("api_key") != self.key:
            return json_response({"error_code": 400, "error_message": "Bad Request.  The value for variable api_key is not registered."}, status=400)
        return None

    @staticmethod
    def _bad(message: str) -> Response:
        return json_response({"error_code": 400, "error_message": f"Bad Request.  {message}"}, status=400)

    def serve(self, request: Request) -> Response:
        q = request.args
        if request.path not in ("/fred/series/observations", "/fred/series/vintagedates") or q.get("file_type") != "json":
            return status(404)
        series = self.observations.get(q.get("series_id", ""))
        if series is None:
            return self._bad("The series does not exist.")
        vintagedates = request.path.endswith("vintagedates")
        lo = q.get("realtime_start", FRED_EARLIEST if vintagedates else self.today)
        hi = q.get("realtime_end", FRED_LATEST if vintagedates else self.today)
        if hi < lo:
            return self._bad(f"The value for variable realtime_start ({lo}) is after realtime_end ({hi}).")
        offset = int(q.get("offset", 0))
        cap = 10_000 if vintagedates else 100_000
        size = min(int(q.get("limit", cap)), cap, self.page_cap)
        head = {"realtime_start": lo, "realtime_end": hi, "offset": offset, "limit": size}
        if vintagedates:
            dates = sorted({o["realtime_start"] for o in series if lo <= o["realtime_start"] <= hi})
            if q.get("sort_order") == "desc":
                dates.reverse()
            return json_response(head | {"order_by": "vintage_date", "sort_order": q.get("sort_order", "asc"),
                                         "count": len(dates), "vintage_dates": dates[offset : offset + size]})
        if q.get("output_type", "1") != "1":
            return self._bad("This simulator serves output_type=1 (observations by real-time period) only.")
        o_lo, o_hi = q.get("observation_start", FRED_EARLIEST), q.get("observation_end", FRED_LATEST)
        rows = [
            o | {"realtime_start": max(o["realtime_start"], lo), "realtime_end": min(o["realtime_end"], hi)}
            for o in series
            if o["realtime_start"] <= hi and o["realtime_end"] >= lo and o_lo <= o["date"] <= o_hi
        ]
        rows.sort(key=lambda o: (o["date"], o["realtime_start"]))
        return json_response(head | {"count": len(rows), "observations": rows[offset : offset + size]})


class AlphaVantageSim(VendorSim):
    """Alpha Vantage /query: LISTING_STATUS CSV, SPLITS/DIVIDENDS JSON, in-band 'Note' throttling."""

    def __init__(self, *, key: str, delisted_csv: str = "", splits: dict | None = None, dividends: dict | None = None) -> None:
        super().__init__()
        self.key, self.delisted_csv = key, delisted_csv
        self.splits, self.dividends = splits or {}, dividends or {}

    def check_auth(self, request: Request) -> Response | None:
        if request.args.get("apikey") != self.key:
            return json_response({"Error Message": "the parameter apikey is invalid or missing."})
        return None

    def serve(self, request: Request) -> Response:
        q = request.args
        fn = q.get("function")
        if request.path != "/query":
            return status(404)
        if fn == "LISTING_STATUS":
            return Response(self.delisted_csv, content_type="application/x-download")
        if fn == "SPLITS":
            return json_response({"symbol": q["symbol"], "data": self.splits.get(q["symbol"], [])})
        if fn == "DIVIDENDS":
            return json_response({"symbol": q["symbol"], "data": self.dividends.get(q["symbol"], [])})
        return json_response({"Error Message": "Invalid API call."})


class FmpSim(VendorSim):
    """FMP /api/v3: delisted-companies pages (newest first, empty page ends), statements per symbol."""

    def __init__(self, *, key: str, delisted: list[dict] | None = None, statements: dict[str, list[dict]] | None = None,
                 page_size: int = 100) -> None:
        super().__init__()
        self.key, self.delisted, self.statements, self.page_size = key, delisted or [], statements or {}, page_size

    def check_auth(self, request: Request) -> Response | None:
        if request.args.get("apikey") != self.key:
            return json_response({"Error Message": "Invalid API KEY. Please retry or visit our documentation."}, status=401)
        return None

    def serve(self, request: Request) -> Response:
        if request.path == "/api/v3/delisted-companies":
            page = int(request.args.get("page", 0))
            return json_response(self.delisted[page * self.page_size : (page + 1) * self.page_size])
        if request.path.startswith("/api/v3/income-statement/"):
            return json_response(self.statements.get(request.path.rsplit("/", 1)[1], []))
        return status(404)


def listing_csv(rows: list[tuple[str, ...]]) -> str:
    """An Alpha Vantage LISTING_STATUS CSV body."""
    out = io.StringIO()
    out.write("symbol,name,exchange,assetType,ipoDate,delistingDate,status\r\n")
    for r in rows:
        out.write(",".join(r) + "\r\n")
    return out.getvalue()


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)

"""Finnhub: daily candles as a backup EOD source, option-chain snapshots and the earnings calendar.

Wire contract (auth header ``X-Finnhub-Token: <FINNHUB_API_KEY>``):
- ``/stock/candle?symbol=S&resolution=D&from=<unix s>&to=<unix s>`` ->
  ``{"s": "ok", "t": [...], "o": [...], "h": [...], "l": [...], "c": [...], "v": [...]}`` or
  ``{"s": "no_data"}``; daily candles are stamped at 00:00 UTC of the trading day;
- ``/stock/option-chain?symbol=S`` -> ``{"code", "lastTradePrice", "data": [{"expirationDate",
  "options": {"CALL": [{"strike","bid","ask",...}], "PUT": [...]}}]}`` - a current snapshot only,
  stored under the latest session that had opened when it was taken;
- ``/calendar/earnings?from=YYYY-MM-DD&to=YYYY-MM-DD[&symbol=S]`` -> ``{"earningsCalendar": [{"date",
  "epsActual", "epsEstimate", "hour": "bmo"|"amc"|"dmh"|"", "quarter", "revenueActual",
  "revenueEstimate", "symbol", "year"}]}``; known_date by trademl.data.connectors.pit_reference.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.data.connectors.base import FetchRequest, FetchResult, VendorError
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.pit_reference import earnings_rows
from trademl.data.connectors.normalize import add_dropped, add_metadata, bars_table, empty_frame, epoch_to_utc, failed_sessions, to_frame
from trademl.schemas import table_spec


def _epoch(day: dt.date, end_of_day: bool = False) -> int:
    seconds = _cal.timegm(day.timetuple())
    return seconds + (86_399 if end_of_day else 0)


class FinnhubConnector(HttpVendorConnector):
    """Finnhub REST: equities_eod (candles, backup), options_chains (current snapshot), earnings_calendar."""

    source_name = "finnhub"
    api_version = "v1"
    datasets = frozenset({"equities_eod", "options_chains", "earnings_calendar"})
    earnings_lookahead_days = 120  # an event known by the request's end may lie this far beyond it
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (("FINNHUB_API_KEY",),)

    def _headers(self) -> dict[str, str]:
        return {"X-Finnhub-Token": self.secret(0)}

    def _fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "equities_eod":
            return self._candles(request)
        if request.dataset == "earnings_calendar":
            return self._earnings_calendar(request)
        return self._option_chains(request)

    def _earnings_calendar(self, request: FetchRequest) -> FetchResult:
        """One call for the whole market, or one per requested symbol, from `start` - 7 days to `end` + lookahead."""
        window = {
            "from": (request.start - dt.timedelta(days=7)).isoformat(),  # an amc announcement on the eve of start is known at start
            "to": (request.end + dt.timedelta(days=self.earnings_lookahead_days)).isoformat(),
        }
        frames, last = [], None
        for symbol in request.symbols or (None,):
            params = window | ({"symbol": symbol} if symbol else {})
            last = self.client.get(self.url("/calendar/earnings"), params=params, headers=self._headers(), auth_env=self.auth_env)
            doc = last.json()
            rows = doc.get("earningsCalendar") if isinstance(doc, dict) else None
            if not isinstance(rows, list):
                raise VendorError(self.source_name, "earnings calendar without an 'earningsCalendar' list", qc_code="MALFORMED_PAYLOAD")
            if rows:
                d = pd.DataFrame.from_records(rows)
                if "date" not in d or "symbol" not in d:
                    raise VendorError(self.source_name, "earnings calendar rows lack 'date' or 'symbol'", qc_code="MALFORMED_PAYLOAD")
                frames.append(pd.DataFrame({"symbol": d["symbol"], "earnings_date": d["date"], "time_of_day": d.get("hour"), "source_uri": last.url}))
        events = pd.concat(frames, ignore_index=True) if frames else None
        out = earnings_rows(
            events, request, source_name=self.source_name, api_version=self.api_version, received_at=last.received_at if last else None
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _candles(self, request: FetchRequest) -> FetchResult:
        sessions = calendar.session_table(request.start, request.end)
        symbols = list(request.symbols or self.universe_symbols(request.start))
        tables, uris, last = [], [], None
        dropped: dict[str, dict[str, int]] = {}
        for symbol in symbols:  # the candle endpoint is single-symbol
            resp = self.client.get(
                self.url("/stock/candle"),
                params={
                    "symbol": symbol,
                    "resolution": "D",
                    "from": _epoch(request.start),
                    "to": _epoch(request.end, end_of_day=True),
                },
                headers=self._headers(),
                auth_env=self.auth_env,
            )
            last = resp
            doc = resp.json()
            if not isinstance(doc, dict) or "s" not in doc:
                raise VendorError(self.source_name, f"candle payload without status 's' for {symbol}", qc_code="MALFORMED_PAYLOAD")
            if doc["s"] == "no_data":
                continue
            if doc["s"] != "ok":
                raise VendorError(self.source_name, f"candle status {doc['s']!r} for {symbol}", qc_code="MALFORMED_PAYLOAD")
            lengths = {k: len(doc.get(k) or []) for k in ("t", "o", "h", "l", "c", "v")}
            if len(set(lengths.values())) != 1:
                raise VendorError(
                    self.source_name, f"candle arrays of {symbol} differ in length {lengths}", qc_code="MALFORMED_PAYLOAD"
                )
            n = lengths["t"]
            if n == 0:
                continue
            cols = {
                "symbol": pa.array(np.full(n, symbol, dtype=object), type=pa.string()),
                "ts": epoch_to_utc(np.asarray(doc["t"], dtype="int64"), "s"),
                "open": pa.array(doc["o"], type=pa.float64()),
                "high": pa.array(doc["h"], type=pa.float64()),
                "low": pa.array(doc["l"], type=pa.float64()),
                "close": pa.array(doc["c"], type=pa.float64()),
                "volume": pa.array(doc["v"], type=pa.float64()),
            }
            norm = bars_table(cols, minute=False, day_label="utc")
            add_dropped(dropped, norm.dropped)
            tables.append(norm.table)
            uris.append(resp.url)
        if not tables:
            frame = empty_frame(request.dataset)
        else:
            data = pa.concat_tables(tables)
            data = add_metadata(
                data,
                source_name=self.source_name,
                source_uri=pa.array(np.repeat(uris, [t.num_rows for t in tables]), type=pa.string()),
                api_version=self.api_version,
                ingested_at=last.received_at if last else None,
            )
            frame = to_frame(data, request.dataset)
        return FetchResult(
            request.dataset, frame, self.source_name, failed_sessions(frame, sessions, dropped.get("non_session", {})), dropped=dropped
        )

    def _option_chains(self, request: FetchRequest) -> FetchResult:
        if not request.symbols:
            raise VendorError(self.source_name, "option chains need underliers: pass symbols", retryable=False)
        frames: list[pd.DataFrame] = []
        snapshot_session: dt.date | None = None
        for underlier in request.symbols:
            resp = self.client.get(
                self.url("/stock/option-chain"), params={"symbol": underlier}, headers=self._headers(), auth_env=self.auth_env
            )
            taken = pd.Timestamp(resp.received_at)
            session = _snapshot_session(taken)
            snapshot_session = session
            if not request.start <= session <= request.end:
                continue
            frames.append(_chain_rows(resp.json(), underlier, taken, session, resp.url))
        sessions = calendar.session_table(request.start, request.end)
        if frames:
            frame = pd.concat(frames, ignore_index=True)
            frame = frame[list(table_spec("options_chains").schema.names)]
        else:
            frame = empty_frame(request.dataset)
        failed = {}
        for s in sessions["session"]:
            if s.date() != snapshot_session:
                failed[s.date().isoformat()] = (
                    f"NO_DATA: finnhub serves only the current option chain (snapshot session {snapshot_session})"
                )
        if not frames and snapshot_session is not None:
            failed.setdefault(request.end.isoformat(), f"NO_DATA: empty option chain for session {snapshot_session}")
        return FetchResult(request.dataset, frame, self.source_name, failed)


def _snapshot_session(taken: pd.Timestamp) -> dt.date:
    """The latest XNYS session whose open is at or before `taken` (UTC): quotes belong to it."""
    local_day = calendar.session_of(pd.DatetimeIndex([taken]))[0]
    if calendar.is_session(local_day):
        open_utc, _ = calendar.session_open_close(local_day)
        if taken >= open_utc:
            return local_day.date()
    return calendar.previous_session(local_day).date()


def _chain_rows(doc: Any, underlier: str, taken: pd.Timestamp, session: dt.date, uri: str) -> pd.DataFrame:
    """raw/options_nbbo rows of one option-chain payload (one row per contract)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data", []), list):
        raise VendorError("finnhub", f"option chain of {underlier} is not an object with a 'data' list", qc_code="MALFORMED_PAYLOAD")
    records: list[dict[str, Any]] = []
    for expiry in doc.get("data") or []:  # one iteration per expiry, contracts are bulk-copied
        options = (expiry or {}).get("options") or {}
        for side, flag in (("CALL", "C"), ("PUT", "P")):
            for contract in options.get(side) or []:
                records.append({**contract, "cp_flag": flag, "_expiry": expiry.get("expirationDate")})
    if not records:
        return empty_frame("options_chains")
    c = pd.DataFrame.from_records(records)
    for needed in ("strike", "bid", "ask"):
        if needed not in c:
            raise VendorError("finnhub", f"option contracts of {underlier} lack {needed!r}", qc_code="MALFORMED_PAYLOAD")
    expiry = c["expirationDate"] if "expirationDate" in c else c["_expiry"]
    bid, ask = pd.to_numeric(c["bid"], errors="coerce"), pd.to_numeric(c["ask"], errors="coerce")
    n = len(c)
    last_price = doc.get("lastTradePrice")
    frame = pd.DataFrame(
        {
            "ts_ns": np.full(n, taken.value, dtype="int64"),
            "date": [session] * n,
            "underlier": underlier,
            "expiry": pd.to_datetime(expiry.fillna(c["_expiry"])).dt.date,
            "strike": pd.to_numeric(c["strike"], errors="coerce"),
            "cp_flag": c["cp_flag"],
            "bid": bid,
            "ask": ask,
            "bid_size": pd.array([None] * n, dtype="Int64"),
            "ask_size": pd.array([None] * n, dtype="Int64"),
            "nbbo_mid": (bid + ask) / 2.0,
            "exchs_bitmap": pd.array([None] * n, dtype="Int64"),
            "underlying_price": float(last_price) if last_price is not None else np.nan,
        }
    )
    table = add_metadata(
        pa.Table.from_pandas(frame, preserve_index=False),
        source_name="finnhub",
        source_uri=uri,
        api_version=FinnhubConnector.api_version,
        ingested_at=taken,
        vendor_ts=taken,
    )
    return table.to_pandas()

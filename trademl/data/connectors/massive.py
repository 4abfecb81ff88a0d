"""Massive (formerly Polygon.io): aggregates, splits, dividends and ticker details for delistings.

Wire contract (auth ``Authorization: Bearer <MASSIVE_API_KEY>``, so keys never enter URLs):
- ``/v2/aggs/ticker/{T}/range/1/{day|minute}/{from}/{to}?adjusted=false&sort=asc&limit=50000``:
  ``{"status": "OK", "results": [{"t": ms epoch, "o","h","l","c","v","vw","n"}], "next_url": ...}``;
  daily bars are stamped at midnight New York;
- ``/v3/reference/splits`` (``execution_date``, ``split_from``, ``split_to``) and
  ``/v3/reference/dividends`` (``ex_dividend_date``, ``record_date``, ``pay_date``, ``cash_amount``),
  both with ``next_url`` pagination;
- ``/v3/reference/tickers/{T}`` (``results.active``, ``results.delisted_utc``) and the market-wide
  ``/v3/reference/tickers?active=false`` listing for delistings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from trademl import calendar
from trademl.data.connectors.base import FetchRequest, FetchResult, VendorError
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.normalize import (
    add_dropped,
    add_metadata,
    bars_table,
    empty_frame,
    epoch_to_utc,
    failed_sessions,
    reference_frame,
    to_frame,
)
from trademl.data.http import VendorResponse, next_url_pages

AGG_LIMIT = 50_000


def _json_page(resp: VendorResponse, key: str = "results") -> tuple[list[dict[str, Any]], str | None]:
    doc = resp.json()
    if not isinstance(doc, dict):
        raise VendorError("massive", f"expected a JSON object from {resp.url}", qc_code="MALFORMED_PAYLOAD")
    if str(doc.get("status", "OK")).upper() == "ERROR":
        raise VendorError("massive", f"{resp.url}: {doc.get('error') or doc.get('message')}", retryable=False)
    rows = doc.get(key) or []
    if not isinstance(rows, list):
        raise VendorError("massive", f"'{key}' is not a list in {resp.url}", qc_code="MALFORMED_PAYLOAD")
    return rows, doc.get("next_url") or None


class MassiveConnector(HttpVendorConnector):
    """Massive/Polygon REST: equities_eod and equities_minute (aggs), corp_actions, delistings."""

    source_name = "massive"
    api_version = "v2-aggs/v3-reference"
    datasets = frozenset({"equities_eod", "equities_minute", "corp_actions", "delistings"})
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (("MASSIVE_API_KEY", "POLYGON_API_KEY"),)
    base_url_env: ClassVar[tuple[str, ...]] = ("TRADEML_POLYGON_BASE_URL",)
    source_priority = 20

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret(0)}"}

    def _pages(self, path: str, params: dict[str, Any], key: str = "results") -> tuple[list[dict[str, Any]], str, VendorResponse | None]:
        rows: list[dict[str, Any]] = []
        first_uri, last = "", None
        for page, resp in next_url_pages(
            self.client,
            self.url(path),
            params,
            lambda r: _json_page(r, key),
            base_url=self.base_url,
            headers=self._headers(),
            auth_env=self.auth_env,
        ):
            first_uri = first_uri or resp.url
            last = resp
            rows.extend(page)
        return rows, first_uri, last

    def _fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset in ("equities_eod", "equities_minute"):
            return self._bars(request)
        if request.dataset == "corp_actions":
            return self._corp_actions(request)
        return self._delistings(request)

    # -- aggregates ------------------------------------------------------------------------------
    def _bars(self, request: FetchRequest) -> FetchResult:
        minute = request.dataset == "equities_minute"
        sessions = calendar.session_table(request.start, request.end)
        symbols = list(request.symbols or self.universe_symbols(request.start))
        tables, uris, last = [], [], None
        dropped: dict[str, dict[str, int]] = {}
        for symbol in symbols:  # one request chain per ticker: the endpoint is single-ticker
            path = f"/v2/aggs/ticker/{symbol}/range/1/{'minute' if minute else 'day'}/{request.start}/{request.end}"
            rows, uri, resp = self._pages(path, {"adjusted": "false", "sort": "asc", "limit": AGG_LIMIT})
            last = resp or last
            if not rows:
                continue
            frame = pd.DataFrame.from_records(rows)
            missing = [c for c in ("t", "o", "h", "l", "c", "v") if c not in frame.columns]
            if missing:
                raise VendorError(self.source_name, f"aggregates of {symbol} lack {missing}", qc_code="MALFORMED_PAYLOAD")
            cols = {
                "symbol": pa.array(np.full(len(frame), symbol, dtype=object), type=pa.string()),
                "ts": epoch_to_utc(frame["t"].to_numpy(), "ms"),
                "open": pa.array(frame["o"], type=pa.float64()),
                "high": pa.array(frame["h"], type=pa.float64()),
                "low": pa.array(frame["l"], type=pa.float64()),
                "close": pa.array(frame["c"], type=pa.float64()),
                "volume": pa.array(frame["v"], type=pa.float64()),
                "vwap": pa.array(frame["vw"], type=pa.float64()) if "vw" in frame else None,
                "trades": pa.array(frame["n"], type=pa.float64()) if "n" in frame else None,
            }
            norm = bars_table({k: v for k, v in cols.items() if v is not None}, minute=minute)
            add_dropped(dropped, norm.dropped)
            tables.append(norm.table)
            uris.append(uri)
        if not tables:
            frame = empty_frame(request.dataset)
        else:
            data = pa.concat_tables(tables)
            uri_col = pa.array(np.repeat(uris, [t.num_rows for t in tables]), type=pa.string())
            data = add_metadata(
                data,
                source_name=self.source_name,
                source_uri=uri_col,
                api_version=self.api_version,
                ingested_at=last.received_at if last else None,
            )
            frame = to_frame(data, request.dataset)
        return FetchResult(
            request.dataset, frame, self.source_name, failed_sessions(frame, sessions, dropped.get("non_session", {})), dropped=dropped
        )

    # -- corporate actions -----------------------------------------------------------------------
    def _corp_actions(self, request: FetchRequest) -> FetchResult:
        targets: list[str | None] = list(request.symbols) if request.symbols else [None]
        frames: list[pd.DataFrame] = []
        last = None
        for symbol in targets:
            base = {"limit": 1000} | ({"ticker": symbol} if symbol else {})
            splits, s_uri, s_last = self._pages(
                "/v3/reference/splits",
                base | {"execution_date.gte": request.start.isoformat(), "execution_date.lte": request.end.isoformat()},
            )
            divs, d_uri, d_last = self._pages(
                "/v3/reference/dividends",
                base | {"ex_dividend_date.gte": request.start.isoformat(), "ex_dividend_date.lte": request.end.isoformat()},
            )
            last = d_last or s_last or last
            if splits:
                s = pd.DataFrame.from_records(splits)
                frames.append(
                    pd.DataFrame(
                        {
                            "symbol": s["ticker"],
                            "event_type": "SPLIT",
                            "ex_date": s["execution_date"],
                            "record_date": None,
                            "pay_date": None,
                            "ratio": pd.to_numeric(s["split_to"]) / pd.to_numeric(s["split_from"]),
                            "amount": np.nan,
                            "source_uri": s_uri,
                        }
                    )
                )
            if divs:
                d = pd.DataFrame.from_records(divs)
                frames.append(
                    pd.DataFrame(
                        {
                            "symbol": d["ticker"],
                            "event_type": "DIVIDEND",
                            "ex_date": d["ex_dividend_date"],
                            "record_date": d.get("record_date"),
                            "pay_date": d.get("pay_date"),
                            "ratio": np.nan,
                            "amount": pd.to_numeric(d["cash_amount"]),
                            "source_uri": d_uri,
                        }
                    )
                )
        frame = reference_frame(
            "corp_actions",
            pd.concat(frames, ignore_index=True) if frames else None,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            source_priority=self.source_priority,
            received_at=last.received_at if last else None,
        )
        return FetchResult(request.dataset, frame, self.source_name)

    # -- delistings ------------------------------------------------------------------------------
    def _delistings(self, request: FetchRequest) -> FetchResult:
        records: list[dict[str, Any]] = []
        last = None
        if request.symbols:
            for symbol in request.symbols:
                resp = self.client.get(
                    self.url(f"/v3/reference/tickers/{symbol}"),
                    headers=self._headers(),
                    auth_env=self.auth_env,
                    allow_status=(404,),
                )
                last = resp
                if resp.status == 404:
                    continue
                doc = resp.json()
                result = doc.get("results") if isinstance(doc, dict) else None
                if not isinstance(result, dict):
                    raise VendorError(self.source_name, f"ticker details of {symbol} lack 'results'", qc_code="MALFORMED_PAYLOAD")
                records.append(result | {"source_uri": resp.url})
        else:
            rows, uri, last = self._pages("/v3/reference/tickers", {"market": "stocks", "active": "false", "limit": 1000})
            records = [r | {"source_uri": uri} for r in rows]
        frame = None
        if records:
            t = pd.DataFrame.from_records(records)
            if "delisted_utc" not in t:
                t["delisted_utc"] = None
            active = t["active"].fillna(False).astype(bool) if "active" in t else pd.Series(False, index=t.index)
            t = t[~active & t["delisted_utc"].notna()]
            when = pd.to_datetime(t["delisted_utc"], utc=True, format="ISO8601")
            exchange = t["primary_exchange"].fillna("").astype(str) if "primary_exchange" in t else pd.Series("", index=t.index)
            reason = ("delisted from " + exchange).where(exchange != "", "delisted")
            frame = pd.DataFrame(
                {
                    "symbol": t["ticker"],
                    "delist_date": when.dt.tz_convert(None).dt.normalize(),
                    "reason": reason,
                    "vendor_ts": when,
                    "source_uri": t["source_uri"],
                }
            )
        out = reference_frame(
            "delistings",
            frame,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            source_priority=self.source_priority,
            received_at=last.received_at if last else None,
        )
        return FetchResult(request.dataset, out, self.source_name)

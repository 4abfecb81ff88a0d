"""Alpha Vantage: LISTING_STATUS (active and delisted symbols), SPLITS and DIVIDENDS, EARNINGS_CALENDAR, OVERVIEW.

Wire contract: ``GET /query?function=...&apikey=<ALPHAVANTAGE_API_KEY>`` (scrubbed everywhere).
- ``LISTING_STATUS&state=delisted|active[&date=YYYY-MM-DD]`` -> CSV
  ``symbol,name,exchange,assetType,ipoDate,delistingDate,status``;
- ``SPLITS&symbol=S`` -> ``{"symbol", "data": [{"effective_date", "split_factor"}]}``;
- ``DIVIDENDS&symbol=S`` -> ``{"symbol", "data": [{"ex_dividend_date", "declaration_date",
  "record_date", "payment_date", "amount"}]}`` ("None" for unknown dates);
- ``EARNINGS_CALENDAR&horizon=3month[&symbol=S]`` -> CSV ``symbol,name,reportDate,fiscalDateEnding,
  estimate,currency[,timeOfTheDay]`` of upcoming announcements only (timeOfTheDay pre-market /
  post-market when present);
- ``OVERVIEW&symbol=S`` -> ``{"Symbol", "LatestQuarter", "SharesOutstanding", ...}``: the current share
  count, without a filing date, so it is dated by the fetch (first session closing after it) with
  period_end = LatestQuarter. (BALANCE_SHEET's commonStockSharesOutstanding has no filing or
  acceptance date either, so history from it could not be dated PIT and is not used.)
Earnings rows are dated by trademl.data.connectors.pit_reference.
Throttling arrives as HTTP 200 with a ``{"Note": ...}`` or ``{"Information": ...}`` body: it is treated
as a rate limit (the per-day message freezes the vendor until the next 00:00 UTC); an
``{"Error Message": ...}`` body is a non-retryable request error.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, ClassVar

import pandas as pd
import requests

from trademl.data.connectors.base import FetchRequest, FetchResult, VendorError
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.normalize import reference_frame
from trademl.data.connectors.pit_reference import earnings_rows, shares_rows
from trademl.data.http import VendorResponse

LISTING_COLUMNS = ["symbol", "name", "exchange", "assetType", "ipoDate", "delistingDate", "status"]


def detect_throttle(resp: requests.Response) -> tuple[str, float | None] | None:
    """Alpha Vantage's in-band throttling: a small JSON body with "Note" or "Information".

    Returns (reason, seconds to freeze or None for the configured freeze); a per-day limit
    freezes until the next 00:00 UTC, when Alpha Vantage resets its daily counters.
    """
    body = resp.content[:2048].lstrip()
    if not body.startswith(b"{") or len(resp.content) > 4096:
        return None
    try:
        doc = json.loads(resp.content)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    message = doc.get("Note") or doc.get("Information")
    if not message:
        return None
    text = str(message)
    if "premium" in text.lower() and "rate limit" not in text.lower():
        return None  # an entitlement message, handled by the caller as an error
    if "per day" in text.lower() or "daily" in text.lower():
        now = dt.datetime.now(dt.timezone.utc)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        return "Alpha Vantage daily limit reached", (midnight - now).total_seconds()
    return "Alpha Vantage throttle note", None


class AlphaVantageConnector(HttpVendorConnector):
    """Alpha Vantage: delistings (LISTING_STATUS), corp_actions (SPLITS + DIVIDENDS), earnings_calendar
    (EARNINGS_CALENDAR), shares_outstanding (OVERVIEW), universe symbols."""

    source_name = "alpha_vantage"
    api_version = "query"
    datasets = frozenset({"delistings", "corp_actions", "earnings_calendar", "shares_outstanding"})
    earnings_horizon = "3month"
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (("ALPHAVANTAGE_API_KEY", "ALPHA_VANTAGE_API_KEY"),)
    base_url_env: ClassVar[tuple[str, ...]] = ("TRADEML_ALPHAVANTAGE_BASE_URL",)
    source_priority = 10

    def throttle_detector(self):  # type: ignore[override]
        return detect_throttle

    def _query(self, **params: Any) -> VendorResponse:
        resp = self.client.get(self.url("/query"), params=params | {"apikey": self.secret(0)}, auth_env=self.auth_env)
        head = resp.content[:512].lstrip()
        if head.startswith(b"{"):
            doc = resp.json()
            if isinstance(doc, dict) and ("Error Message" in doc or "Information" in doc):
                raise VendorError(
                    self.source_name,
                    f"{params.get('function')}: {doc.get('Error Message') or doc.get('Information')}",
                    retryable=False,
                    qc_code="NO_DATA",
                )
        return resp

    def listing_status(self, state: str, asof: dt.date | None = None) -> tuple[pd.DataFrame, VendorResponse]:
        """LISTING_STATUS as a frame with the vendor's columns (``state`` is "active" or "delisted")."""
        if state not in ("active", "delisted"):
            raise ValueError(f"state must be 'active' or 'delisted', got {state!r}")
        params: dict[str, Any] = {"function": "LISTING_STATUS", "state": state}
        if asof is not None:
            params["date"] = asof.isoformat()
        resp = self._query(**params)
        try:
            frame = pd.read_csv(io.BytesIO(resp.content), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise VendorError(self.source_name, f"LISTING_STATUS CSV unreadable: {exc}", qc_code="MALFORMED_PAYLOAD") from None
        missing = [c for c in LISTING_COLUMNS if c not in frame.columns]
        if missing:
            raise VendorError(self.source_name, f"LISTING_STATUS CSV lacks {missing}", qc_code="MALFORMED_PAYLOAD")
        return frame, resp

    def universe_symbols(self, asof: dt.date) -> list[str]:
        """Common stocks Alpha Vantage lists as active on `asof`."""
        frame, _ = self.listing_status("active", asof)
        return sorted(frame.loc[frame["assetType"] == "Stock", "symbol"].tolist())

    def _fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "delistings":
            return self._delistings(request)
        if request.dataset == "earnings_calendar":
            return self._earnings_calendar(request)
        if request.dataset == "shares_outstanding":
            return self._shares_outstanding(request)
        return self._corp_actions(request)

    def _earnings_calendar(self, request: FetchRequest) -> FetchResult:
        """Upcoming announcements (one CSV for the market, or one per requested symbol)."""
        frames, last = [], None
        for symbol in request.symbols or (None,):
            params: dict[str, Any] = {"function": "EARNINGS_CALENDAR", "horizon": self.earnings_horizon}
            if symbol:
                params["symbol"] = symbol
            last = self._query(**params)
            try:
                d = pd.read_csv(io.BytesIO(last.content), dtype=str, keep_default_na=False)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise VendorError(self.source_name, f"EARNINGS_CALENDAR CSV unreadable: {exc}", qc_code="MALFORMED_PAYLOAD") from None
            if "symbol" not in d or "reportDate" not in d:
                raise VendorError(self.source_name, "EARNINGS_CALENDAR CSV lacks symbol or reportDate", qc_code="MALFORMED_PAYLOAD")
            time = d["timeOfTheDay"] if "timeOfTheDay" in d else None
            frames.append(pd.DataFrame({"symbol": d["symbol"], "earnings_date": d["reportDate"], "time_of_day": time, "source_uri": last.url}))
        events = pd.concat(frames, ignore_index=True) if frames else None
        out = earnings_rows(
            events, request, source_name=self.source_name, api_version=self.api_version, received_at=last.received_at if last else None
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _shares_outstanding(self, request: FetchRequest) -> FetchResult:
        if not request.symbols:
            raise VendorError(self.source_name, "OVERVIEW is per symbol: pass symbols", retryable=False)
        records, last = [], None
        for symbol in request.symbols:
            last = self._query(function="OVERVIEW", symbol=symbol)
            doc = last.json()
            if not isinstance(doc, dict) or not doc:
                continue  # Alpha Vantage answers {} for a symbol it does not cover
            if "SharesOutstanding" not in doc or "LatestQuarter" not in doc:
                raise VendorError(self.source_name, f"OVERVIEW of {symbol} lacks SharesOutstanding or LatestQuarter", qc_code="MALFORMED_PAYLOAD")
            records.append(
                {
                    "symbol": doc.get("Symbol", symbol),
                    "period_end": doc["LatestQuarter"],
                    "shares_outstanding": doc["SharesOutstanding"],
                    "source_uri": last.url,
                }
            )
        out = shares_rows(
            pd.DataFrame.from_records(records) if records else None,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            received_at=last.received_at if last else None,
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _delistings(self, request: FetchRequest) -> FetchResult:
        frame, resp = self.listing_status("delisted")
        events = pd.DataFrame(
            {
                "symbol": frame["symbol"],
                "delist_date": frame["delistingDate"],
                "reason": frame["assetType"].str.strip() + " delisted from " + frame["exchange"].str.strip(),
                "source_uri": resp.url,
            }
        )
        out = reference_frame(
            "delistings",
            events,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            source_priority=self.source_priority,
            received_at=resp.received_at,
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _corp_actions(self, request: FetchRequest) -> FetchResult:
        if not request.symbols:
            raise VendorError(self.source_name, "SPLITS/DIVIDENDS are per symbol: pass symbols", retryable=False)
        frames, last = [], None
        for symbol in request.symbols:
            for function in ("SPLITS", "DIVIDENDS"):
                resp = self._query(function=function, symbol=symbol)
                last = resp
                doc = resp.json()
                data = doc.get("data") if isinstance(doc, dict) else None
                if not isinstance(data, list):
                    raise VendorError(self.source_name, f"{function} of {symbol}: no 'data' list", qc_code="MALFORMED_PAYLOAD")
                if not data:
                    continue
                d = pd.DataFrame.from_records(data)
                if function == "SPLITS":
                    frames.append(
                        pd.DataFrame(
                            {
                                "symbol": symbol,
                                "event_type": "SPLIT",
                                "ex_date": d["effective_date"],
                                "ratio": pd.to_numeric(d["split_factor"], errors="coerce"),
                                "source_uri": resp.url,
                            }
                        )
                    )
                else:
                    frames.append(
                        pd.DataFrame(
                            {
                                "symbol": symbol,
                                "event_type": "DIVIDEND",
                                "ex_date": d["ex_dividend_date"],
                                "record_date": d.get("record_date"),
                                "pay_date": d.get("payment_date"),
                                "amount": pd.to_numeric(d["amount"], errors="coerce"),
                                "source_uri": resp.url,
                            }
                        )
                    )
        out = reference_frame(
            "corp_actions",
            pd.concat(frames, ignore_index=True) if frames else None,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            source_priority=self.source_priority,
            received_at=last.received_at if last else None,
        )
        return FetchResult(request.dataset, out, self.source_name)

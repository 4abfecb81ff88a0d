"""Financial Modeling Prep: delisted companies, fundamentals statements, earnings calendar, shares outstanding.

Wire contract (``apikey=<FMP_API_KEY>`` query parameter, scrubbed everywhere):
- ``/api/v3/delisted-companies?page=N`` -> ``[{"symbol", "companyName", "exchange", "ipoDate",
  "delistedDate"}]``, pages until an empty list;
- ``/api/v3/{income-statement|balance-sheet-statement|cash-flow-statement}/{symbol}?period=quarter&limit=N``
  -> ``[{"date", "symbol", "reportedCurrency", "fillingDate", "acceptedDate", "calendarYear",
  "period", <numeric line items>...}]``;
- ``/api/v3/earning_calendar?from=YYYY-MM-DD&to=YYYY-MM-DD`` (at most ~3 months per call) ->
  ``[{"date", "symbol", "eps", "epsEstimated", "time": "bmo"|"amc"|"--", "revenue", "revenueEstimated",
  "fiscalDateEnding", "updatedFromDate"}]``;
- ``/api/v4/historical/shares_float?symbol=S`` -> ``[{"symbol", "date", "freeFloat", "floatShares",
  "outstandingShares", "source"}]``, dated snapshots (newest first) without a filing date.

Earnings and share counts are dated point-in-time by trademl.data.connectors.pit_reference: a
calendar row is known from the fetch (forward) or its announcement (history); a shares_float
snapshot dated D counts from the first session after D.

Fundamentals are stored long (one row per statement line item) in ``raw/fundamentals_{income,
balance,cashflow}``; `FUNDAMENTALS_TABLES` defines those TableSpecs (SSOT 2.1 names them but
trademl.schemas does not define them yet). The partition ``date`` is the first XNYS session whose
close is after the filing was accepted (``acceptedDate``, New York time): a filing accepted after
the close belongs to the next session, so a statement is never visible before it was public.
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
    date_range_mask,
    first_session_closing_after,
    next_session_on_or_after,
    reference_frame,
)
from trademl.data.connectors.pit_reference import earnings_rows, shares_rows
from trademl.schemas import METADATA_FIELDS, UTC_TS, TableSpec

STATEMENTS = {
    "fundamentals_income": ("income", "income-statement"),
    "fundamentals_balance": ("balance", "balance-sheet-statement"),
    "fundamentals_cashflow": ("cashflow", "cash-flow-statement"),
}
# Descriptive fields of an FMP statement; every other numeric field is a line item.
_DESCRIPTIVE = {
    "date", "symbol", "reportedCurrency", "cik", "fillingDate", "filingDate", "acceptedDate",
    "calendarYear", "fiscalYear", "period", "link", "finalLink",
}

FUNDAMENTALS_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("statement", pa.string(), nullable=False),
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("fiscal_year", pa.int32()),
        pa.field("fiscal_period", pa.string(), nullable=False),
        pa.field("filing_date", pa.date32()),
        pa.field("accepted_at", UTC_TS),
        pa.field("currency", pa.string()),
        pa.field("item", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        *METADATA_FIELDS,
    ]
)
FUNDAMENTALS_TABLES: dict[str, TableSpec] = {
    f"raw/fundamentals_{kind}": TableSpec(
        name=f"raw/fundamentals_{kind}",
        schema=FUNDAMENTALS_SCHEMA,
        partition_column="date",
        key=("symbol", "period_end", "fiscal_period", "item"),
        description=f"{kind} statement line items, long format; date = first session the filing was public.",
    )
    for kind in ("income", "balance", "cashflow")
}
FUNDAMENTALS_DATASETS = {ds: f"raw/fundamentals_{kind}" for ds, (kind, _) in STATEMENTS.items()}


def fundamentals_rows(records: list[dict[str, Any]], statement: str, symbol: str) -> pd.DataFrame:
    """Long rows (one per numeric line item) of an FMP statement payload, without metadata columns."""
    if not records:
        return pd.DataFrame(columns=[f.name for f in FUNDAMENTALS_SCHEMA if f.name not in {m.name for m in METADATA_FIELDS}])
    wide = pd.DataFrame.from_records(records)
    for needed in ("date", "period"):
        if needed not in wide:
            raise VendorError("fmp", f"{statement} statements of {symbol} lack {needed!r}", qc_code="MALFORMED_PAYLOAD")
    items = [c for c in wide.columns if c not in _DESCRIPTIVE and pd.api.types.is_numeric_dtype(wide[c])]
    accepted_raw = wide["acceptedDate"] if "acceptedDate" in wide else pd.Series(None, index=wide.index)
    accepted = pd.to_datetime(accepted_raw, errors="coerce")
    accepted_utc = accepted.dt.tz_localize(calendar.EXCHANGE_TZ, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    filing = pd.to_datetime(wide.get("fillingDate", wide.get("filingDate")), errors="coerce")
    # PIT: a filing accepted after a session's close is first tradable the next session; without an
    # acceptance time the filing day is used (its session, or the next one on a non-trading day).
    by_acceptance = first_session_closing_after(accepted_utc)
    public_session = by_acceptance.fillna(next_session_on_or_after(filing))
    base = pd.DataFrame(
        {
            "date": public_session,
            "symbol": symbol,
            "statement": statement,
            "period_end": pd.to_datetime(wide["date"], errors="coerce"),
            "fiscal_year": pd.to_numeric(wide.get("calendarYear", wide.get("fiscalYear")), errors="coerce").astype("Int32"),
            "fiscal_period": wide["period"].astype(str),
            "filing_date": filing,
            "accepted_at": accepted_utc,
            "currency": wide.get("reportedCurrency"),
        }
    )
    long = base.loc[base.index.repeat(len(items))].reset_index(drop=True)
    long["item"] = np.tile(np.asarray(items, dtype=object), len(base))
    long["value"] = wide[items].to_numpy(dtype="float64").reshape(-1)
    for col in ("date", "period_end", "filing_date"):
        long[col] = long[col].dt.date.where(long[col].notna(), None)
    return long


class FmpConnector(HttpVendorConnector):
    """FMP: delistings (delisted-companies), fundamentals_{income,balance,cashflow} (quarterly statements),
    earnings_calendar (earning_calendar) and shares_outstanding (historical/shares_float)."""

    source_name = "fmp"
    api_version = "api/v3"
    datasets = frozenset({"delistings", "earnings_calendar", "shares_outstanding", *STATEMENTS})
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (("FMP_API_KEY",),)
    source_priority = 20
    statements_limit = 400
    max_pages = 200
    # earning_calendar: days looked ahead of the request's end (an event known by `end` may lie this far
    # beyond it) and the longest from..to window of one call.
    earnings_lookahead_days = 120
    earnings_window_days = 90

    def _get(self, path: str, **params: Any) -> Any:
        resp = self.client.get(self.url(path), params=params | {"apikey": self.secret(0)}, auth_env=self.auth_env)
        doc = resp.json()
        if isinstance(doc, dict) and "Error Message" in doc:
            raise VendorError(self.source_name, f"{path}: {doc['Error Message']}", retryable=False, qc_code="NO_DATA")
        if not isinstance(doc, list):
            raise VendorError(self.source_name, f"{path}: expected a JSON list", qc_code="MALFORMED_PAYLOAD")
        return doc, resp

    def _fetch(self, request: FetchRequest) -> FetchResult:
        if request.dataset == "delistings":
            return self._delistings(request)
        if request.dataset == "earnings_calendar":
            return self._earnings_calendar(request)
        if request.dataset == "shares_outstanding":
            return self._shares_outstanding(request)
        return self._fundamentals(request)

    def _earnings_calendar(self, request: FetchRequest) -> FetchResult:
        """Announcements from `start` - 7 days to `end` + lookahead, in windows of at most `earnings_window_days`."""
        # From a week before `start`: an after-the-close announcement on the eve of `start` is known at `start`.
        first = request.start - pd.Timedelta(days=7)
        edges = pd.date_range(first, request.end + pd.Timedelta(days=self.earnings_lookahead_days), freq=f"{self.earnings_window_days}D")
        last_day = pd.Timestamp(request.end + pd.Timedelta(days=self.earnings_lookahead_days))
        frames, last = [], None
        for lo in edges:  # a handful of ~3-month windows
            hi = min(lo + pd.Timedelta(days=self.earnings_window_days - 1), last_day)
            doc, last = self._get("/api/v3/earning_calendar", **{"from": lo.date().isoformat(), "to": hi.date().isoformat()})
            if doc:
                d = pd.DataFrame.from_records(doc)
                if "date" not in d or "symbol" not in d:
                    raise VendorError(self.source_name, "earning_calendar rows lack 'date' or 'symbol'", qc_code="MALFORMED_PAYLOAD")
                frames.append(
                    pd.DataFrame(
                        {"symbol": d["symbol"], "earnings_date": d["date"], "time_of_day": d.get("time"), "source_uri": last.url}
                    )
                )
        events = pd.concat(frames, ignore_index=True) if frames else None
        out = earnings_rows(
            events, request, source_name=self.source_name, api_version=self.api_version, received_at=last.received_at if last else None
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _shares_outstanding(self, request: FetchRequest) -> FetchResult:
        if not request.symbols:
            raise VendorError(self.source_name, "historical/shares_float is per symbol: pass symbols", retryable=False)
        frames, last = [], None
        for symbol in request.symbols:
            doc, last = self._get("/api/v4/historical/shares_float", symbol=symbol)
            if not doc:
                continue
            d = pd.DataFrame.from_records(doc)
            if "date" not in d or "outstandingShares" not in d:
                raise VendorError(
                    self.source_name, f"shares_float of {symbol} lacks 'date' or 'outstandingShares'", qc_code="MALFORMED_PAYLOAD"
                )
            frames.append(
                pd.DataFrame(
                    {
                        "symbol": d.get("symbol", symbol),
                        "period_end": d["date"],
                        "snapshot_date": d["date"],
                        "shares_outstanding": d["outstandingShares"],
                        "source_uri": last.url,
                    }
                )
            )
        records = pd.concat(frames, ignore_index=True) if frames else None
        out = shares_rows(
            records, request, source_name=self.source_name, api_version=self.api_version, received_at=last.received_at if last else None
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _delistings(self, request: FetchRequest) -> FetchResult:
        rows: list[dict[str, Any]] = []
        last = None
        for page in range(self.max_pages):
            doc, last = self._get("/api/v3/delisted-companies", page=page)
            if not doc:
                break
            rows.extend(r | {"source_uri": last.url} for r in doc)
            dates = pd.to_datetime(pd.Series([r.get("delistedDate") for r in doc]), errors="coerce")
            if dates.notna().any() and dates.max() < pd.Timestamp(request.start):
                break  # pages run newest first: everything further is older than the request
        events = None
        if rows:
            d = pd.DataFrame.from_records(rows)
            exchange = d.get("exchange", pd.Series("", index=d.index)).fillna("").astype(str)
            events = pd.DataFrame(
                {
                    "symbol": d["symbol"],
                    "delist_date": d["delistedDate"],
                    "reason": ("delisted from " + exchange).where(exchange != "", "delisted"),
                    "source_uri": d["source_uri"],
                }
            )
        out = reference_frame(
            "delistings",
            events,
            request,
            source_name=self.source_name,
            api_version=self.api_version,
            source_priority=self.source_priority,
            received_at=last.received_at if last else None,
        )
        return FetchResult(request.dataset, out, self.source_name)

    def _fundamentals(self, request: FetchRequest) -> FetchResult:
        if not request.symbols:
            raise VendorError(self.source_name, "statements are per symbol: pass symbols", retryable=False)
        statement, path = STATEMENTS[request.dataset]
        frames = []
        for symbol in request.symbols:
            doc, resp = self._get(f"/api/v3/{path}/{symbol}", period="quarter", limit=self.statements_limit)
            rows = fundamentals_rows(doc, statement, symbol)
            if rows.empty:
                continue
            rows = rows[date_range_mask(pd.to_datetime(rows["date"]), request.start, request.end).to_numpy()]
            rows = rows.assign(
                ingested_at=pd.Timestamp(resp.received_at),
                source_name=self.source_name,
                source_uri=resp.url,
                vendor_ts=rows["accepted_at"],
                api_version=self.api_version,
            )
            frames.append(rows)
        names = FUNDAMENTALS_SCHEMA.names
        frame = pd.concat(frames, ignore_index=True)[names] if frames else FUNDAMENTALS_SCHEMA.empty_table().to_pandas()
        return FetchResult(request.dataset, frame, self.source_name)


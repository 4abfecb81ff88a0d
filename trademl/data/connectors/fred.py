"""FRED and ALFRED series observations into raw/macros_fred.

Wire contract (https://fred.stlouisfed.org/docs/api/fred/): ``api_key`` (FRED_API_KEY; a query
parameter by FRED's design, scrubbed from every log line and source_uri), ``file_type=json``,
``limit``/``offset`` pagination against ``count``. FRED answers a bad key with HTTP 400 naming
``api_key``.

- ``GET /fred/series/vintagedates`` (``realtime_start``/``realtime_end``, at most 10,000 dates a
  page): the dates on which a value of the series was new or revised. They include weekends and
  exchange holidays (an employment report can come out on Good Friday).
- ``GET /fred/series/observations`` (``output_type=1``, observations by real-time period, at most
  100,000 a page): ``{"realtime_start", "realtime_end", "date", "value"}``, ``"."`` for a missing
  value. FRED clips every period to the requested real-time window: a value published years ago
  and still current comes back with ``realtime_start`` = the window start.

Request semantics. A request covers sessions [start, end]; rows are partitioned by ``date`` = the
first session on or after ``vintage_date`` (when the market can act on the vintage):
- ``alfred``: the vintages served by those sessions are the calendar days
  (session before the first, last session] (`calendar.days_served_by`), so consecutive chunks
  tile the calendar and a weekend or holiday vintage goes to the next session. The connector asks
  vintagedates for that window (no vintage: no observations request), then observations with the
  real-time window opened one day before it: a period that began inside the window is returned
  unclipped with its true vintage date, and every period clipped to the day before began earlier
  (it belongs to an earlier request) and is dropped. Rows are exactly the values new or revised
  at each vintage, with their true ``vintage_date``.
- ``fred``: [start, end] is a window of observation dates; values as known today, with
  ``vintage_date`` = the realtime_start FRED reports (the day of the request).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, ClassVar

import pandas as pd

from trademl import calendar
from trademl.data.connectors.base import FetchRequest, FetchResult, VendorAuthError, VendorError
from trademl.data.connectors.http_vendor import HttpVendorConnector
from trademl.data.connectors.normalize import empty_frame
from trademl.data.http import VendorResponse
from trademl.schemas import table_spec

log = logging.getLogger(__name__)

OBSERVATION_LIMIT = 100_000  # FRED's maximum page of fred/series/observations
VINTAGE_DATE_LIMIT = 10_000  # FRED's maximum page of fred/series/vintagedates
# The Treasury constant-maturity curve: the default series set when a request names none.
TREASURY_SERIES = ("DGS1MO", "DGS3MO", "DGS6MO", "DGS1", "DGS2", "DGS5", "DGS10", "DGS30")


class FredConnector(HttpVendorConnector):
    """FRED (latest values) or, with ``vintages=True``, ALFRED (real-time vintages)."""

    source_name = "fred"
    api_version = "fred/series/observations"
    datasets = frozenset({"macros_fred"})
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = (("FRED_API_KEY",),)
    vintages = False

    def _fetch(self, request: FetchRequest) -> FetchResult:
        series = list(request.series or request.symbols or TREASURY_SERIES)
        frames = [self._series(s, request) for s in series]
        frames = [f for f in frames if len(f)]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(request.dataset)
        failed = {}
        if frame.empty and not self.vintages:  # ALFRED: a window without a vintage is normal (monthly series)
            failed[request.end.isoformat()] = f"NO_DATA: no observations for {', '.join(series)}"
        return FetchResult(request.dataset, frame, self.source_name, failed)

    def _series(self, series_id: str, request: FetchRequest) -> pd.DataFrame:
        if not self.vintages:
            params = {"observation_start": request.start.isoformat(), "observation_end": request.end.isoformat()}
            obs, uri, received = self._observations(series_id, params)
            return self._frame(series_id, obs, uri, received)
        window = calendar.days_served_by(request.start, request.end)
        if window is None:
            return empty_frame("macros_fred")
        lo, hi = window
        vintages = self._vintage_dates(series_id, lo, hi)
        if not vintages:
            return empty_frame("macros_fred")
        # Open the real-time window one day early: periods FRED clips to that day began before `lo`.
        before = lo - dt.timedelta(days=1)
        obs, uri, received = self._observations(
            series_id, {"realtime_start": before.isoformat(), "realtime_end": hi.isoformat()}
        )
        if not obs.empty:
            obs = obs[pd.to_datetime(obs["realtime_start"]) >= pd.Timestamp(lo)]
        found = set(obs["realtime_start"]) if not obs.empty else set()
        unmatched = sorted(set(vintages) - found)
        if unmatched:  # e.g. a vintage that only removed observations; nothing new to store for it
            log.warning(
                "ALFRED vintages without new or revised observations",
                extra={"vendor": self.source_name, "series": series_id, "vintages": unmatched[:5], "count": len(unmatched)},
            )
        return self._frame(series_id, obs, uri, received)

    # -- wire ------------------------------------------------------------------------------------
    def _get_pages(self, path: str, series_id: str, params: dict[str, Any], key: str, limit: int) -> tuple[list, str, VendorResponse | None]:
        """Every page of a FRED list endpoint (``key`` holds the list), following offset against count."""
        base = {"series_id": series_id, "file_type": "json", "limit": limit, "sort_order": "asc"} | params
        items: list[Any] = []
        offset, uri, last = 0, "", None
        while True:
            resp = self.client.get(
                self.url(path),
                params=base | {"offset": offset, "api_key": self.secret(0)},
                auth_env=self.auth_env,
                allow_status=(400,),
            )
            last = resp
            uri = uri or resp.url
            doc = resp.json()
            if resp.status == 400:
                message = str(doc.get("error_message", "")) if isinstance(doc, dict) else resp.text[:200]
                if "api_key" in message:
                    raise VendorAuthError(self.source_name, f"FRED rejected the key: check FRED_API_KEY ({message.split('.')[0]})")
                raise VendorError(self.source_name, f"series {series_id}: {message}", retryable=False, qc_code="NO_DATA")
            if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
                raise VendorError(self.source_name, f"series {series_id}: no {key!r} list", qc_code="MALFORMED_PAYLOAD")
            page = doc[key]
            items.extend(page)
            count = int(doc.get("count", len(items)))
            offset += len(page)
            if not page or offset >= count:
                break
        return items, uri, last

    def _vintage_dates(self, series_id: str, lo: dt.date, hi: dt.date) -> list[str]:
        """ALFRED vintage dates (YYYY-MM-DD) of `series_id` in the closed calendar window [lo, hi]."""
        params = {"realtime_start": lo.isoformat(), "realtime_end": hi.isoformat()}
        dates, _, _ = self._get_pages("/fred/series/vintagedates", series_id, params, "vintage_dates", VINTAGE_DATE_LIMIT)
        if not all(isinstance(d, str) for d in dates):
            raise VendorError(self.source_name, f"series {series_id}: vintage_dates are not date strings", qc_code="MALFORMED_PAYLOAD")
        return dates

    def _observations(self, series_id: str, params: dict[str, Any]) -> tuple[pd.DataFrame, str, VendorResponse | None]:
        """Observations by real-time period (output_type=1) as a frame of FRED's string fields."""
        records, uri, last = self._get_pages(
            "/fred/series/observations", series_id, params | {"output_type": 1}, "observations", OBSERVATION_LIMIT
        )
        obs = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        missing = [c for c in ("date", "value", "realtime_start") if c not in obs] if records else []
        if missing:
            raise VendorError(self.source_name, f"series {series_id}: observations lack {missing}", qc_code="MALFORMED_PAYLOAD")
        return obs, uri, last

    def _frame(self, series_id: str, obs: pd.DataFrame, uri: str, last: VendorResponse | None) -> pd.DataFrame:
        """FRED string records as raw/macros_fred rows (value NaN for ".", date = session of the vintage)."""
        if obs.empty:
            return empty_frame("macros_fred")
        value = obs["value"].astype(str).str.strip()
        numeric = pd.to_numeric(value.where(value != "."), errors="coerce")
        unparsable = numeric.isna() & (value != ".")
        if unparsable.any():
            raise VendorError(
                self.source_name,
                f"series {series_id}: non-numeric values {value[unparsable].unique()[:3].tolist()}",
                qc_code="MALFORMED_PAYLOAD",
            )
        vintage = pd.to_datetime(obs["realtime_start"])
        frame = pd.DataFrame(
            {
                "date": calendar.sessions_on_or_after(vintage).date,
                "series_id": series_id,
                "observation_date": pd.to_datetime(obs["date"]).dt.date.to_numpy(),
                "value": numeric.astype("float64").to_numpy(),
                "vintage_date": vintage.dt.date.to_numpy(),
            }
        )
        frame = frame.drop_duplicates(subset=["series_id", "observation_date", "vintage_date"], keep="last")
        received = pd.Timestamp(last.received_at) if last else pd.Timestamp.now(tz="UTC")
        frame = frame.assign(
            ingested_at=received,
            source_name=self.source_name,
            source_uri=uri,
            vendor_ts=pd.to_datetime(frame["vintage_date"]).dt.tz_localize("UTC"),
            api_version=self.api_version,
        )
        return frame[list(table_spec("macros_fred").schema.names)].reset_index(drop=True)


class AlfredConnector(FredConnector):
    """ALFRED: vintagedates plus observations over a real-time window; one row per new or revised value."""

    source_name = "alfred"
    api_version = "fred/series/observations+realtime"
    vintages = True
    base_url_env: ClassVar[tuple[str, ...]] = ("TRADEML_FRED_BASE_URL",)

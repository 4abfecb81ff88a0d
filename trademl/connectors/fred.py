"""FRED and ALFRED series observations (GET /fred/series/observations) into raw/macros_fred.

Wire contract: ``series_id``, ``api_key`` (FRED_API_KEY; a query parameter by FRED's design, scrubbed
from every log line and source_uri), ``file_type=json``, ``observation_start``/``observation_end``,
``realtime_start``/``realtime_end`` (ALFRED vintages), ``limit`` (max 100,000) and ``offset``
pagination against ``count``. Observations are ``{"realtime_start", "realtime_end", "date", "value"}``
with ``"."`` for a missing value. FRED answers a bad key with HTTP 400 naming ``api_key``.

Request semantics (the table is partitioned by ``vintage_date``):
- ``alfred``: [start, end] is a window of vintage dates; every value first published in it is
  returned with ``vintage_date = realtime_start`` (values published earlier belong to earlier partitions);
- ``fred``: [start, end] is a window of observation dates; values as known today, with
  ``vintage_date`` = the realtime_start FRED reports (the day of the request).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from trademl.connectors.base import FetchRequest, FetchResult, VendorAuthError, VendorError
from trademl.connectors.http_vendor import HttpVendorConnector
from trademl.connectors.normalize import date_range_mask, empty_frame
from trademl.schemas import table_spec

OBSERVATION_LIMIT = 100_000
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
        if frame.empty:
            failed[request.end.isoformat()] = f"NO_DATA: no observations for {', '.join(series)}"
        return FetchResult(request.dataset, frame, self.source_name, failed)

    def _series(self, series_id: str, request: FetchRequest) -> pd.DataFrame:
        params: dict[str, Any] = {"series_id": series_id, "file_type": "json", "limit": OBSERVATION_LIMIT, "sort_order": "asc"}
        if self.vintages:
            params |= {"realtime_start": request.start.isoformat(), "realtime_end": request.end.isoformat()}
        else:
            params |= {"observation_start": request.start.isoformat(), "observation_end": request.end.isoformat()}
        observations: list[dict[str, Any]] = []
        offset, uri, last = 0, "", None
        while True:
            resp = self.client.get(
                self.url("/fred/series/observations"),
                params=params | {"offset": offset, "api_key": self.secret(0)},
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
            if not isinstance(doc, dict) or not isinstance(doc.get("observations"), list):
                raise VendorError(self.source_name, f"series {series_id}: no 'observations' list", qc_code="MALFORMED_PAYLOAD")
            page = doc["observations"]
            observations.extend(page)
            count = int(doc.get("count", len(observations)))
            offset += len(page)
            if not page or offset >= count:
                break
        if not observations:
            return empty_frame("macros_fred")
        obs = pd.DataFrame.from_records(observations)
        missing = [c for c in ("date", "value", "realtime_start") if c not in obs]
        if missing:
            raise VendorError(self.source_name, f"series {series_id}: observations lack {missing}", qc_code="MALFORMED_PAYLOAD")
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
                "series_id": series_id,
                "observation_date": pd.to_datetime(obs["date"]).dt.date,
                "value": numeric.astype("float64"),
                "vintage_date": vintage.dt.date,
            }
        )
        if self.vintages:
            frame = frame[date_range_mask(vintage, request.start, request.end).to_numpy()]
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
    """ALFRED: the FRED API with realtime_start/realtime_end; one row per (series, observation, vintage)."""

    source_name = "alfred"
    api_version = "fred/series/observations+realtime"
    vintages = True
    base_url_env: ClassVar[tuple[str, ...]] = ("TRADEML_FRED_BASE_URL",)


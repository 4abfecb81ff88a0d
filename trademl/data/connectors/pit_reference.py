"""Point-in-time rows of reference/earnings_calendar and reference/shares_outstanding from vendor payloads.

Vendors rarely say when an earnings date became known or when a share count was public; these
rules never claim knowledge earlier than the data proves:

- earnings: known_date = the earlier of (a) the first session whose close is after the fetch
  (``received_at``; a calendar fetched forward is known from then) and (b) the announcement itself:
  its session for ``bmo`` / ``dmh``, the next session for ``amc`` or an unknown time (the results,
  and so the date, may only be public after the close). ``date`` = known_date.
- shares: ``date`` = the first session whose close is after the filing's acceptance (a filing
  accepted after the close counts from the next session), else the session on or after the filing
  day, else (a dated snapshot without a filing, e.g. FMP shares_float) the first session after the
  snapshot's day, else the first session closing after the fetch.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.data.connectors.base import FetchRequest
from trademl.data.connectors.normalize import date_range_mask, empty_frame, first_session_closing_after, next_session_on_or_after
from trademl.schemas import table_spec

TIMES_OF_DAY = frozenset({"bmo", "amc", "dmh"})
# Vendor spellings of the time of day -> bmo / amc / dmh (anything else is unknown: null).
TIME_ALIASES = {"pre-market": "bmo", "premarket": "bmo", "post-market": "amc", "postmarket": "amc", "during": "dmh"}


def _day(values: pd.Series) -> pd.Series:
    s = pd.Series(values)
    return pd.to_datetime(s.replace({"None": None, "": None, "--": None}), errors="coerce").dt.normalize().astype("datetime64[ns]")


def _fetch_session(received_at: dt.datetime | None, index: pd.Index) -> pd.Series:
    """The first session whose close is after the fetch, on every row (now when not given)."""
    when = pd.Timestamp(received_at) if received_at is not None else pd.Timestamp.now(tz="UTC")
    when = when.tz_convert("UTC") if when.tzinfo else when.tz_localize("UTC")
    return first_session_closing_after(pd.Series(when, index=index))


def _finish(dataset: str, out: pd.DataFrame, request: FetchRequest, meta: dict[str, object], key: list[str]) -> pd.DataFrame:
    keep = out["date"].notna() & date_range_mask(out["date"], request.start, request.end)
    if request.symbols:
        keep &= out["symbol"].isin({s.upper() for s in request.symbols})
    out = out[keep.to_numpy()]
    if out.empty:
        return empty_frame(dataset)
    out = out.drop_duplicates(subset=key, keep="last").sort_values(["date", *key]).reset_index(drop=True)
    for col in ("date", "earnings_date", "known_date", "period_end", "filing_date"):
        if col in out:
            out[col] = out[col].dt.date.where(out[col].notna(), None)
    for name, value in meta.items():
        out[name] = value
    if "vendor_ts" in out:
        out["vendor_ts"] = pd.to_datetime(out["vendor_ts"], utc=True)
    else:
        out["vendor_ts"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
    return out[list(table_spec(dataset).schema.names)]


def _metadata(source_name: str, api_version: str, received_at: dt.datetime | None) -> dict[str, object]:
    now = pd.Timestamp(received_at) if received_at is not None else pd.Timestamp.now(tz="UTC")
    return {
        "ingested_at": now.tz_convert("UTC") if now.tzinfo else now.tz_localize("UTC"),
        "source_name": source_name,
        "api_version": api_version,
    }


def earnings_rows(
    events: pd.DataFrame | None,
    request: FetchRequest,
    *,
    source_name: str,
    api_version: str,
    received_at: dt.datetime | None,
) -> pd.DataFrame:
    """reference/earnings_calendar rows from vendor events (``symbol``, ``earnings_date``, optional
    ``time_of_day``, ``known_date``, ``source_uri``), known_date by the module's rule unless the
    source states it (rolled to the session on or after it), limited to known_date in [start, end]
    and the requested symbols."""
    if events is None or len(events) == 0:
        return empty_frame("earnings_calendar")
    ev = events.reset_index(drop=True)
    raw_time = ev.get("time_of_day", pd.Series(None, index=ev.index)).astype(object)
    time = raw_time.where(raw_time.notna(), "").astype(str).str.strip().str.lower().replace(TIME_ALIASES)
    time = time.where(time.isin(TIMES_OF_DAY), None)
    earnings = _day(ev["earnings_date"])
    on_day = next_session_on_or_after(earnings)
    after = pd.Series(calendar.sessions_on_or_after(earnings + pd.Timedelta(days=1)).to_numpy(), index=ev.index)
    by_event = on_day.where(time.isin({"bmo", "dmh"}), after)
    known = pd.concat([by_event, _fetch_session(received_at, ev.index)], axis=1).min(axis=1)
    if "known_date" in ev:  # a source that states when the date became known (a user's files) is taken at its word
        known = next_session_on_or_after(_day(ev["known_date"])).fillna(known)
    out = pd.DataFrame(
        {
            "date": known,
            "symbol": ev["symbol"].astype(str).str.strip().str.upper(),
            "earnings_date": earnings,
            "time_of_day": time,
            "known_date": known,
            "source_uri": ev.get("source_uri", pd.Series("", index=ev.index)).to_numpy(),
        }
    )
    out = out[out["earnings_date"].notna()]
    return _finish(
        "earnings_calendar", out, request, _metadata(source_name, api_version, received_at), ["symbol", "earnings_date", "known_date"]
    )


def shares_rows(
    records: pd.DataFrame | None,
    request: FetchRequest,
    *,
    source_name: str,
    api_version: str,
    received_at: dt.datetime | None,
) -> pd.DataFrame:
    """reference/shares_outstanding rows from vendor records (``symbol``, ``period_end``,
    ``shares_outstanding``, optional ``filing_date``, ``accepted_at`` (UTC), ``snapshot_date``,
    ``source_uri``), dated by the module's rule; non-positive counts are dropped."""
    if records is None or len(records) == 0:
        return empty_frame("shares_outstanding")
    rec = records.reset_index(drop=True)
    idx = rec.index
    accepted = pd.to_datetime(rec.get("accepted_at", pd.Series(pd.NaT, index=idx)), utc=True, errors="coerce")
    filing = _day(rec.get("filing_date", pd.Series(None, index=idx)))
    snapshot = _day(rec.get("snapshot_date", pd.Series(None, index=idx)))
    after_snapshot = pd.Series(calendar.sessions_on_or_after(snapshot + pd.Timedelta(days=1)).to_numpy(), index=idx)
    date = (
        first_session_closing_after(accepted)
        .fillna(next_session_on_or_after(filing))
        .fillna(after_snapshot)
        .fillna(_fetch_session(received_at, idx))
    )
    shares = pd.to_numeric(rec["shares_outstanding"], errors="coerce")
    out = pd.DataFrame(
        {
            "date": date,
            "symbol": rec["symbol"].astype(str).str.strip().str.upper(),
            "period_end": _day(rec["period_end"]),
            "shares_outstanding": shares.astype("float64"),
            "filing_date": filing,
            "source_uri": rec.get("source_uri", pd.Series("", index=idx)).to_numpy(),
            "vendor_ts": accepted,
        }
    )
    out = out[out["period_end"].notna() & np.isfinite(out["shares_outstanding"]) & (out["shares_outstanding"] > 0)]
    return _finish(
        "shares_outstanding", out, request, _metadata(source_name, api_version, received_at), ["symbol", "period_end", "date"]
    )

"""XNYS trading calendar: sessions, open/close instants in UTC, half days and holidays.

exchange_calendars is the only authority for session logic in TradeML (SSOT 1.3): nothing else
in the code base decides whether a date is a trading day, when it opens or how long it lasts.
Session labels are timezone-naive dates (the exchange-local trading day); instants are UTC.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

EXCHANGE = "XNYS"
EXCHANGE_TZ = "America/New_York"
CALENDAR_START = "1990-01-02"
REGULAR_SESSION_MINUTES = 390
HALF_DAY_SESSION_MINUTES = 210

DateLike = str | dt.date | pd.Timestamp | np.datetime64


@lru_cache(maxsize=1)
def exchange_calendar() -> xcals.ExchangeCalendar:
    """The XNYS exchange_calendars object covering 1990 to about one year ahead of today."""
    end = (pd.Timestamp.now(tz="UTC").normalize() + pd.DateOffset(years=1)).tz_localize(None)
    return xcals.get_calendar(EXCHANGE, start=CALENDAR_START, end=end.strftime("%Y-%m-%d"))


def as_date(value: DateLike, name: str = "date") -> dt.date:
    """A date-like value (str, date, Timestamp; tz-aware instants in New York time) as a date; ValueError if not one."""
    return _as_date(value, name).date()


def _as_date(value: DateLike, name: str = "date") -> pd.Timestamp:
    """Normalise a date-like value to a timezone-naive midnight Timestamp."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}={value!r} is not a date (expected YYYY-MM-DD)") from exc
    if ts is pd.NaT:
        raise ValueError(f"{name} is missing")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(EXCHANGE_TZ).tz_localize(None)
    return ts.normalize()


def _check_bounds(*dates: pd.Timestamp) -> None:
    cal = exchange_calendar()
    for d in dates:
        if d < cal.first_session.tz_localize(None) - pd.Timedelta(days=7) or d > cal.last_session:
            raise ValueError(
                f"{d.date()} is outside the XNYS calendar range "
                f"{cal.first_session.date()}..{cal.last_session.date()}"
            )


def sessions(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """XNYS sessions in the closed range [start, end] as timezone-naive dates."""
    s, e = _as_date(start, "start"), _as_date(end, "end")
    if e < s:
        raise ValueError(f"end {e.date()} is before start {s.date()}")
    _check_bounds(s, e)
    out = exchange_calendar().sessions_in_range(s, e)
    return pd.DatetimeIndex(out.tz_localize(None) if out.tz is not None else out, name="session")


def is_session(date: DateLike) -> bool:
    """True when `date` is an XNYS trading session."""
    d = _as_date(date)
    _check_bounds(d)
    return bool(exchange_calendar().is_session(d))


def session_table(start: DateLike, end: DateLike) -> pd.DataFrame:
    """One row per session in [start, end]: open/close in UTC, minutes traded and the half-day flag."""
    idx = sessions(start, end)
    cal = exchange_calendar()
    opens = cal.schedule.loc[idx, "open"]
    closes = cal.schedule.loc[idx, "close"]
    minutes = ((closes - opens).dt.total_seconds() // 60).astype("int64")
    return pd.DataFrame(
        {
            "session": idx,
            "open_utc": _utc_index(opens),
            "close_utc": _utc_index(closes),
            "minutes": minutes.values,
            "is_half_day": (minutes.values < REGULAR_SESSION_MINUTES),
        }
    ).reset_index(drop=True)


def _utc_index(values: pd.Series) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(values)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def session_open_close(session: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Open and close instants (UTC) of one session; ValueError when `session` is not a trading day."""
    d = _as_date(session, "session")
    if not is_session(d):
        raise ValueError(f"{d.date()} is not an XNYS session")
    cal = exchange_calendar()
    return cal.session_open(d).tz_convert("UTC"), cal.session_close(d).tz_convert("UTC")


def session_minutes(session: DateLike) -> pd.DatetimeIndex:
    """Start instants (UTC) of every regular-hours one-minute bar of a session (390, or 210 on a half day)."""
    open_, close = session_open_close(session)
    return pd.date_range(open_, close, freq="1min", inclusive="left", name="ts")


def half_days(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Early-close sessions (13:00 New York close) in [start, end]."""
    t = session_table(start, end)
    return pd.DatetimeIndex(t.loc[t["is_half_day"], "session"], name="session")


def holidays(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Weekdays in [start, end] on which XNYS is closed (the weekday holidays)."""
    s, e = _as_date(start, "start"), _as_date(end, "end")
    if e < s:
        raise ValueError(f"end {e.date()} is before start {s.date()}")
    weekdays = pd.bdate_range(s, e)
    return pd.DatetimeIndex(weekdays.difference(sessions(s, e)), name="holiday")


def next_session(date: DateLike, n: int = 1) -> pd.Timestamp:
    """The n-th session strictly after `date` (n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    d = _as_date(date)
    cal = exchange_calendar()
    base = cal.date_to_session(d, direction="previous")
    out = cal.session_offset(base, n)
    return out.tz_localize(None) if out.tz else out


def previous_session(date: DateLike, n: int = 1) -> pd.Timestamp:
    """The n-th session strictly before `date` (n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    d = _as_date(date)
    cal = exchange_calendar()
    base = cal.date_to_session(d, direction="next")
    out = cal.session_offset(base, -n)
    return out.tz_localize(None) if out.tz else out


def offset_sessions(dates: pd.DatetimeIndex | pd.Series, n: int) -> pd.DatetimeIndex:
    """Vectorised session arithmetic: each session in `dates` moved by n sessions (n may be negative).

    Raises ValueError when any input is not a session or the result leaves the calendar range.
    """
    idx = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    if idx.tz is not None:
        idx = idx.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
    all_sessions = all_sessions_index()
    pos = all_sessions.get_indexer(idx)
    if (pos < 0).any():
        bad = idx[pos < 0][0]
        raise ValueError(f"{bad.date()} is not an XNYS session")
    target = pos + n
    if (target < 0).any() or (target >= len(all_sessions)).any():
        raise ValueError(f"offset of {n} sessions leaves the calendar range")
    return pd.DatetimeIndex(all_sessions[target], name="session")


@lru_cache(maxsize=1)
def all_sessions_index() -> pd.DatetimeIndex:
    """Every XNYS session the calendar knows, timezone-naive."""
    s = exchange_calendar().sessions
    return pd.DatetimeIndex(s.tz_localize(None) if s.tz is not None else s, name="session")


def sessions_on_or_after(dates: pd.Series | pd.DatetimeIndex | np.ndarray | list) -> pd.DatetimeIndex:
    """Each date moved to the first session on or after it: itself when it is a session, else the next one.

    This is the session at which information dated on a non-session (a weekend, an exchange
    holiday such as Good Friday) first becomes actionable. Vectorised (one searchsorted); NaT stays
    NaT, and so does a date after the calendar's last session. Time of day is ignored.
    """
    idx = pd.DatetimeIndex(pd.to_datetime(dates))
    if idx.tz is not None:
        idx = idx.tz_convert(EXCHANGE_TZ).tz_localize(None)
    idx = idx.normalize()
    all_sessions = all_sessions_index()
    pos = all_sessions.searchsorted(idx.to_numpy(), side="left")
    ok = ~idx.isna() & (pos < len(all_sessions))
    out = np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[ok] = all_sessions.to_numpy()[pos[ok]]
    return pd.DatetimeIndex(out, name="session")


def days_served_by(start: DateLike, end: DateLike) -> tuple[dt.date, dt.date] | None:
    """The calendar days whose first session on or after them lies in the sessions of [start, end].

    For the sessions s_0..s_n of [start, end] that is (the session before s_0, s_n]: a weekend or
    holiday belongs to the session after it, so the days between the previous session and s_0 are
    served by s_0, and the days after s_n by the next session (outside the range). Consecutive
    session ranges therefore give consecutive, non-overlapping day windows. None when [start, end]
    holds no session.
    """
    inside = sessions(start, end)
    if len(inside) == 0:
        return None
    first, last = inside[0], inside[-1]
    all_sessions = all_sessions_index()
    pos = all_sessions.searchsorted(first, side="left")
    lo = all_sessions[pos - 1] + pd.Timedelta(days=1) if pos > 0 else first
    return lo.date(), last.date()


def session_of(ts_utc: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The exchange-local trading date of UTC instants (no session check; convert, then take the date)."""
    idx = pd.DatetimeIndex(ts_utc)
    if idx.tz is None:
        raise ValueError("timestamps must be timezone-aware UTC")
    return idx.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()


def weekday_holidays_for_partitions(start: DateLike, end: DateLike) -> list[str]:
    """Weekday holidays as YYYY-MM-DD strings: the exclusions that make a weekday cron equal XNYS sessions."""
    return [d.strftime("%Y-%m-%d") for d in holidays(start, end)]


def latest_completed_session(now: dt.datetime | pd.Timestamp | None = None, lag_minutes: float = 0.0) -> dt.date:
    """The most recent XNYS session whose close (+ `lag_minutes`) is at or before `now` (aware, UTC).

    `now` defaults to the wall clock. A session after this one has not happened yet: no vendor can
    hold its data, so the CLI rejects it and the synthetic market does not produce it.
    """
    if now is None:
        stamp = pd.Timestamp.now(tz="UTC")
    else:
        stamp = pd.Timestamp(now)
        if stamp.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC); a naive time is ambiguous")
        stamp = stamp.tz_convert("UTC")
    day = stamp.tz_convert(EXCHANGE_TZ).tz_localize(None).normalize()
    if is_session(day) and session_open_close(day)[1] + pd.Timedelta(minutes=lag_minutes) <= stamp:
        return day.date()
    return previous_session(day).date()

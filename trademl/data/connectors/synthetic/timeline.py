"""The session axis of the simulated history: every XNYS session from the origin to the calendar's end.

Paths are generated on this fixed axis (never on a request's range), so any request is a slice of
the same arrays. Each session also carries its global ordinal among all XNYS sessions and its
(year, ordinal-in-year) coordinates, which address its random draws (streams.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl import calendar
from trademl.data.connectors.synthetic.streams import session_coordinates


@dataclass(frozen=True)
class Timeline:
    """Sessions [origin, last calendar session] with UTC open/close, minutes and draw coordinates."""

    sessions: pd.DatetimeIndex  # timezone-naive session dates
    open_utc: pd.DatetimeIndex
    close_utc: pd.DatetimeIndex
    minutes: np.ndarray  # int, 390 or 210
    ordinal: np.ndarray  # index among all XNYS sessions
    year: np.ndarray
    pos_in_year: np.ndarray

    @classmethod
    def build(cls, origin: dt.date) -> Timeline:
        """The axis starting at the first session on or after `origin`."""
        all_sessions = calendar.all_sessions_index()
        first = int(all_sessions.searchsorted(pd.Timestamp(origin)))
        if first >= len(all_sessions):
            raise ValueError(f"origin {origin} is after the last XNYS session the calendar knows")
        table = calendar.session_table(all_sessions[first], all_sessions[-1])
        years, pos = session_coordinates()
        ordinal = np.arange(first, len(all_sessions))
        return cls(
            sessions=pd.DatetimeIndex(table["session"], name="session"),
            open_utc=pd.DatetimeIndex(table["open_utc"]),
            close_utc=pd.DatetimeIndex(table["close_utc"]),
            minutes=table["minutes"].to_numpy(dtype=np.int64),
            ordinal=ordinal,
            year=years[ordinal],
            pos_in_year=pos[ordinal],
        )

    def __len__(self) -> int:
        return len(self.sessions)

    @property
    def first(self) -> pd.Timestamp:
        return self.sessions[0]

    @property
    def last(self) -> pd.Timestamp:
        return self.sessions[-1]

    def span(self, start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp) -> tuple[int, int]:
        """Half-open index range [i0, i1) of the sessions inside the closed date range [start, end]."""
        i0 = int(self.sessions.searchsorted(pd.Timestamp(start), side="left"))
        i1 = int(self.sessions.searchsorted(pd.Timestamp(end), side="right"))
        return i0, max(i0, i1)

    def index_on_or_after(self, dates: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        """Index of the first session on or after each date (len(self) when past the end)."""
        return self.sessions.searchsorted(pd.DatetimeIndex(dates), side="left")

    def month_starts(self) -> np.ndarray:
        """Indices of the first session of every calendar month on the axis (index 0 included)."""
        month_id = self.sessions.year.to_numpy() * 12 + self.sessions.month.to_numpy()
        return np.flatnonzero(np.r_[True, np.diff(month_id) != 0])

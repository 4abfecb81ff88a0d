"""Intraday bars with their XNYS session attached: the session logic shared by the intraday labels.

Every bar is stamped at the start of its interval (`ts`, UTC). Its session is the exchange-local
date (`trademl.calendar.session_of`); it is a regular-hours bar when that date is an XNYS session
and open_utc <= ts < close_utc from `trademl.calendar.session_table`, so half days (13:00 close)
and the daylight-saving switch come from the calendar, never from wall-clock arithmetic.

Conventions used by the labels:

* bar length (`bar_ns`) is the most common gap between consecutive regular bars of a session
  (1 minute for minute bars, 60 minutes for hourly bars);
* the price known at instant I is the close of the last regular bar of the session with
  ts <= I - bar length (that bar has closed by I); before the first such bar it is the first
  bar's `open` (its `close` when the frame has no open column);
* evidence that a stretch of the session is complete comes from the same session date only:
  a forward window ending at instant T is complete when the symbol has a bar of that local date
  starting at or after T (the bar itself, a later regular bar or a post-market print); a bar on a
  later day is not taken as proof, because a vendor gap and "no trade" look alike from there;
* a session's close price is the close of its last regular bar, and it is final only when the
  symbol has a bar of that date starting at or after close_utc - bar length (the last slot or a
  post-market bar); otherwise the session may still be running and labels that need it are NaN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trademl.calendar import EXCHANGE_TZ, all_sessions_index, session_of, session_table
from trademl.labels.frames import (
    check_strictly_increasing,
    price_array,
    require_columns,
    require_frame,
    symbol_codes,
)

NS_PER_MINUTE = 60 * 1_000_000_000


@dataclass(frozen=True)
class IntradayBars:
    """Bars in (symbol, ts) order plus the regular-hours session groups (one per symbol and session)."""

    order: np.ndarray  # sorted position -> original row position
    sym: np.ndarray
    ts: np.ndarray  # int64 ns since epoch, UTC
    close: np.ndarray
    open: np.ndarray | None
    session_pos: np.ndarray  # position in all_sessions_index(), -1 when the local date is not a session
    open_ns: np.ndarray
    close_ns: np.ndarray
    regular: np.ndarray
    bar_ns: int
    day_last_ts: np.ndarray  # per bar: start of the symbol's last bar on the same local date
    symbols: pd.Index
    columns: dict[str, np.ndarray]
    row_group: np.ndarray  # per bar: its session group, -1 when its session has no regular bar
    g_sym: np.ndarray
    g_session_pos: np.ndarray
    g_first: np.ndarray  # sorted position of the group's first regular bar
    g_last: np.ndarray
    g_open_ns: np.ndarray
    g_close_ns: np.ndarray
    g_final: np.ndarray
    _reg_pos: np.ndarray  # sorted positions of regular bars (group-contiguous)
    _g_keys: np.ndarray

    @classmethod
    def build(cls, df: pd.DataFrame, name: str, extra: Iterable[str] = ()) -> IntradayBars:
        """Validate an intraday frame (symbol optional, ts tz-aware, close) and attach sessions."""
        require_frame(df, name)
        require_columns(df, ["ts", "close"], name)
        if not isinstance(df["ts"].dtype, pd.DatetimeTZDtype):
            raise ValueError(f"{name}['ts'] must be timezone-aware (UTC) timestamps, got {df['ts'].dtype}")
        ts_idx = pd.DatetimeIndex(df["ts"]).tz_convert("UTC")
        if ts_idx.isna().any():
            raise ValueError(f"{name}['ts'] has missing timestamps")
        close_all = price_array(df["close"], "close")
        sym_all, symbols = symbol_codes(df, "symbol")
        ns_all = ts_idx.as_unit("ns").asi8
        order = check_strictly_increasing(sym_all, ns_all, symbols, f"{name}['ts']")

        sym, ns, close = sym_all[order], ns_all[order], close_all[order]
        open_ = None
        if "open" in df.columns:
            open_ = price_array(df["open"], "open")[order]
        columns = {
            c: pd.to_numeric(df[c], errors="raise").to_numpy(dtype="float64", na_value=np.nan)[order]
            for c in extra
            if c in df.columns
        }

        local_dates = session_of(ts_idx[order])
        all_sessions = all_sessions_index()
        pos = all_sessions.get_indexer(local_dates).astype(np.int64)
        if not (pos >= 0).any():
            raise ValueError(f"{name} has no bar on an XNYS session date")
        table = session_table(all_sessions[pos[pos >= 0].min()], all_sessions[pos.max()])
        first_pos = all_sessions.get_loc(table["session"].iloc[0])
        t_open = pd.DatetimeIndex(table["open_utc"]).as_unit("ns").asi8
        t_close = pd.DatetimeIndex(table["close_utc"]).as_unit("ns").asi8
        in_table = pos >= 0
        k = np.where(in_table, pos - first_pos, 0)
        open_ns = np.where(in_table, t_open[k], 0)
        close_ns = np.where(in_table, t_close[k], 0)
        regular = in_table & (ns >= open_ns) & (ns < close_ns)
        if not regular.any():
            raise ValueError(f"{name} has no regular-hours bar (XNYS open..close)")

        reg_pos = np.flatnonzero(regular)
        stride = len(all_sessions) + 1
        reg_key = sym[reg_pos] * stride + pos[reg_pos]
        starts = np.flatnonzero(np.r_[True, reg_key[1:] != reg_key[:-1]])
        ends = np.r_[starts[1:], len(reg_pos)]
        g_keys = reg_key[starts]
        g_first, g_last = reg_pos[starts], reg_pos[ends - 1]

        gaps = np.diff(ns[reg_pos])
        same_group = reg_key[1:] == reg_key[:-1]
        positive = gaps[same_group & (gaps > 0)]
        if positive.size == 0:
            raise ValueError(f"{name}: cannot infer the bar length (no session has two regular bars)")
        values, counts = np.unique(positive, return_counts=True)
        bar_ns = int(values[np.argmax(counts)])

        day_key = local_dates.asi8
        run_start = np.flatnonzero(np.r_[True, (sym[1:] != sym[:-1]) | (day_key[1:] != day_key[:-1])])
        run_len = np.diff(np.r_[run_start, len(ns)])
        day_last_ts = np.repeat(ns[np.r_[run_start[1:], len(ns)] - 1], run_len)
        g_sym = sym[g_first]
        g_close_ns = close_ns[g_first]
        g_final = day_last_ts[g_last] >= g_close_ns - bar_ns

        key_all = sym * stride + pos
        gi = np.searchsorted(g_keys, key_all)
        gi_clip = np.minimum(gi, len(g_keys) - 1)
        row_group = np.where((pos >= 0) & (g_keys[gi_clip] == key_all), gi_clip, -1)

        return cls(
            order=order,
            sym=sym,
            ts=ns,
            close=close,
            open=open_,
            session_pos=pos,
            open_ns=open_ns,
            close_ns=close_ns,
            regular=regular,
            bar_ns=bar_ns,
            day_last_ts=day_last_ts,
            symbols=symbols,
            columns=columns,
            row_group=row_group,
            g_sym=g_sym,
            g_session_pos=pos[g_first],
            g_first=g_first,
            g_last=g_last,
            g_open_ns=open_ns[g_first],
            g_close_ns=g_close_ns,
            g_final=g_final,
            _reg_pos=reg_pos,
            _g_keys=g_keys,
        )

    @property
    def n_groups(self) -> int:
        """Number of (symbol, session) groups with at least one regular-hours bar."""
        return len(self.g_first)

    def to_original(self, sorted_values: np.ndarray) -> np.ndarray:
        """Values given in (symbol, ts) order, returned in the caller's row order."""
        out = np.empty_like(sorted_values)
        out[self.order] = sorted_values
        return out

    def broadcast(self, group_values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Per-group values on every bar of that (symbol, session), caller's row order; `fill` elsewhere."""
        g = self.row_group
        vals = np.where(g >= 0, group_values[np.maximum(g, 0)], fill)
        return self.to_original(vals)

    def group_of(self, sym: np.ndarray, session_pos: np.ndarray) -> np.ndarray:
        """Group index of (symbol code, session position) pairs; -1 where that session has no regular bar."""
        stride = len(all_sessions_index()) + 1
        key = sym * stride + session_pos
        i = np.searchsorted(self._g_keys, key)
        i_clip = np.minimum(i, len(self._g_keys) - 1)
        return np.where((session_pos >= 0) & (self._g_keys[i_clip] == key), i_clip, -1)

    def asof_in_group(self, group: np.ndarray, instant_ns: np.ndarray) -> np.ndarray:
        """Sorted position of the last regular bar of `group` with ts <= instant (-1 when none)."""
        group = np.asarray(group, dtype=np.int64)
        reg_ts = self.ts[self._reg_pos]
        reg_group = self.row_group[self._reg_pos]
        ranks = np.unique(np.concatenate([reg_ts, instant_ns]))
        width = len(ranks) + 1
        reg_key = reg_group * width + np.searchsorted(ranks, reg_ts)
        q_key = group * width + np.searchsorted(ranks, instant_ns)
        j = np.searchsorted(reg_key, q_key, side="right") - 1
        j_clip = np.maximum(j, 0)
        ok = (group >= 0) & (j >= 0) & (reg_group[j_clip] == group)
        return np.where(ok, self._reg_pos[j_clip], -1)

    def price_at(self, group: np.ndarray, instant_ns: np.ndarray) -> np.ndarray:
        """Price known at each instant within its session group (see module docstring)."""
        j = self.asof_in_group(group, instant_ns - self.bar_ns)
        first = self.g_first[np.maximum(group, 0)]
        opening = self.close[first]
        if self.open is not None:
            opening = np.where(np.isfinite(self.open[first]), self.open[first], opening)
        price = np.where(j >= 0, self.close[np.maximum(j, 0)], opening)
        return np.where(group >= 0, price, np.nan)

    def column_at(self, name: str, group: np.ndarray, instant_ns: np.ndarray) -> np.ndarray:
        """Value of an extra column on the last regular bar that has closed by `instant` (NaN when none)."""
        j = self.asof_in_group(group, instant_ns - self.bar_ns)
        return np.where(j >= 0, self.columns[name][np.maximum(j, 0)], np.nan)

    def session_close_price(self) -> np.ndarray:
        """Per group: close of its last regular bar, NaN while the session is not final."""
        return np.where(self.g_final, self.close[self.g_last], np.nan)

    def local_instants(self, clock: pd.Timedelta) -> np.ndarray:
        """Per group: the UTC instant (ns) of exchange-local wall time `clock` on the group's session date."""
        dates = all_sessions_index()[self.g_session_pos]
        local = pd.DatetimeIndex(dates + clock).tz_localize(
            EXCHANGE_TZ, ambiguous="raise", nonexistent="raise"
        )
        return local.tz_convert("UTC").as_unit("ns").asi8

    def trailing_group_sum(self, values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Per group: sum and count of finite `values` over the symbol's `window` previous groups.

        Summed lag by lag (a loop over `window` lags, each vectorised over all groups) rather than
        by differencing a running sum, so a value outside the window cannot move the result even by
        rounding: the point-in-time tests compare labels for exact equality.
        """
        finite = np.isfinite(values)
        clean = np.where(finite, values, 0.0)
        total = np.zeros(self.n_groups)
        count = np.zeros(self.n_groups, dtype=np.int64)
        for lag in range(1, min(window, self.n_groups - 1) + 1):
            same = self.g_sym[lag:] == self.g_sym[:-lag]
            total[lag:] += np.where(same, clean[:-lag], 0.0)
            count[lag:] += same & finite[:-lag]
        return total, count


def parse_clock(value: str, name: str) -> pd.Timedelta:
    """'HH:MM' exchange-local wall time as a Timedelta after midnight; ValueError when malformed."""
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a HH:MM time") from exc
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"{name}={value!r} is not a HH:MM time")
    return pd.Timedelta(hours=hours, minutes=minutes)

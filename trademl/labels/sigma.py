"""Spec-000 ("Sigma") labels: next hour, overnight, forward days, head-fake reversal, pin drift.

Inputs follow the TradeML bar schemas: intraday frames carry (symbol, ts, open, high, low, close,
volume) with `ts` the UTC tz-aware start of each bar; daily frames carry (symbol, date, open,
high, low, close, volume) with `date` the session date. `symbol` is optional (one instrument).
A frame with a `ts` column is intraday, otherwise it must have `date` and is daily. Sessions,
opens, closes and half days come from `trademl.calendar` (see `trademl.labels.session_bars` for
the shared conventions: price known at an instant, final session close). The `tz` parameters
exist for spec compatibility and must name the XNYS time zone.

Every label is NaN (direction labels: missing category) when its forward window is not fully in
the data; nothing is extrapolated. Direction labels are categorical UP / DOWN / FLAT with
UP: ret > band, DOWN: ret < -band, FLAT: |ret| <= band (the band edge is FLAT).
Use adjusted prices for multi-day labels (as-traded prices turn splits into returns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trademl.calendar import REGULAR_SESSION_MINUTES, all_sessions_index
from trademl.labels.frames import (
    DailyPanel,
    check_exchange_tz,
    direction_labels,
    non_negative_float,
    positive_int,
    price_array,
    require_columns,
    require_frame,
)
from trademl.labels.horizon import forward_return_labels, simple_return_column
from trademl.labels.session_bars import NS_PER_MINUTE, IntradayBars, parse_clock

HOUR_NS = 60 * NS_PER_MINUTE
REGULAR_OPEN_CLOCK = pd.Timedelta(hours=9, minutes=30)
REGULAR_CLOSE_CLOCK = REGULAR_OPEN_CLOCK + pd.Timedelta(minutes=REGULAR_SESSION_MINUTES)
ATR_COLUMNS = ("atr_14", "rolling_std_20")
PEAK_COLUMNS = ("oi_peak_strike", "gamma_peak_strike")
FALLBACK_ATR_SESSIONS = 14


def label_next_hour_direction(
    df_hourly: pd.DataFrame,
    *,
    k_sigma: float = 0.3,
    fixed_bp: float | None = None,
    sigma_sessions: int = 20,
) -> pd.DataFrame:
    """Direction of the next hour's return per intraday bar, with a flat band; adds y and y_syn.

    ret_next_hour (per hour, simple) = close of the bar starting at ts + 60 min / close of the bar
    at ts - 1, so it spans exactly one hour whatever the bar size (minute or hourly bars). The
    later bar must start before the session close (calendar close: 16:00, 13:00 on half days, in
    UTC across DST); with sparse bars it is the last bar starting at or before ts + 60 min, and the
    window counts as complete only when the symbol has a bar of the same date at or after
    ts + 60 min. Only regular-hours bars are labelled and used as forward prices.

    Flat band: `fixed_bp` basis points when given, else k_sigma x the standard deviation of all
    one-hour returns of the symbol's previous `sigma_sessions` sessions (sessions before the bar's
    own, so the band is known at the open; NaN until two such returns exist).

    y_syn is the synthetic fallback: y where defined; in the last hour of a session, where the
    hour runs past the close, the direction of the return to the session's (final) close price.
    Adds ret_next_hour, ret_next_hour_syn, flat_band, y and y_syn to a copy of the input.
    """
    k_sigma = non_negative_float(k_sigma, "k_sigma")
    band_fixed = None if fixed_bp is None else non_negative_float(fixed_bp, "fixed_bp") / 1e4
    sigma_sessions = positive_int(sigma_sessions, "sigma_sessions")
    bars = IntradayBars.build(df_hourly, "df_hourly")

    target = bars.ts + HOUR_NS
    inside = bars.regular & (target < bars.close_ns)
    complete = target <= bars.day_last_ts
    j = bars.asof_in_group(bars.row_group, target)
    ok = inside & complete & (j >= 0)
    ret = np.where(ok, bars.close[np.maximum(j, 0)] / bars.close - 1.0, np.nan)

    g = np.maximum(bars.row_group, 0)
    last = bars.g_last[g]
    syn_ok = bars.regular & ~inside & bars.g_final[g] & (last != np.arange(len(bars.ts)))
    ret_syn = np.where(ok, ret, np.where(syn_ok, bars.close[last] / bars.close - 1.0, np.nan))

    if band_fixed is not None:
        band = np.full(len(ret), band_fixed)
    elif k_sigma == 0.0:
        band = np.zeros(len(ret))
    else:
        band = k_sigma * _previous_sessions_std(bars, ret, sigma_sessions)[g]
        band = np.where(bars.row_group >= 0, band, np.nan)

    out = df_hourly.copy()
    out["ret_next_hour"] = bars.to_original(ret)
    out["ret_next_hour_syn"] = bars.to_original(ret_syn)
    out["flat_band"] = bars.to_original(band)
    out["y"] = direction_labels(out["ret_next_hour"].to_numpy(), out["flat_band"].to_numpy())
    out["y_syn"] = direction_labels(out["ret_next_hour_syn"].to_numpy(), out["flat_band"].to_numpy())
    return out


def label_close_to_open_direction(
    df: pd.DataFrame, *, tz: str = "US/Eastern", band: float = 0.0005
) -> pd.DataFrame:
    """Overnight label per session: return from today's close to the next XNYS session's open, and direction.

    The next session is the calendar's (weekends and holidays skipped; a half day's close is its
    13:00 close). Daily frames: open[next session] / close[today] - 1 (needs `open`). Intraday
    frames: close of today's last regular bar (session must be final) to the `open` of the next
    session's first regular bar (its close when there is no open column: the spec's "approximate
    open"); every bar of the session date carries its session's label. NaN when the symbol has no
    bar on the next session. Adds next_session, ret_close_to_open and y (band = `band` as a return).
    """
    check_exchange_tz(tz)
    band = non_negative_float(band, "band")
    require_frame(df, "df")
    all_sessions = all_sessions_index()
    out = df.copy()
    if "ts" not in df.columns:
        require_columns(df, ["date", "open", "close"], "df")
        close = price_array(df["close"], "close")
        open_ = price_array(df["open"], "open")
        panel = DailyPanel.build(df, "symbol" if "symbol" in df.columns else None, "date")
        nxt = panel.rows_at_offset(1)
        ret = np.where(nxt >= 0, open_[np.maximum(nxt, 0)] / close - 1.0, np.nan)
        next_session = all_sessions[np.minimum(panel.session_pos + 1, len(all_sessions) - 1)]
        next_session = next_session.where(panel.session_pos + 1 < len(all_sessions))
    else:
        bars = IntradayBars.build(df, "df")
        today_close = bars.session_close_price()
        nxt_pos = bars.g_session_pos + 1
        g2 = bars.group_of(bars.g_sym, np.where(nxt_pos < len(all_sessions), nxt_pos, -1))
        first = bars.g_first[np.maximum(g2, 0)]
        next_open = bars.close[first]
        if bars.open is not None:
            next_open = np.where(np.isfinite(bars.open[first]), bars.open[first], next_open)
        g_ret = np.where(g2 >= 0, next_open / today_close - 1.0, np.nan)
        ret = bars.broadcast(g_ret)
        row_next = bars.broadcast(nxt_pos.astype("float64"))
        known = np.isfinite(row_next) & (row_next < len(all_sessions))
        picks = np.where(known, row_next, 0).astype(np.int64)
        next_session = all_sessions[picks].where(known)
    out["next_session"] = pd.DatetimeIndex(next_session)
    out["ret_close_to_open"] = ret
    out["y"] = direction_labels(np.asarray(ret, dtype="float64"), band)
    return out


def label_forward_return_days(
    df: pd.DataFrame,
    *,
    days: int = 5,
    classify: bool = True,
    band: float = 0.001,
    tz: str = "US/Eastern",
) -> pd.DataFrame:
    """Forward N-session return per row (to the close N XNYS sessions later), as a number or UP/DOWN/FLAT.

    Daily frames: close[t+N] / close[t] - 1 with t+N counted in calendar sessions
    (`forward_return_labels`). Intraday frames: for each regular-hours bar, the final close of
    the session N sessions after the bar's own divided by the bar's close, minus 1 (extended-hours
    bars get NaN). Adds ret_fwd_{days}d (always numeric) and y: UP/DOWN/FLAT by `band` when
    `classify`, else the numeric return itself.
    """
    check_exchange_tz(tz)
    days = positive_int(days, "days")
    band = non_negative_float(band, "band")
    require_frame(df, "df")
    col = simple_return_column(days)
    if "ts" not in df.columns:
        require_columns(df, ["date", "close"], "df")
        ret = forward_return_labels(df, days, kind="simple")[col].to_numpy()
    else:
        bars = IntradayBars.build(df, "df")
        g2 = bars.group_of(bars.g_sym, bars.g_session_pos + days)
        target_close = np.where(g2 >= 0, bars.session_close_price()[np.maximum(g2, 0)], np.nan)
        per_bar = target_close[np.maximum(bars.row_group, 0)]
        ret = bars.to_original(np.where(bars.regular, per_bar / bars.close - 1.0, np.nan))
    out = df.copy()
    out[col] = ret
    out["y"] = direction_labels(ret, band) if classify else ret
    return out


def label_headfake_reversal(
    df: pd.DataFrame,
    *,
    open_time: str = "09:30",
    window_end: str = "10:30",
    min_open_move_atr: float = 0.5,
    min_reversal_move_atr: float = 0.5,
    tz: str = "US/Eastern",
) -> pd.DataFrame:
    """Per session: 1 when the opening move (open_time -> window_end) reverses into the close, else 0.

    open_move = P(window_end) - P(open_time) and reversal = P(close) - P(window_end), with P the
    price known at that exchange-local instant (converted through the calendar's time zone; an
    open_time before the calendar open means the open) and P(close) the session's final close.
    y = 1 iff |open_move| >= min_open_move_atr x ATR and the reversal has the opposite sign with
    |reversal| >= min_reversal_move_atr x ATR (edges inclusive). ATR (price units): `atr_14`, else
    `rolling_std_20`, read on the last bar closed by window_end; without either column, the mean
    daily true range of the symbol's previous 14 sessions (regular-hours high/low/close). NaN when
    window_end is not before the session close (e.g. a half day with a late window), the close is
    not final or the ATR is unknown. Every bar of the session carries y; y_syn repeats y for spec
    compatibility. Also adds open_move_atr and reversal_move_atr (signed, in ATR units).
    """
    check_exchange_tz(tz)
    t_open = parse_clock(open_time, "open_time")
    t_end = parse_clock(window_end, "window_end")
    if t_end <= t_open:
        raise ValueError(f"window_end {window_end} must be after open_time {open_time}")
    a = non_negative_float(min_open_move_atr, "min_open_move_atr")
    b = non_negative_float(min_reversal_move_atr, "min_reversal_move_atr")
    bars = IntradayBars.build(df, "df", extra=("high", "low", *ATR_COLUMNS))

    groups = np.arange(bars.n_groups)
    open_at = np.maximum(bars.local_instants(t_open), bars.g_open_ns)
    end_at = bars.local_instants(t_end)
    p_open = bars.price_at(groups, open_at)
    p_end = bars.price_at(groups, end_at)
    p_close = bars.session_close_price()
    atr = _atr(bars, groups, end_at)
    valid = (end_at < bars.g_close_ns) & np.isfinite(p_close) & np.isfinite(atr) & (atr > 0)
    move = p_end - p_open
    reversal = p_close - p_end
    hit = (np.abs(move) >= a * atr) & (move * reversal < 0) & (np.abs(reversal) >= b * atr)
    y = np.where(valid, hit.astype("float64"), np.nan)

    out = df.copy()
    out["open_move_atr"] = bars.broadcast(np.where(valid, move / atr, np.nan))
    out["reversal_move_atr"] = bars.broadcast(np.where(valid, reversal / atr, np.nan))
    out["y"] = bars.broadcast(y)
    out["y_syn"] = out["y"]
    return out


def label_pin_drift(
    df: pd.DataFrame,
    *,
    drift_start_time: str = "15:00",
    min_pull_atr: float = 0.2,
    tz: str = "US/Eastern",
    strike_step: float = 1.0,
) -> pd.DataFrame:
    """Per session: 1 when price drifts toward the pin strike into the close by >= min_pull_atr x ATR, else 0.

    The drift window is the last (16:00 - drift_start_time) of the session measured back from the
    calendar close, so it is 15:00-16:00 on a regular day and 12:00-13:00 on a 13:00 half day.
    Pin strike K: `oi_peak_strike`, else `gamma_peak_strike`, read on the last bar closed by the
    drift start; without either column the strike nearest the drift-start price on a grid of
    `strike_step` (halves round up). pull = |P(start) - K| - |P(close) - K| (distance to the pin
    given up; overshooting past K counts against it); y = 1 iff pull > 0 and pull >= min_pull_atr
    x ATR. ATR as in `label_headfake_reversal`, read at the drift start. NaN when the drift would
    start before the open (a long window on a half day), the close is not final, K or ATR is
    unknown. Every bar of the session carries y; y_syn repeats y. Also adds pin_strike and
    pin_pull_atr.
    """
    check_exchange_tz(tz)
    start_clock = parse_clock(drift_start_time, "drift_start_time")
    if not (REGULAR_OPEN_CLOCK <= start_clock < REGULAR_CLOSE_CLOCK):
        raise ValueError(f"drift_start_time {drift_start_time} must lie within 09:30..16:00")
    m = non_negative_float(min_pull_atr, "min_pull_atr")
    step = non_negative_float(strike_step, "strike_step")
    if step == 0:
        raise ValueError("strike_step must be > 0")
    bars = IntradayBars.build(df, "df", extra=("high", "low", *ATR_COLUMNS, *PEAK_COLUMNS))

    groups = np.arange(bars.n_groups)
    offset_ns = (REGULAR_CLOSE_CLOCK - start_clock).value
    start_at = bars.g_close_ns - offset_ns
    p_start = bars.price_at(groups, start_at)
    p_close = bars.session_close_price()
    peak_col = next((c for c in PEAK_COLUMNS if c in bars.columns), None)
    if peak_col is not None:
        strike = bars.column_at(peak_col, groups, start_at)
    else:
        strike = np.floor(p_start / step + 0.5) * step
    atr = _atr(bars, groups, start_at)
    valid = (start_at >= bars.g_open_ns) & np.isfinite(p_close) & np.isfinite(strike)
    valid &= np.isfinite(atr) & (atr > 0)
    pull = np.abs(p_start - strike) - np.abs(p_close - strike)
    hit = (pull > 0) & (pull >= m * atr)
    y = np.where(valid, hit.astype("float64"), np.nan)

    out = df.copy()
    out["pin_strike"] = bars.broadcast(np.where(valid, strike, np.nan))
    out["pin_pull_atr"] = bars.broadcast(np.where(valid, pull / atr, np.nan))
    out["y"] = bars.broadcast(y)
    out["y_syn"] = out["y"]
    return out


def _previous_sessions_std(bars: IntradayBars, ret: np.ndarray, window: int) -> np.ndarray:
    """Per group: sample std of the finite `ret` of the symbol's previous `window` groups."""
    g = bars.row_group
    mask = np.isfinite(ret) & (g >= 0)
    n_g = bars.n_groups
    s1 = np.bincount(g[mask], weights=ret[mask], minlength=n_g)
    s2 = np.bincount(g[mask], weights=ret[mask] ** 2, minlength=n_g)
    cnt = np.bincount(g[mask], minlength=n_g).astype("float64")
    w1, _ = bars.trailing_group_sum(s1, window)
    w2, _ = bars.trailing_group_sum(s2, window)
    wn, _ = bars.trailing_group_sum(cnt, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(w2 - w1**2 / wn, 0.0) / (wn - 1.0)
    return np.where(wn >= 2, np.sqrt(var), np.nan)


def _atr(bars: IntradayBars, groups: np.ndarray, instant_ns: np.ndarray) -> np.ndarray:
    """Per group ATR (price units): the ATR column on the last bar closed by `instant`, else the fallback."""
    col = next((c for c in ATR_COLUMNS if c in bars.columns), None)
    if col is not None:
        return bars.column_at(col, groups, instant_ns)
    return _fallback_daily_atr(bars)


def _fallback_daily_atr(bars: IntradayBars) -> np.ndarray:
    """Mean true range of the symbol's previous FALLBACK_ATR_SESSIONS sessions (NaN until that many exist)."""
    reg = np.flatnonzero(bars.regular)
    high = bars.columns.get("high", bars.close)[reg]
    low = bars.columns.get("low", bars.close)[reg]
    starts = np.flatnonzero(np.r_[True, bars.row_group[reg][1:] != bars.row_group[reg][:-1]])
    g_high = np.fmax.reduceat(np.where(np.isfinite(high), high, bars.close[reg]), starts)
    g_low = np.fmin.reduceat(np.where(np.isfinite(low), low, bars.close[reg]), starts)
    g_close = bars.close[bars.g_last]
    same_sym = np.r_[False, bars.g_sym[1:] == bars.g_sym[:-1]]
    prev_close = np.where(same_sym, np.r_[np.nan, g_close[:-1]], np.nan)
    tr = np.fmax(g_high, prev_close) - np.fmin(g_low, prev_close)
    total, count = bars.trailing_group_sum(tr, FALLBACK_ATR_SESSIONS)
    return np.where(count >= FALLBACK_ATR_SESSIONS, total / np.maximum(count, 1), np.nan)

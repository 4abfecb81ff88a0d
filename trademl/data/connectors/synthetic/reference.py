"""Reference tables derived from the simulated market: corporate actions, delistings, PIT universe,
index membership, tick-size regimes, earnings calendars and shares outstanding. All are consistent with the bars by construction (they are
read off the same DailyPanel and Roster) and use only information up to the previous session where a
real vendor would (eligibility, index rebalances, tick regimes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from trademl.data.connectors.synthetic.config import SyntheticConfig
from trademl.data.connectors.synthetic.market import DailyPanel
from trademl.data.connectors.synthetic.roster import SECTORS, Roster
from trademl.data.connectors.synthetic.streams import Stream, hash_uniform
from trademl.data.connectors.synthetic.timeline import Timeline

SOURCE_PRIORITY = 50
SHARE_CLASS = "COMMON"
# The SEC tick-size pilot ($0.05 quoting increment for a test group of small caps) ended 2018-09-28.
TICK_PILOT_END = pd.Timestamp("2018-09-28")
TICK_PILOT_CAP = 3e9


def _cells(mask: np.ndarray, i0: int, symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True cells of a (sessions [i0, ..) x symbols) mask, session-major: session index, roster index,
    and the cell's row and column in the mask."""
    rows, cols = np.nonzero(mask)
    return rows + i0, symbols[cols], rows, cols


def corp_actions(panel: DailyPanel, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
    """Splits (ratio = new shares per old) and cash dividends going ex in sessions [i0, i1)."""
    ratio = panel.ratio[i0:i1][:, symbols]
    div = panel.dividend[i0:i1][:, symbols]
    frames = []
    for kind, mask in (("SPLIT", ratio != 1.0), ("DIVIDEND", div > 0.0)):
        t, s, _, _ = _cells(mask, i0, symbols)
        ex = timeline.sessions[t]
        nxt = timeline.sessions[np.minimum(t + 1, len(timeline) - 1)]
        is_div = kind == "DIVIDEND"
        pay = (ex + pd.Timedelta(days=21)).to_numpy() if is_div else np.full(len(t), np.datetime64("NaT"), "datetime64[ns]")
        frames.append(
            pd.DataFrame(
                {
                    "date": ex,
                    "symbol": roster.symbols[s],
                    "event_type": kind,
                    "ex_date": ex,
                    "record_date": nxt.to_numpy() if is_div else pay,
                    "pay_date": pay,
                    "ratio": np.nan if is_div else panel.ratio[t, s],
                    "amount": panel.dividend[t, s] if is_div else np.nan,
                    "source_priority": np.int32(SOURCE_PRIORITY),
                    "_t": t,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["_t", "symbol", "event_type"], kind="stable").reset_index(drop=True)


def delistings(roster: Roster, timeline: Timeline, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
    """Delisting events whose delist_date (first session without trading) lies in sessions [i0, i1)."""
    end = roster.end_index[symbols]
    hit = (end < len(timeline)) & (end >= i0) & (end < i1)
    s = symbols[hit]
    t = roster.end_index[s]
    order = np.lexsort((s, t))
    s, t = s[order], t[order]
    return pd.DataFrame(
        {
            "date": timeline.sessions[t],
            "symbol": roster.symbols[s],
            "delist_date": timeline.sessions[t],
            "reason": roster.delist_reason[s],
            "source_priority": np.int32(SOURCE_PRIORITY),
            "_t": t,
        }
    )


def _trailing_mean(values: np.ndarray, counts: np.ndarray, window: int) -> np.ndarray:
    """Mean over the previous `window` sessions (excluding the current one) of values where counts==1;
    NaN where no previous session counts."""
    cs = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    cn = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(counts, axis=0)])
    t = np.arange(values.shape[0])
    lo = np.maximum(t - window, 0)
    total = cs[t] - cs[lo]
    n = cn[t] - cn[lo]
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def universe(
    config: SyntheticConfig, panel: DailyPanel, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray
) -> pd.DataFrame:
    """PIT universe rows for sessions [i0, i1): every symbol listed on or before the session.

    Eligibility uses the previous session's close and the average dollar volume over the previous
    `adv_window` sessions; the exclusion reason names the first failed rule.
    """
    el = config.eligibility
    T = panel.n_sessions
    sub = slice(0, min(i1, T))
    active = panel.active[sub]
    dollar = np.where(active, panel.close[sub] * panel.volume[sub], 0.0)
    adv = _trailing_mean(dollar, active.astype(np.float64), el.adv_window)
    prev_close = np.vstack([roster.offer_price[None, :], panel.close[sub][:-1]])
    t_axis = np.arange(active.shape[0])[:, None]
    # Seasoned names were listed at least a year before the origin: their history is never short.
    history = np.where(roster.is_ipo[None, :], t_axis - roster.first_index[None, :], t_axis + 10_000)
    seen = t_axis >= roster.first_index[None, :]

    sl = slice(i0, min(i1, T))
    act, pc_, adv_, hist, seen_ = (a[sl][:, symbols] for a in (active, prev_close, adv, history, seen))
    adv_ok = np.isnan(adv_) | (adv_ >= el.adv_floor)  # no trailing bars yet: judged by history alone
    price_ok = pc_ >= el.price_floor
    hist_ok = hist >= el.min_history
    reason = np.where(
        ~act,
        "DELISTED",
        np.where(~hist_ok, "INSUFFICIENT_HISTORY", np.where(~price_ok, "PRICE_BELOW_FLOOR", np.where(~adv_ok, "ADV_BELOW_FLOOR", ""))),
    ).astype(object)
    eligible = act & hist_ok & price_ok & adv_ok
    t, s, r, c = _cells(seen_, i0, symbols)
    reason_cells = reason[r, c]
    return pd.DataFrame(
        {
            "date": timeline.sessions[t],
            "symbol": roster.symbols[s],
            "is_listed": act[r, c],
            "is_eligible": eligible[r, c],
            "listed_date": roster.listed_date[s],
            "delist_date": roster.delist_date[s],
            "share_class": SHARE_CLASS,
            "sector": np.asarray(SECTORS, dtype=object)[roster.sector_code[s]],
            "exclusion_reason": np.where(reason_cells == "", None, reason_cells),
            "_t": t,
        }
    )


def index_membership(
    config: SyntheticConfig, panel: DailyPanel, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray
) -> pd.DataFrame:
    """Members of the cap-weighted index for sessions [i0, i1) with that session's weights.

    Members are the `size` largest listed names by previous-close market value on the first session
    of each month; a member that delists leaves at once. Weights are previous-close market values
    normalised over the session's members (they sum to 1).
    """
    ip = config.index
    T = min(i1, panel.n_sessions)
    shares_prev = np.vstack([roster.shares[None, :], panel.shares[: T - 1]])
    close_prev = np.vstack([roster.offer_price[None, :], panel.close[: T - 1]])
    cap_prev = shares_prev * close_prev
    active = panel.active[:T]
    starts = timeline.month_starts()
    starts = starts[starts < T]
    first = starts[np.searchsorted(starts, i0, side="right") - 1] if len(starts) else 0
    members = np.zeros((T, len(roster)), dtype=bool)
    bounds = np.r_[starts, T]
    for m0, m1 in zip(bounds[:-1], bounds[1:]):  # one rebalance per month
        if m1 <= first:
            continue
        cap = np.where(active[m0], cap_prev[m0], -np.inf)
        top = np.argsort(-cap, kind="stable")[: ip.size]
        top = top[np.isfinite(cap[top])]
        members[m0:m1, top] = True
    members &= active
    cap_m = np.where(members, cap_prev, 0.0)
    weights = cap_m / np.maximum(cap_m.sum(axis=1, keepdims=True), 1e-12)
    t, s, _, _ = _cells(members[i0:T][:, symbols], i0, symbols)
    return pd.DataFrame(
        {"date": timeline.sessions[t], "index_id": ip.index_id, "symbol": roster.symbols[s], "weight": weights[t, s], "_t": t}
    )


def tick_size_regime(
    config: SyntheticConfig, panel: DailyPanel, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray
) -> pd.DataFrame:
    """Minimum quoting increment per listed symbol and session in [i0, i1).

    Rule 612: $0.01 at or above $1 (previous close), $0.0001 below. Until the pilot's end a seeded half
    of the names under $3bn market value at the origin quote in $0.05 (SEC tick-size pilot test group).
    """
    T = min(i1, panel.n_sessions)
    close_prev = np.vstack([roster.offer_price[None, :], panel.close[: T - 1]])[i0:T][:, symbols]
    act = panel.active[i0:T][:, symbols]
    small = roster.shares[symbols] * roster.offer_price[symbols] < TICK_PILOT_CAP
    pilot_group = small & (hash_uniform(config.seed, int(Stream.STATIC), 612, symbols) < 0.5)
    in_pilot = np.asarray(timeline.sessions[i0:T] <= TICK_PILOT_END)[:, None] & pilot_group[None, :]
    tick = np.where(in_pilot, 0.05, np.where(close_prev >= 1.0, 0.01, 0.0001))
    regime = np.where(in_pilot, "TICK_PILOT", np.where(close_prev >= 1.0, "PENNY", "SUBPENNY")).astype(object)
    t, s, r, c = _cells(act, i0, symbols)
    return pd.DataFrame(
        {"date": timeline.sessions[t], "symbol": roster.symbols[s], "tick_size": tick[r, c], "regime": regime[r, c], "_t": t}
    )


# Earnings and share counts: quarterly per symbol, from their own streams (EARNINGS, SHARES) so no
# existing draw moves. Lags are calendar days after the fiscal quarter end.
EARNINGS_LAG_DAYS = (25.0, 45.0)  # announcement 25-45 days after the quarter end
EARNINGS_NOTICE_DAYS = (28.0, 42.0)  # the date is announced 4-6 weeks ahead
FILING_LAG_DAYS = (30.0, 45.0)  # the 10-Q / 10-K with the share count is filed 30-45 days after the quarter end
TIMES_OF_DAY: tuple[str, ...] = ("bmo", "amc", "dmh")
_TIME_CUTS = (0.45, 0.90)  # P(bmo) = 0.45, P(amc) = 0.45, P(dmh) = 0.10
SHARE_DRIFT_PER_QUARTER = -0.002  # mean log change of the share count per quarter (net buybacks)
SHARE_VOL_PER_QUARTER = 0.01  # its standard deviation (issuance and buybacks)


def _quarter_ends(timeline: Timeline) -> pd.DatetimeIndex:
    """Fiscal quarter ends (calendar quarters) from the quarter before the origin to the timeline's end."""
    first = (timeline.first - pd.offsets.QuarterEnd(1)).normalize()
    return pd.date_range(first, timeline.last, freq="QE")


def _lag_days(seed: int, stream: Stream, word: int, quarters: np.ndarray, symbols: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Whole calendar days in [lo, hi] per (quarter, symbol), from a hash of (seed, stream, word, quarter, symbol)."""
    u = hash_uniform(seed, int(stream), word, quarters[:, None], symbols[None, :])
    lo, hi = bounds
    return np.round(lo + (hi - lo) * u).astype("timedelta64[D]")


def _session_index(timeline: Timeline, days: np.ndarray) -> np.ndarray:
    """Index of the first timeline session on or after each day (len(timeline) past the end), any shape."""
    flat = timeline.index_on_or_after(pd.DatetimeIndex(days.reshape(-1)))
    return np.asarray(flat).reshape(days.shape)


def earnings_calendar(config: SyntheticConfig, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray) -> pd.DataFrame:
    """Earnings announcements whose known_date (partition date) lies in sessions [i0, i1).

    One announcement per symbol and fiscal quarter while it is listed: 25-45 days after the quarter
    end (rolled to a session), time of day bmo/amc/dmh, announced 4-6 weeks ahead (known_date; not
    before the symbol's first session). Names that delist before the announcement never report.
    """
    ends = _quarter_ends(timeline)
    q = (ends.year.to_numpy() * 4 + (ends.quarter.to_numpy() - 1)).astype(np.int64)
    sym = np.asarray(symbols, dtype=np.int64)
    ends64 = ends.to_numpy()[:, None]
    t_earn = _session_index(timeline, ends64 + _lag_days(config.seed, Stream.EARNINGS, 0, q, sym, EARNINGS_LAG_DAYS))
    earn_clip = np.minimum(t_earn, len(timeline) - 1)
    notice = _lag_days(config.seed, Stream.EARNINGS, 1, q, sym, EARNINGS_NOTICE_DAYS)
    t_known = _session_index(timeline, timeline.sessions.to_numpy()[earn_clip] - notice)
    t_known = np.maximum(t_known, roster.first_index[sym][None, :])
    u_time = hash_uniform(config.seed, int(Stream.EARNINGS), 2, q[:, None], sym[None, :])
    time_code = np.searchsorted(np.asarray(_TIME_CUTS), u_time, side="right")
    listed = (t_earn >= roster.first_index[sym][None, :]) & (t_earn < roster.end_index[sym][None, :])
    keep = listed & (t_earn < len(timeline)) & (t_known >= i0) & (t_known < i1)
    r, c = np.nonzero(keep)
    t, e, s = t_known[r, c], earn_clip[r, c], sym[c]
    order = np.lexsort((e, s, t))
    t, e, s, codes = t[order], e[order], s[order], time_code[r, c][order]
    return pd.DataFrame(
        {
            "date": timeline.sessions[t],
            "symbol": roster.symbols[s],
            "earnings_date": timeline.sessions[e],
            "time_of_day": np.asarray(TIMES_OF_DAY, dtype=object)[codes],
            "known_date": timeline.sessions[t],
            "_t": t,
        }
    )


def shares_outstanding(
    config: SyntheticConfig, panel: DailyPanel, timeline: Timeline, roster: Roster, i0: int, i1: int, symbols: np.ndarray
) -> pd.DataFrame:
    """Quarterly share counts whose filing session (partition date) lies in sessions [i0, i1).

    The count at a quarter end is the market's shares outstanding on the last session on or before
    it (as-traded units, so close x shares is the market value the bars imply) times a cumulative
    buyback/issuance factor (log random walk, -0.2 % +- 1 % per quarter since the origin). Filed
    30-45 days after the quarter end; date = the filing session. Only quarters ending while the
    symbol is listed and filed before it delists.
    """
    ends = _quarter_ends(timeline)
    q = (ends.year.to_numpy() * 4 + (ends.quarter.to_numpy() - 1)).astype(np.int64)
    sym = np.asarray(symbols, dtype=np.int64)
    filing_day = ends.to_numpy()[:, None] + _lag_days(config.seed, Stream.SHARES, 0, q, sym, FILING_LAG_DAYS)
    t_file = _session_index(timeline, filing_day)
    t_end = timeline.sessions.searchsorted(ends, side="right") - 1  # last session on/before the quarter end (-1 before the origin)
    n = min(panel.n_sessions, len(timeline))
    base = np.where(
        (t_end >= 0)[:, None], panel.shares[np.clip(t_end, 0, n - 1)][:, sym], roster.shares[sym][None, :]
    )
    u = np.clip(hash_uniform(config.seed, int(Stream.SHARES), 1, q[:, None], sym[None, :]), 1e-12, 1 - 1e-12)
    steps = SHARE_DRIFT_PER_QUARTER + SHARE_VOL_PER_QUARTER * ndtri(u)
    steps[0] = 0.0  # the quarter before the origin carries the roster's count
    shares = np.round(base * np.exp(np.cumsum(steps, axis=0)), -3)
    listed_date = roster.listed_date[sym].to_numpy()
    listed = (listed_date[None, :] <= ends.to_numpy()[:, None]) & (t_end[:, None] < roster.end_index[sym][None, :])
    keep = listed & (t_file < roster.end_index[sym][None, :]) & (t_file >= i0) & (t_file < i1) & (t_file < n)
    r, c = np.nonzero(keep)
    t, s = t_file[r, c], sym[c]
    order = np.lexsort((r, s, t))
    r, c, t, s = r[order], c[order], t[order], s[order]
    return pd.DataFrame(
        {
            "date": timeline.sessions[t],
            "symbol": roster.symbols[s],
            "period_end": ends[r],
            "shares_outstanding": shares[r, c],
            "filing_date": pd.DatetimeIndex(filing_day[r, c]),
            "_t": t,
        }
    )
